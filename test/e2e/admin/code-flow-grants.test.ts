/**
 * Administration of a running code flow, end to end: the upstream provider configured through the admin
 * API (a real, separate oidc-provider, test/support/upstream-op.ts), a public client registered through
 * it, an end user signing in (test/support/code-flow-driver.ts); then the refresh token and the consent
 * that flow left are listed and revoked through the admin API, and the server honours it: the revoked
 * refresh token no longer refreshes, and a revoked consent is asked for again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { type Issued, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { type CodeFlowDriver, createCodeFlowDriver } from '../../support/code-flow-driver.js';
import { startUpstreamOp, type UpstreamOp } from '../../support/upstream-op.js';

const API = 'https://api.example.com';
const REDIRECT = 'http://127.0.0.1:7000/cb';
let s: TestServer;
let op: UpstreamOp | undefined;
let ops: AdminCaller;
let device: Issued;
const drivers: CodeFlowDriver[] = [];

const handleOf = (token: string) => createHash('sha256').update(token).digest('base64url').slice(0, 16);

/** RFC 9126 PAR at the mTLS alias with the device's certificate and a new PKCE verifier. */
async function pushAuthorization(extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const pushed = await s.token(
    device,
    {
      client_id: 'mobile',
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'read',
      resource: API,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    },
    { url: `${s.mtlsUrl}/request`, chain: device.pem },
  );
  return { verifier, pushed };
}

/** PAR, the browser (sign-in upstream, consent), and the code exchanged, all with the device's self-signed certificate. */
async function signIn(): Promise<{ refreshToken: string; consentAnswered: boolean; signedInUpstream: boolean }> {
  const { verifier, pushed } = await pushAuthorization({ state: 'st' });
  expect(pushed.status, pushed.text).toBe(201);
  const d = createCodeFlowDriver({ ca: [s.pki.root.pem, op!.ca] });
  drivers.push(d);
  const outcome = await d.authorize(`${s.issuer}/auth?client_id=mobile&request_uri=${encodeURIComponent(String(pushed.body.request_uri))}`, { redirectUri: REDIRECT });
  expect(outcome.code, outcome.page?.h1 ?? outcome.error).toBeDefined();
  const tokens = await s.token(
    device,
    { grant_type: 'authorization_code', client_id: 'mobile', code: outcome.code!, redirect_uri: REDIRECT, code_verifier: verifier },
    { chain: device.pem },
  );
  expect(tokens.status, tokens.text).toBe(200);
  return { refreshToken: String(tokens.body.refresh_token), consentAnswered: outcome.consentAnswered, signedInUpstream: outcome.signedInUpstream };
}

const refresh = (token: string) => s.token(device, { grant_type: 'refresh_token', client_id: 'mobile', refresh_token: token }, { chain: device.pem });

beforeAll(async () => {
  s = await startTestServer({ serverOptions: { upstreamFetch: (...args) => op!.fetch(...args) } });
  op = await startUpstreamOp({ redirectUris: [`${s.issuer}/interaction/callback`] });
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
  device = await selfSigned({ subject: [{ CN: ['device 1'] }] });
  const upstream = await ops.call('PUT', '/admin/upstream', {
    body: {
      issuer: op.issuer,
      client_id: op.clients.basic.clientId,
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret: op.clients.basic.clientSecret,
      scope: 'openid email',
    },
  });
  expect(upstream.status, upstream.text).toBe(200);
  const client = await ops.call('POST', '/admin/clients', {
    body: {
      client_id: 'mobile',
      token_endpoint_auth_method: 'none',
      scope: 'read',
      default_resource: API,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
    },
  });
  expect(client.status, client.text).toBe(201);
}, 60_000);

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close().catch(() => {})));
  await op?.stop();
  await s?.close();
});

describe('administering a running authorization code flow', () => {
  it('PUB-3: the refresh token of a sign-in is listed by handle with the bound certificate; revoking it stops it refreshing', async () => {
    const first = await signIn();
    expect(first).toMatchObject({ signedInUpstream: true, consentAnswered: true });
    const list = await ops.call('GET', '/admin/refresh-tokens?client_id=mobile');
    expect(list.body.items).toEqual([expect.objectContaining({ handle: handleOf(first.refreshToken), user: 'alice', 'x5t#S256': x5tS256(device.der), consumed: false })]);
    expect(list.text).not.toContain(first.refreshToken);
    const revoked = await ops.call('DELETE', `/admin/refresh-tokens/${handleOf(first.refreshToken)}`);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ revoked: { handle: handleOf(first.refreshToken), user: 'alice' } });
    const after = await refresh(first.refreshToken);
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');
  });

  it("a revoked consent revokes the user's tokens at the client, and the next sign-in asks for consent again", async () => {
    const remembered = await signIn();
    expect(remembered.consentAnswered).toBe(false);
    expect((await ops.call('GET', '/admin/consents?client_id=mobile')).body.items).toEqual([expect.objectContaining({ user: 'alice', scope: expect.stringContaining('read') })]);
    const revoked = await ops.call('DELETE', '/admin/consents/mobile/alice');
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body.revoked_tokens).toBeGreaterThan(0);
    expect((await refresh(remembered.refreshToken)).body.error).toBe('invalid_grant');
    expect((await ops.call('GET', '/admin/refresh-tokens?client_id=mobile')).body.items).toEqual([]);
    const again = await signIn();
    expect(again.consentAnswered).toBe(true);
    expect((await refresh(again.refreshToken)).status).toBe(200);
  });

  it('removing the upstream provider through the admin API leaves sign-in with a page that says so', async () => {
    expect((await ops.call('DELETE', '/admin/upstream')).status).toBe(204);
    const { pushed } = await pushAuthorization();
    const d = createCodeFlowDriver({ ca: [s.pki.root.pem, op!.ca] });
    drivers.push(d);
    const outcome = await d.authorize(`${s.issuer}/auth?client_id=mobile&request_uri=${encodeURIComponent(String(pushed.body.request_uri))}`, { redirectUri: REDIRECT });
    expect(outcome.code).toBeUndefined();
    expect(outcome.page?.status).toBe(503);
    expect(outcome.page?.h1).toBeTruthy();
    expect(s.logs.some((l) => l.event === 'upstream_unavailable' && l.code === 'UPSTREAM_NOT_CONFIGURED')).toBe(true);
  });
});
