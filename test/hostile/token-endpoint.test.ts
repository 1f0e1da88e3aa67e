/**
 * Hostile corpus, the token endpoint: token request parameters (cases/token-requests.ts) and
 * private_key_jwt client assertions (cases/assertions.ts), against one real server over real mTLS.
 */
import { createHmac, KeyObject, randomUUID, sign } from 'node:crypto';
import { exportJWK } from 'jose';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIssuedToken } from '../helpers/bound-token.js';
import { httpsJson, type JsonResponse, tlsAgent } from '../helpers/net.js';
import { createTestPki, generateKeys, type Issued, selfSigned } from '../helpers/pki.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { type AssertionKit, assertionCases } from './cases/assertions.js';
import { TR_API, TR_API2, type TokenRequestKit, tokenRequestCases } from './cases/token-requests.js';
import { brief, checkTable, createTally, rows } from './lib/corpus.js';
import { closedConnection, tokenOutcome } from './lib/setup.js';

checkTable([...tokenRequestCases, ...assertionCases]);
const tally = createTally('token endpoint');
let s: TestServer;
let trKit: TokenRequestKit;
let aKit: AssertionKit;
let device: Issued;
let trCert: Issued;
const agents: Record<string, Agent> = {};

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function merge(base: Record<string, unknown>, over: Record<string, unknown | null>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

async function send(url: string, agent: Agent, options: Parameters<typeof httpsJson>[1] extends infer O ? Omit<O & object, 'agent'> : never): Promise<JsonResponse> {
  try {
    return await httpsJson(url, { agent, ...options });
  } catch (err) {
    return closedConnection(err);
  }
}

beforeAll(async () => {
  const pki = await createTestPki('Hostile Token Endpoint');
  s = await startTestServer({ pki });
  await s.admin.addResourceServer({ identifier: TR_API, scopes: ['read', 'write'] }, 'test');
  await s.admin.addResourceServer({ identifier: TR_API2, scopes: ['x'] }, 'test');
  await s.admin.addClient({ clientId: 'tr', mapping: { kind: 'subject_dn', value: 'CN=tr,O=Hostile' }, scopes: ['read'], defaultResource: TR_API }, 'test');
  await s.admin.addClient({ clientId: 'tr-none', mapping: { kind: 'subject_dn', value: 'CN=tr-none,O=Hostile' }, scopes: [], defaultResource: TR_API }, 'test');
  await s.admin.addClient(
    { clientId: 'tr-pub', publicClient: true, scopes: ['read'], defaultResource: TR_API, grantTypes: ['authorization_code'], redirectUris: ['https://x.example/cb'] },
    'test',
  );
  trCert = await pki.client({ subject: [{ O: ['Hostile'] }, { CN: ['tr'] }] });
  const noneCert = await pki.client({ subject: [{ O: ['Hostile'] }, { CN: ['tr-none'] }] });
  device = await selfSigned({ subject: [{ CN: ['pkj instance'] }] });
  Object.assign(agents, {
    tr: tlsAgent({ ca: pki.root.pem, cert: pki.chainOf(trCert), key: trCert.keyPem }),
    'tr-none': tlsAgent({ ca: pki.root.pem, cert: pki.chainOf(noneCert), key: noneCert.keyPem }),
    none: tlsAgent({ ca: pki.root.pem }),
    device: tlsAgent({ ca: pki.root.pem, cert: device.pem, key: device.keyPem }),
  });
  trKit = { adminResource: s.config.adminResource, mtlsAlias: s.mtlsUrl };

  // private_key_jwt clients: pkj (kid pkj-1) and pkj-other (kid pkj-other-1).
  const keyPair = async (kid: string) => {
    const keys = await generateKeys();
    return { key: KeyObject.from(keys.privateKey as never), jwk: { ...(await exportJWK(keys.publicKey)), kid, alg: 'ES256', use: 'sig' } };
  };
  const pkj = await keyPair('pkj-1');
  const other = await keyPair('pkj-other-1');
  const stranger = await keyPair('pkj-1');
  await s.admin.addClient({ clientId: 'pkj', privateKeyJwtJwks: JSON.stringify({ keys: [pkj.jwk] }), scopes: ['read'], defaultResource: TR_API }, 'test');
  await s.admin.addClient({ clientId: 'pkj-other', privateKeyJwtJwks: JSON.stringify({ keys: [other.jwk] }), scopes: ['read'], defaultResource: TR_API }, 'test');
  const at = await send(`${s.handle.mtlsUrl}/token`, agents.tr!, { form: { grant_type: 'client_credentials', client_id: 'tr' } });
  const now = Math.floor(Date.now() / 1000);
  const valid = () => ({ iss: 'pkj', sub: 'pkj', aud: s.issuer, jti: randomUUID(), iat: now, exp: now + 60 });
  const keys = { pkj: pkj.key, 'other-client': other.key, stranger: stranger.key };
  aKit = {
    issuer: s.issuer,
    mtlsTokenEndpoint: `${s.mtlsUrl}/token`,
    now,
    accessToken: String(at.body.access_token),
    assertion(claims = {}, header = {}, whose = 'pkj') {
      const input = `${b64(merge({ alg: 'ES256', kid: 'pkj-1' }, header))}.${b64(merge(valid(), claims))}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: keys[whose], dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    },
    hmacWithPublicKey(form) {
      const secret = form === 'jwk' ? JSON.stringify(pkj.jwk) : Buffer.from(String(pkj.jwk.x), 'base64url');
      const input = `${b64({ alg: 'HS256', kid: 'pkj-1' })}.${b64(valid())}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    },
    unsecured: () => `${b64({ alg: 'none' })}.${b64(valid())}.`,
  };
});
afterAll(async () => {
  console.log(tally.summary());
  await Promise.all(Object.values(agents).map((a) => a.close()));
  await s?.close();
});

describe('hostile corpus: token request parameters', () => {
  it.each(rows(tokenRequestCases))('%s', async (_title, c) => {
    const base = c.listener === 'main' ? s.handle.mainUrl : s.handle.mtlsUrl;
    const url = `${base}${c.path ?? '/token'}${c.query ? `?${c.query}` : ''}`;
    const raw = c.raw?.(trKit);
    const res = await send(url, agents[c.cert ?? 'tr']!, {
      ...(c.method ? { method: c.method } : {}),
      ...(c.form ? { form: c.form(trKit) } : {}),
      ...(raw ? { body: raw.body, headers: { 'content-type': raw.contentType, ...c.headers } } : c.headers ? { headers: c.headers } : {}),
    });
    if (c.acceptedWhen) return tally.judge(c, { status: res.status, accepted: c.acceptedWhen(res.body, res.status), detail: brief(res.body, res.text) });
    const outcome = tokenOutcome(res, c.listener === 'main' ? undefined : (c.cert ?? 'tr') === 'tr' ? trCert.der : undefined, {
      httpRefusal: c.method !== undefined && c.method !== 'POST',
    });
    if (outcome.accepted && c.scopeIs !== undefined) expect(res.body.scope, 'the token carries exactly the scopes the client holds').toBe(c.scopeIs);
    if (!outcome.accepted && res.status > 0 && res.status < 500 && c.refusal) {
      if (c.refusal.error) expect(c.refusal.error, brief(res.body, res.text)).toContain(res.body.error);
      if (c.refusal.descriptionContains) expect(String(res.body.error_description), 'the description names the mTLS alias').toContain(c.refusal.descriptionContains(trKit));
    }
    tally.judge(c, outcome);
  });
});

describe('hostile corpus: private_key_jwt client assertions', () => {
  it.each(rows(assertionCases))('%s', async (_title, c) => {
    const url = `${s.handle.mtlsUrl}/token`;
    const agent = c.noCertificate ? agents.none! : agents.device!;
    if (c.before) {
      const first = await send(url, agent, { form: { grant_type: 'client_credentials', client_id: 'pkj', ...c.before(aKit) } });
      expect(first.status, `the first use is accepted: ${brief(first.body, first.text)}`).toBe(200);
      await expectIssuedToken(s, first, { clientId: 'pkj', presented: c.noCertificate ? null : device, scopes: ['read'], aud: TR_API });
    }
    const res = await send(url, agent, { form: { grant_type: 'client_credentials', client_id: 'pkj', ...c.form(aKit) } });
    tally.judge(c, tokenOutcome(res, device.der));
  });
});
