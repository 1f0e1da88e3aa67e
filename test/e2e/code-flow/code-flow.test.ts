/**
 * The authorization code flow end to end over real TLS and a real database: PAR on the mTLS listener,
 * PKCE (S256), the end user signing in at a real upstream OpenID Provider (a separate oidc-provider
 * instance, test/support/upstream-op.ts) through a cookie-jar user agent (test/support/code-flow-driver.ts),
 * consent remembered in SQL, and the tokens bound to the certificate presented at the token endpoint
 * (RFC 8705 §3), refresh tokens too for a public client (§4).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { clients, consents, refreshTokens, upstreamProviders } from '../../../src/store/index.js';
import { sqlOf } from '../../../src/store/sql.js';
import { httpsJson, type JsonResponse } from '../../helpers/net.js';
import { type Issued, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { type CodeFlowDriver, createCodeFlowDriver } from '../../support/code-flow-driver.js';
import { startUpstreamOp, type UpstreamOp } from '../../support/upstream-op.js';

const API = 'https://api.example.com';
const OPAQUE_API = 'https://orders.example.com';
const REDIRECT = 'https://app.example.com/cb';
const CODE_GRANTS = ['authorization_code', 'refresh_token'];
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let s: TestServer;
let op: UpstreamOp | undefined;
let web: Issued;
let mobile: Issued;
const drivers: CodeFlowDriver[] = [];

function driver(): CodeFlowDriver {
  const d = createCodeFlowDriver({ ca: [s.pki.root.pem, op!.ca] });
  drivers.push(d);
  return d;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Registers a code-flow client through the admin use cases: tls_client_auth with a SAN mapping, or public (`none`). */
async function addCodeClient(clientId: string, options: { public?: boolean; requirePar?: boolean; dns?: string } = {}): Promise<void> {
  await s.admin.addClient(
    {
      clientId,
      ...(options.public ? { publicClient: true } : { mapping: { kind: 'san_dns', value: options.dns ?? `${clientId}.example.com` } }),
      scopes: ['read', 'write'],
      defaultResource: API,
      grantTypes: CODE_GRANTS,
      redirectUris: [REDIRECT],
      requirePar: options.requirePar !== false,
    },
    'test',
  );
}

interface FlowClient {
  clientId: string;
  cert: Issued;
  /** The chain the client sends (a self-signed certificate alone). */
  chain?: string;
}

/** RFC 9126 PAR at the mTLS alias with PKCE; returns the request_uri response. */
async function par(c: FlowClient, params: Record<string, string> = {}, challenge = pkce()): Promise<JsonResponse & { verifier: string }> {
  const form = {
    client_id: c.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'read',
    resource: API,
    code_challenge: challenge.challenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    ...params,
  };
  for (const [k, v] of Object.entries(form)) if (v === '') delete (form as Record<string, string>)[k];
  const res = await s.token(c.cert, form, { url: `${s.mtlsUrl}/request`, ...(c.chain ? { chain: c.chain } : {}) });
  return { ...res, verifier: challenge.verifier };
}

const authorizeUrl = (clientId: string, requestUri: string) => `${s.issuer}/auth?client_id=${encodeURIComponent(clientId)}&request_uri=${encodeURIComponent(requestUri)}`;

/**
 * The browser from the authorization URL through the upstream login (alice signs in) up to, not into,
 * certbound's sign-in callback: the callback URL the upstream sent the browser to.
 */
async function upToCallback(d: CodeFlowDriver, requestUri: string): Promise<URL> {
  let page = await d.get(authorizeUrl('web', requestUri));
  for (let i = 0; i < 12 && page.status >= 300 && page.status < 400; i++) page = await d.get(new URL(String(page.headers.location), page.url));
  const action = /action="([^"]+)"/.exec(page.html)![1]!;
  page = await d.post(new URL(action, page.url), { login: 'alice', password: 'wonderland' });
  for (let i = 0; i < 12 && page.status >= 300 && page.status < 400 && new URL(String(page.headers.location), page.url).origin !== s.issuer; i++)
    page = await d.get(new URL(String(page.headers.location), page.url));
  return new URL(String(page.headers.location), page.url);
}

/** PAR, the browser flow (sign-in, consent), then the code at the token endpoint. */
async function fullFlow(c: FlowClient, d = driver(), options: { decision?: 'allow' | 'deny' } = {}) {
  const pushed = await par(c);
  expect(pushed.status, pushed.text).toBe(201);
  const outcome = await d.authorize(authorizeUrl(c.clientId, String(pushed.body.request_uri)), { redirectUri: REDIRECT, ...options });
  return { outcome, verifier: pushed.verifier };
}

async function exchange(c: FlowClient, code: string, verifier: string, extra: Record<string, string> = {}) {
  return s.token(
    c.cert,
    { grant_type: 'authorization_code', client_id: c.clientId, code, redirect_uri: REDIRECT, code_verifier: verifier, ...extra },
    c.chain ? { chain: c.chain } : {},
  );
}

/** A refresh with the client's own certificate. */
async function refresh(c: FlowClient, token: string) {
  return s.token(c.cert, { grant_type: 'refresh_token', client_id: c.clientId, refresh_token: token }, c.chain ? { chain: c.chain } : {});
}

async function introspect(c: FlowClient, token: string) {
  return httpsJson(`${s.mtlsUrl}/token/introspection`, { agent: s.agent(c.cert, c.chain), form: { token, client_id: c.clientId } });
}

async function countRows(model: string): Promise<number> {
  const [row] = await sqlOf(s.database.db).all<{ n: number | string }>('select count(*) as n from oidc_payloads where model = ?', [model]);
  return Number(row?.n ?? 0);
}

async function jwks() {
  return createLocalJWKSet((await httpsJson(`${s.handle.mainUrl}/jwks`, { agent: s.agent() })).body as never);
}

const WEB: FlowClient = { clientId: 'web', cert: undefined as unknown as Issued };

beforeAll(async () => {
  s = await startTestServer({ serverOptions: { upstreamFetch: (...args) => op!.fetch(...args) } });
  op = await startUpstreamOp({ redirectUris: [`${s.issuer}/interaction/callback`] });
  await upstreamProviders.put(s.database.db, op.providerRow('client_secret_basic'), undefined);
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  await s.admin.addResourceServer({ identifier: OPAQUE_API, scopes: ['read'], tokenFormat: 'opaque', ttl: 300 }, 'test');
  await addCodeClient('web');
  // The consent page names the client by its client_name.
  const webRecord = (await clients.find(s.database.db, 'web'))!;
  await clients.update(s.database.db, 'web', { metadata: { ...webRecord.metadata, client_name: 'Web Shop' } });
  web = await s.pki.client({ subject: [{ CN: ['web'] }], san: [{ type: 'dns', value: 'web.example.com' }] });
  WEB.cert = web;
  mobile = await selfSigned({ subject: [{ CN: ['mobile instance 1'] }] });
}, 60_000);

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close().catch(() => {})));
  await op?.stop();
  await s?.close();
});

describe('authorization code flow: confidential client (tls_client_auth) with PAR', () => {
  it('BT-1/AL-4: PAR at the mTLS alias, sign-in upstream, consent naming client, resource and scopes, iss in the response, a certificate-bound token for the upstream sub', async () => {
    const d = driver();
    const pushed = await par(WEB);
    expect(pushed.status, pushed.text).toBe(201);
    expect(String(pushed.body.request_uri)).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    // The consent page, as a browser sees it (the driver answers it in the flow below).
    const url = authorizeUrl('web', String(pushed.body.request_uri));
    const outcome = await d.authorize(url, { redirectUri: REDIRECT });
    expect(outcome.page?.html, outcome.visited.join(' → ')).toBeUndefined();
    expect(outcome.signedInUpstream).toBe(true);
    expect(outcome.consentAnswered).toBe(true);
    expect(outcome.iss).toBe(s.issuer);
    expect(outcome.state).toBe('st-1');
    expect(outcome.code).toBeTruthy();
    // Every page of the flow on certbound was on the main listener.
    for (const visited of outcome.visited.filter((v) => v.startsWith('https://localhost'))) expect(visited.startsWith(s.issuer)).toBe(true);

    const res = await exchange(WEB, outcome.code!, pushed.verifier);
    expect(res.status, res.text).toBe(200);
    expect(res.body.refresh_token).toBeTruthy();
    expect(res.body.id_token).toBeUndefined();
    const { payload } = await jwtVerify(String(res.body.access_token), await jwks(), { issuer: s.issuer, audience: API });
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'web', scope: 'read', cnf: { 'x5t#S256': x5tS256(web.der) } });
    // The refresh token records the certificate's thumbprint in SQL.
    const stored = await refreshTokens.list(s.database.db, { clientId: 'web', accountId: 'alice' });
    expect(stored.map((r) => r.x5tS256)).toContain(x5tS256(web.der));
    expect(await consents.find(s.database.db, 'alice', 'web')).toMatchObject({ scopes: ['read'], resources: [API] });
  });

  it('the consent page names the client, the resource and the scopes, with a strict CSP, an anti-CSRF field and allow/deny', async () => {
    await consents.remove(s.database.db, 'alice', 'web');
    const d = driver();
    const pushed = await par(WEB, { scope: 'read write' });
    let page = await d.get(authorizeUrl('web', String(pushed.body.request_uri)));
    // Follow to the upstream, sign in, and come back to certbound's consent page.
    for (let i = 0; i < 12 && page.status >= 300 && page.status < 400; i++) page = await d.get(new URL(String(page.headers.location), page.url));
    expect(page.html).toContain('name="login"');
    const form = new URLSearchParams({ login: 'alice', password: 'wonderland' });
    const action = /action="([^"]+)"/.exec(page.html)![1]!;
    page = await d.post(new URL(action, page.url), form);
    for (let i = 0; i < 12 && page.status >= 300 && page.status < 400; i++) page = await d.get(new URL(String(page.headers.location), page.url));
    expect(page.status).toBe(200);
    expect(page.url.origin).toBe(s.issuer);
    expect(page.h1).toBe('Allow access?');
    expect(page.html).toContain('Web Shop');
    expect(page.html).toContain(API);
    expect(page.html).toMatch(/<code>read<\/code>, <code>write<\/code>/);
    expect(page.html).toContain('name="decision" value="allow"');
    expect(page.html).toContain('name="decision" value="deny"');
    expect(page.html).toMatch(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{20,}">/);
    expect(String(page.headers['content-security-policy'])).toMatch(
      /^default-src 'none'; style-src 'sha256-[^']+'; form-action 'self' https:\/\/app\.example\.com; frame-ancestors 'none'/,
    );
    expect(page.html).not.toMatch(/<script|https?:\/\/(?!api\.example\.com)/);
    // oidc-provider's cookies on certbound (interaction, session) are signed.
    const names = (await d.jar.getCookies(page.url.href)).map((c) => c.key);
    expect(names).toEqual(expect.arrayContaining(['_interaction', '_interaction.sig', '_session', '_session.sig']));
    // A post without the anti-CSRF value is refused with a page, and nothing is remembered.
    const consentAction = new URL(/action="([^"]+)"/.exec(page.html)![1]!, page.url);
    const forged = await d.post(consentAction, { decision: 'allow' });
    expect(forged.status).toBe(403);
    expect(forged.h1).toBe('The consent form was not accepted');
    expect(await consents.find(s.database.db, 'alice', 'web')).toBeUndefined();
  });

  it('IC-8: after its certificate rotation a confidential client refreshes with the new certificate; the new tokens and the rotated refresh token record it', async () => {
    const { outcome, verifier } = await fullFlow(WEB);
    const first = await exchange(WEB, outcome.code!, verifier);
    expect(first.status, first.text).toBe(200);
    const rotated = await s.pki.client({ subject: [{ CN: ['web (rotated)'] }], san: [{ type: 'dns', value: 'web.example.com' }] });
    const res = await s.token(rotated, { grant_type: 'refresh_token', client_id: 'web', refresh_token: String(first.body.refresh_token) });
    expect(res.status, res.text).toBe(200);
    const { payload } = await jwtVerify(String(res.body.access_token), await jwks(), { issuer: s.issuer, audience: API });
    expect(payload.cnf).toEqual({ 'x5t#S256': x5tS256(rotated.der) });
    expect(res.body.refresh_token).not.toBe(first.body.refresh_token);
    const stored = await refreshTokens.find(s.database.db, String(res.body.refresh_token));
    expect(stored?.x5tS256).toBe(x5tS256(rotated.der));
    // Rotation: the used refresh token is spent; presenting it again is refused.
    const again = await s.token(rotated, { grant_type: 'refresh_token', client_id: 'web', refresh_token: String(first.body.refresh_token) });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it('code replay: the second exchange is refused and the tokens of the first are revoked, access token and refresh token (RFC 6749 §4.1.2)', async () => {
    // Opaque access tokens, so that their revocation is visible at introspection (a JWT stays valid until its exp).
    const d = driver();
    const pushed = await par(WEB, { resource: OPAQUE_API });
    expect(pushed.status, pushed.text).toBe(201);
    const outcome = await d.authorize(authorizeUrl('web', String(pushed.body.request_uri)), { redirectUri: REDIRECT });
    const first = await exchange(WEB, outcome.code!, pushed.verifier);
    expect(first.status, first.text).toBe(200);
    const access = String(first.body.access_token);
    expect(access.split('.').length).not.toBe(3);
    expect((await introspect(WEB, access)).body).toMatchObject({ active: true, sub: 'alice', aud: OPAQUE_API, cnf: { 'x5t#S256': x5tS256(web.der) } });
    expect((await introspect(WEB, String(first.body.refresh_token))).body.active).toBe(true);
    const replay = await exchange(WEB, outcome.code!, pushed.verifier);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(replay.body.access_token).toBeUndefined();
    expect((await introspect(WEB, access)).body).toEqual({ active: false });
    expect((await introspect(WEB, String(first.body.refresh_token))).body).toEqual({ active: false });
    const reuse = await refresh(WEB, String(first.body.refresh_token));
    expect(reuse.body.error).toBe('invalid_grant');
  });
});

describe('single use under concurrency', () => {
  it('a refresh token presented by two requests at once: exactly one gets tokens; the other is refused as a replay and the grant is revoked (RFC 6749 §10.4)', async () => {
    const { outcome, verifier } = await fullFlow(WEB);
    const first = await exchange(WEB, outcome.code!, verifier);
    expect(first.status, first.text).toBe(200);
    const token = String(first.body.refresh_token);
    const answers = await Promise.all([refresh(WEB, token), refresh(WEB, token)]);
    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status !== 200);
    expect(won, answers.map((a) => a.text).join('\n')).toHaveLength(1);
    expect(lost[0]!.status).toBe(400);
    expect(lost[0]!.body.error).toBe('invalid_grant');
    expect(lost[0]!.body.access_token).toBeUndefined();
    // The winner's refresh token went with the grant: the token was replayed.
    const next = String(won[0]!.body.refresh_token);
    expect((await introspect(WEB, next)).body).toEqual({ active: false });
    expect((await refresh(WEB, next)).body.error).toBe('invalid_grant');
  });

  it('a refresh marks the presented token used and stores exactly one successor, unused', async () => {
    const { outcome, verifier } = await fullFlow(WEB);
    const first = await exchange(WEB, outcome.code!, verifier);
    const token = String(first.body.refresh_token);
    const before = await countRows('RefreshToken');
    const res = await refresh(WEB, token);
    expect(res.status, res.text).toBe(200);
    expect(await countRows('RefreshToken')).toBe(before + 1);
    expect((await refreshTokens.find(s.database.db, token))?.consumed).toBe(true);
    expect((await refreshTokens.find(s.database.db, String(res.body.refresh_token)))?.consumed).toBe(false);
  });

  it('a code exchanged by two requests at once: exactly one gets tokens, the other is refused and the tokens issued from the code are revoked (RFC 6749 §4.1.2)', async () => {
    const { outcome, verifier } = await fullFlow(WEB);
    const answers = await Promise.all([exchange(WEB, outcome.code!, verifier), exchange(WEB, outcome.code!, verifier)]);
    const won = answers.filter((a) => a.status === 200);
    expect(won, answers.map((a) => a.text).join('\n')).toHaveLength(1);
    const lost = answers.find((a) => a.status !== 200)!;
    expect(lost.body.error).toBe('invalid_grant');
    expect(lost.body.access_token).toBeUndefined();
    expect((await introspect(WEB, String(won[0]!.body.refresh_token))).body).toEqual({ active: false });
  });
});

describe('authorization code flow: public client (none) over mTLS', () => {
  const MOBILE: FlowClient = { clientId: 'mobile', cert: undefined as unknown as Issued };
  beforeAll(async () => {
    await addCodeClient('mobile', { public: true });
    MOBILE.cert = mobile;
    MOBILE.chain = mobile.pem;
  });

  it('PUB-1/PUB-2/PUB-3: a self-signed certificate (no mapping, no trust anchor) binds the access token and the refresh token; a refresh with it works and rotates', async () => {
    const { outcome, verifier } = await fullFlow(MOBILE);
    expect(outcome.code, outcome.page?.html).toBeTruthy();
    const res = await exchange(MOBILE, outcome.code!, verifier);
    expect(res.status, res.text).toBe(200);
    const { payload } = await jwtVerify(String(res.body.access_token), await jwks(), { issuer: s.issuer, audience: API });
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'mobile', cnf: { 'x5t#S256': x5tS256(mobile.der) } });
    const stored = await refreshTokens.find(s.database.db, String(res.body.refresh_token));
    expect(stored?.x5tS256).toBe(x5tS256(mobile.der));
    const refreshed = await refresh(MOBILE, String(res.body.refresh_token));
    expect(refreshed.status, refreshed.text).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(res.body.refresh_token);
    expect((await refreshTokens.find(s.database.db, String(refreshed.body.refresh_token)))?.x5tS256).toBe(x5tS256(mobile.der));
  });

  it('PUB-3/IC-8: a refresh with another certificate, or with none, is refused with invalid_grant and a ref; nothing is issued and the refusal is logged', async () => {
    const { outcome, verifier } = await fullFlow(MOBILE);
    const res = await exchange(MOBILE, outcome.code!, verifier);
    expect(res.status, res.text).toBe(200);
    const token = String(res.body.refresh_token);
    const other = await selfSigned({ subject: [{ CN: ['mobile instance 2'] }] });
    const [accessBefore, refreshBefore] = [await countRows('AccessToken'), await countRows('RefreshToken')];

    const withOther = await s.token(other, { grant_type: 'refresh_token', client_id: 'mobile', refresh_token: token }, { chain: other.pem });
    expect(withOther.status).toBe(400);
    expect(withOther.body.error).toBe('invalid_grant');
    expect(withOther.body.access_token).toBeUndefined();
    const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(withOther.body.error_description))?.[1];
    expect(ref, String(withOther.body.error_description)).toBeTruthy();
    expect(s.logs.find((l) => l.event === 'token_binding_refused' && l.ref === ref)).toMatchObject({
      reason: 'REFRESH_CERT_MISMATCH',
      client_id: 'mobile',
      x5t: x5tS256(other.der),
    });

    // No certificate: the main listener asks for none.
    const withNone = await httpsJson(`${s.handle.mainUrl}/token`, { agent: s.agent(), form: { grant_type: 'refresh_token', client_id: 'mobile', refresh_token: token } });
    expect(withNone.status).toBe(400);
    expect(withNone.body.error).toBe('invalid_grant');
    expect(withNone.body.access_token).toBeUndefined();
    const refNone = /\(ref ([0-9a-f]{8})\)/.exec(String(withNone.body.error_description))?.[1];
    expect(s.logs.find((l) => l.event === 'token_binding_refused' && l.ref === refNone)).toMatchObject({ reason: 'REFRESH_CERT_NOT_PRESENTED', client_id: 'mobile' });

    expect([await countRows('AccessToken'), await countRows('RefreshToken')]).toEqual([accessBefore, refreshBefore]);
    // The refresh token was not spent by the refused attempts: its own certificate still refreshes.
    expect((await refresh(MOBILE, token)).status).toBe(200);
  });

  it('a public client must present a certificate at the token endpoint: the code is not exchanged for an unbound token', async () => {
    const { outcome, verifier } = await fullFlow(MOBILE);
    const res = await httpsJson(`${s.handle.mainUrl}/token`, {
      agent: s.agent(),
      form: { grant_type: 'authorization_code', client_id: 'mobile', code: outcome.code!, redirect_uri: REDIRECT, code_verifier: verifier },
    });
    expect(res.status).toBe(400);
    expect(res.body.access_token).toBeUndefined();
  });
});

describe('authorization code flow: confidential client (private_key_jwt)', () => {
  it('BT-2: PAR and the token request authenticate with client assertions (audience: the PAR alias, then the token alias); the token is bound to the connection certificate', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'agent-1', use: 'sig', alg: 'ES256' };
    await s.admin.addClient(
      { clientId: 'agent', privateKeyJwtJwks: JSON.stringify({ keys: [jwk] }), scopes: ['read'], defaultResource: API, grantTypes: CODE_GRANTS, redirectUris: [REDIRECT] },
      'test',
    );
    const assertion = (aud: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'agent-1' })
        .setIssuer('agent')
        .setSubject('agent')
        .setAudience(aud)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(pair.privateKey);
    const instance = await selfSigned({ subject: [{ CN: ['agent instance'] }] });
    const agent: FlowClient = { clientId: 'agent', cert: instance, chain: instance.pem };
    const pushed = await par(agent, { client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(`${s.mtlsUrl}/request`) });
    expect(pushed.status, pushed.text).toBe(201);
    const outcome = await driver().authorize(authorizeUrl('agent', String(pushed.body.request_uri)), { redirectUri: REDIRECT });
    expect(outcome.code, outcome.page?.html).toBeTruthy();
    const res = await exchange(agent, outcome.code!, pushed.verifier, { client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(`${s.mtlsUrl}/token`) });
    expect(res.status, res.text).toBe(200);
    const { payload } = await jwtVerify(String(res.body.access_token), await jwks(), { issuer: s.issuer, audience: API });
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'agent', cnf: { 'x5t#S256': x5tS256(instance.der) } });
  });
});

describe('authorization request rules', () => {
  it('PKCE is required: a PAR without code_challenge, or with plain, is refused; a wrong code_verifier gets no token', async () => {
    const missing = await par(WEB, { code_challenge: '', code_challenge_method: '' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    expect(String(missing.body.error_description)).toMatch(/PKCE/);
    const verifier = randomBytes(32).toString('base64url');
    const plain = await par(WEB, { code_challenge: verifier, code_challenge_method: 'plain' });
    expect(plain.status).toBe(400);
    expect(plain.body.error).toBe('invalid_request');
    const { outcome } = await fullFlow(WEB);
    const wrong = await exchange(WEB, outcome.code!, randomBytes(32).toString('base64url'));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    expect(wrong.body.access_token).toBeUndefined();
  });

  it('PAR is required where registered: an authorization request without it gets invalid_request at the redirect URI, and no code', async () => {
    const { challenge } = pkce();
    const d = driver();
    const q = new URLSearchParams({
      client_id: 'web',
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'read',
      resource: API,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const outcome = await d.authorize(`${s.issuer}/auth?${q}`, { redirectUri: REDIRECT });
    expect(outcome.code).toBeUndefined();
    expect(outcome.signedInUpstream).toBe(false);
    // The redirect_uri is the registered one, so the error goes back to the client (with iss).
    expect(outcome.error).toBe('invalid_request');
    expect(outcome.errorDescription).toBe('Pushed Authorization Request must be used');
    expect(outcome.iss).toBe(s.issuer);
  });

  it('redirect_uri mismatch: an error page that says so, never a redirect', async () => {
    await addCodeClient('spa', { requirePar: false, public: true });
    const { challenge } = pkce();
    const d = driver();
    for (const uri of ['https://evil.example/cb', `${REDIRECT}/`, `${REDIRECT}?x=1`]) {
      const q = new URLSearchParams({
        client_id: 'spa',
        response_type: 'code',
        redirect_uri: uri,
        scope: 'read',
        resource: API,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const page = await d.get(`${s.issuer}/auth?${q}`);
      expect(page.status, uri).toBe(400);
      expect(page.headers.location, uri).toBeUndefined();
      expect(page.h1).toBe('The application sent a request this server refuses');
      expect(page.html).toContain('redirect_uri');
      expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
    }
    // An unknown client: a page too.
    const page = await d.get(`${s.issuer}/auth?client_id=nobody&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    expect(page.status).toBe(400);
    expect(page.headers.location).toBeUndefined();
  });

  it('AL-3: a certificate-authenticated client that pushes its request to the main listener is told to use the PAR alias', async () => {
    const { challenge } = pkce();
    const res = await httpsJson(`${s.handle.mainUrl}/request`, {
      agent: s.agent(),
      form: { client_id: 'web', response_type: 'code', redirect_uri: REDIRECT, scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' },
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(String(res.body.error_description)).toContain(`${s.mtlsUrl}/request`);
  });

  it('AL-4: the authorization endpoint and the sign-in pages are on the main listener only; PAR has its mTLS alias', async () => {
    const onMtls = await httpsJson(`${s.mtlsUrl}/auth?client_id=web&response_type=code`, { agent: s.agent(web) });
    expect(onMtls.status).toBe(404);
    expect(onMtls.text).toContain(s.issuer);
    const m = (await httpsJson(`${s.handle.mainUrl}/.well-known/oauth-authorization-server`, { agent: s.agent() })).body;
    expect(m.authorization_endpoint).toBe(`${s.issuer}/auth`);
    expect(m.mtls_endpoint_aliases).not.toHaveProperty('authorization_endpoint');
    expect((m.mtls_endpoint_aliases as Record<string, string>).pushed_authorization_request_endpoint).toBe(`${s.mtlsUrl}/request`);
  });
});

describe('sign-in and consent', () => {
  it('upstream down: a page that says sign-in is unavailable, and no code', async () => {
    const d = driver();
    const pushed = await par(WEB);
    // The browser reaches the upstream login page and signs in; the upstream goes down before certbound
    // completes the sign-in at its token endpoint.
    const callback = await upToCallback(d, String(pushed.body.request_uri));
    expect(callback.pathname).toBe('/interaction/callback');
    await op!.down();
    try {
      const down = await d.get(callback);
      expect(down.status).toBeGreaterThanOrEqual(502);
      expect(down.h1).toBe('Sign-in is unavailable');
      expect(down.headers.location).toBeUndefined();
      expect(String(down.headers['content-security-policy'])).toContain("default-src 'none'");
      expect(down.html).toMatch(/Reference: <code>[0-9a-f]{8}<\/code>/);
    } finally {
      await op!.up();
    }
  });

  it('upstream not configured: a page that says so', async () => {
    const row = await upstreamProviders.find(s.database.db, undefined);
    await upstreamProviders.remove(s.database.db);
    try {
      const d = driver();
      const pushed = await par(WEB);
      const outcome = await d.authorize(authorizeUrl('web', String(pushed.body.request_uri)), { redirectUri: REDIRECT });
      expect(outcome.code).toBeUndefined();
      expect(outcome.page?.status).toBe(503);
      expect(outcome.page?.h1).toBe('Sign-in is unavailable');
    } finally {
      await upstreamProviders.put(s.database.db, row!, undefined);
    }
  });

  it('an unknown interaction, a callback with an unknown state, and a callback in another browser each get a page, and sign no one in', async () => {
    const d = driver();
    const unknown = await d.get(`${s.issuer}/interaction/nope`);
    expect([unknown.status, unknown.h1]).toEqual([400, 'This sign-in has expired']);
    const noState = await d.get(`${s.issuer}/interaction/callback?code=x&state=unknown`);
    expect([noState.status, noState.h1]).toEqual([400, 'This sign-in has expired']);
    // A sign-in started in one browser, its callback opened in another (login CSRF): refused.
    const pushed = await par(WEB);
    const callback = await upToCallback(d, String(pushed.body.request_uri));
    const other = await driver().get(callback);
    expect(other.status).toBe(400);
    expect(other.html).toContain('another browser');
    expect(other.headers.location).toBeUndefined();
  });

  it('a denied consent sends access_denied (with iss) to the redirect URI, remembers nothing and issues nothing', async () => {
    await addCodeClient('kiosk');
    const kiosk = await s.pki.client({ subject: [{ CN: ['kiosk'] }], san: [{ type: 'dns', value: 'kiosk.example.com' }] });
    const { outcome } = await fullFlow({ clientId: 'kiosk', cert: kiosk }, driver(), { decision: 'deny' });
    expect(outcome.consentAnswered).toBe(true);
    expect(outcome.error).toBe('access_denied');
    expect(outcome.iss).toBe(s.issuer);
    expect(outcome.code).toBeUndefined();
    expect(await consents.find(s.database.db, 'alice', 'kiosk')).toBeUndefined();
  });

  it('consent is remembered per user and client: a second authorization asks no more; a revoked consent asks again', async () => {
    await addCodeClient('portal');
    const portal: FlowClient = { clientId: 'portal', cert: await s.pki.client({ subject: [{ CN: ['portal'] }], san: [{ type: 'dns', value: 'portal.example.com' }] }) };
    const d = driver();
    const first = await fullFlow(portal, d);
    expect(first.outcome.consentAnswered).toBe(true);
    expect(first.outcome.code).toBeTruthy();
    const second = await fullFlow(portal, d);
    expect(second.outcome.consentAnswered).toBe(false);
    expect(second.outcome.code).toBeTruthy();
    // A new browser signs in again, and still is not asked: the consent is the user's, not the session's.
    const third = await fullFlow(portal);
    expect(third.outcome.signedInUpstream).toBe(true);
    expect(third.outcome.consentAnswered).toBe(false);
    expect(await consents.remove(s.database.db, 'alice', 'portal')).toBe(1);
    const afterRevoke = await fullFlow(portal, d);
    expect(afterRevoke.outcome.consentAnswered).toBe(true);
    expect(afterRevoke.outcome.code).toBeTruthy();
    expect((await exchange(portal, afterRevoke.outcome.code!, afterRevoke.verifier)).status).toBe(200);
  });

  it('a request for more scopes than consented asks for the new ones only', async () => {
    const portal: FlowClient = { clientId: 'portal', cert: await s.pki.client({ subject: [{ CN: ['portal'] }], san: [{ type: 'dns', value: 'portal.example.com' }] }) };
    const d = driver();
    const pushed = await par(portal, { scope: 'read write' });
    const outcome = await d.authorize(authorizeUrl('portal', String(pushed.body.request_uri)), { redirectUri: REDIRECT });
    expect(outcome.consentAnswered).toBe(true);
    const res = await exchange(portal, outcome.code!, pushed.verifier);
    expect(res.body.scope).toBe('read write');
    expect((await consents.find(s.database.db, 'alice', 'portal'))?.scopes.sort()).toEqual(['read', 'write']);
  });

  it('a scope an administrator takes from the client is left out of the tokens of later refreshes', async () => {
    await addCodeClient('reader');
    const reader: FlowClient = { clientId: 'reader', cert: await s.pki.client({ subject: [{ CN: ['reader'] }], san: [{ type: 'dns', value: 'reader.example.com' }] }) };
    const pushed = await par(reader, { scope: 'read write' });
    const outcome = await driver().authorize(authorizeUrl('reader', String(pushed.body.request_uri)), { redirectUri: REDIRECT });
    const first = await exchange(reader, outcome.code!, pushed.verifier);
    expect(first.body.scope).toBe('read write');
    await s.admin.updateClient('reader', { scopes: ['read'] }, 'test');
    const refreshed = await refresh(reader, String(first.body.refresh_token));
    expect(refreshed.status, refreshed.text).toBe(200);
    const { payload } = await jwtVerify(String(refreshed.body.access_token), await jwks(), { issuer: s.issuer, audience: API });
    expect(payload.scope).toBe('read');
  });

  it('a code-flow request without scope is refused: the user consents to named scopes, never to everything the client holds', async () => {
    const res = await par(WEB, { scope: '' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    expect(String(res.body.error_description)).toContain('read write');
  });
});
