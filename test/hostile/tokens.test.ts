/**
 * Hostile corpus, access tokens: real and forged tokens presented to certbound/verifier in a real
 * resource server over mTLS, and to certbound's introspection endpoint.
 */
import { createHmac, createPrivateKey, createPublicKey, KeyObject, sign } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, exportJWK } from 'jose';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { signingKeys } from '../../src/store/signing-keys.js';
import { createVerifier, type Verifier } from '../../src/verifier/index.js';
import { httpsJson, tlsAgent } from '../helpers/net.js';
import { createTestPki, generateKeys, type Issued, selfSigned } from '../helpers/pki.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { introspectionCases, rsTokenCases, type TokenKit } from './cases/tokens.js';
import { brief, checkTable, createTally, rows } from './lib/corpus.js';

const API = 'https://api.hostile.example';
const OPAQUE = 'https://opaque.hostile.example';
checkTable([...rsTokenCases, ...introspectionCases]);
const tally = createTally('access tokens');
let s: TestServer;
let rs: Server;
let verifier: Verifier;
let rsUrl: string;
let kit: TokenKit & { opaque: string };
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

beforeAll(async () => {
  const pki = await createTestPki('Hostile Tokens');
  s = await startTestServer({ pki });
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  await s.admin.addResourceServer({ identifier: OPAQUE, scopes: ['read'], tokenFormat: 'opaque' }, 'test');
  await s.admin.addClient({ clientId: 'tk-app', mapping: { kind: 'subject_dn', value: 'CN=tk-app,O=Hostile' }, scopes: ['read'], defaultResource: API }, 'test');
  await s.admin.addClient({ clientId: 'tk-stranger', mapping: { kind: 'subject_dn', value: 'CN=tk-stranger,O=Hostile' }, scopes: ['read'], defaultResource: API }, 'test');
  const client = await pki.client({ subject: [{ O: ['Hostile'] }, { CN: ['tk-app'] }] });
  const stranger = await pki.client({ subject: [{ O: ['Hostile'] }, { CN: ['tk-stranger'] }] });
  const other = await pki.client({ subject: [{ O: ['Hostile'] }, { CN: ['someone else'] }] });
  const agentOf = (c?: Issued) => tlsAgent({ ca: pki.root.pem, ...(c ? { cert: pki.chainOf(c), key: c.keyPem } : {}) });
  Object.assign(agents, { client: agentOf(client), other: agentOf(other), none: agentOf(), stranger: agentOf(stranger) });

  const issue = async (resource: string) => {
    const res = await httpsJson(`${s.handle.mtlsUrl}/token`, { agent: agents.client!, form: { grant_type: 'client_credentials', client_id: 'tk-app', resource, scope: 'read' } });
    if (res.status !== 200) throw new Error(`no token: ${res.status} ${res.text}`);
    return String(res.body.access_token);
  };
  const real = await issue(API);
  const opaque = await issue(OPAQUE);
  const [active] = await signingKeys.list(s.database.db, undefined);
  const key = createPrivateKey({ key: active!.privateJwk as never, format: 'jwk' });
  const strangerKeys = await generateKeys();
  const strangerCert = await selfSigned({ subject: [{ CN: ['forger'] }], keys: strangerKeys });
  const strangerJwk = await exportJWK(strangerKeys.publicKey);
  const header = decodeProtectedHeader(real) as Record<string, unknown>;
  const claims = decodeJwt(real) as Record<string, unknown>;
  // Signed by hand (ES256, JWS compact): a JOSE library would refuse to produce most of these headers.
  const jws = async (payload: Record<string, unknown>, h: Record<string, unknown>, k: KeyObject) => {
    const input = `${b64(h)}.${b64(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const strangerKey = KeyObject.from(strangerKeys.privateKey as never);
  const now = Math.floor(Date.now() / 1000);
  const fresh = { iat: now, exp: now + 600 };
  kit = {
    real,
    opaque,
    claims,
    header,
    x5t: x5tS256(client.der),
    otherX5t: x5tS256(other.der),
    now,
    sign: (c = {}, h = {}) => jws(merge({ ...claims, ...fresh }, c), merge(header, h), key),
    signWithStranger: (c = {}, h = {}) => jws(merge({ ...claims, ...fresh }, c), merge(header, h), strangerKey),
    hmacWithPublicKey(form) {
      const secret =
        form === 'jwk'
          ? JSON.stringify(active!.publicJwk)
          : createPublicKey({ key: active!.publicJwk as never, format: 'jwk' })
              .export({ type: 'spki', format: 'pem' })
              .toString();
      const input = `${b64({ ...header, alg: 'HS256' })}.${b64({ ...claims, ...fresh })}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    },
    unsecured: () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, ...fresh })}.`,
    embedded: (kind) => {
      const extra = kind === 'jwk' ? { jwk: strangerJwk } : kind === 'jku' ? { jku: `${rsUrl}/forger-jwks` } : { x5c: [strangerCert.der.toString('base64')] };
      return jws({ ...claims, ...fresh }, { ...header, kid: 'forger', ...extra }, strangerKey);
    },
  };

  verifier = createVerifier({ issuer: s.issuer, audience: API, tls: { ca: pki.root.pem }, tokenCache: false });
  const handler = verifier.express({ scopes: ['read'] });
  rs = createServer({ cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem, requestCert: true, rejectUnauthorized: false }, (req, res) =>
    handler(req, res, (err) => (err ? res.writeHead(500).end() : res.writeHead(200).end('ok'))),
  );
  rs.listen(0, '127.0.0.1');
  await once(rs, 'listening');
  rsUrl = `https://localhost:${(rs.address() as AddressInfo).port}`;
});
afterAll(async () => {
  console.log(tally.summary());
  await Promise.all(Object.values(agents).map((a) => a.close()));
  await verifier?.close();
  await new Promise((r) => (rs ? rs.close(r) : r(undefined)));
  await s?.close();
});

describe('hostile corpus: tokens at certbound/verifier (resource server over mTLS)', () => {
  it.each(rows(rsTokenCases))('%s', async (_title, c) => {
    const authorization = await c.authorization(kit);
    const query = c.query ? `?${c.query(kit)}` : '';
    const res = await httpsJson(`${rsUrl}/orders${query}`, { agent: agents[c.cert]!, headers: authorization === undefined ? {} : { authorization } });
    // The verifier's refusals carry a Bearer challenge (RFC 6750); Node refuses oversized headers (431) before it runs.
    if (res.status !== 200 && res.status !== 431) expect(String(res.headers['www-authenticate']), 'a refusal carries a Bearer challenge').toMatch(/^Bearer/);
    tally.judge(c, { status: res.status, accepted: res.status === 200, detail: `${res.status} ${String(res.headers['www-authenticate'] ?? '')}` });
  });
});

describe('hostile corpus: tokens at the introspection endpoint', () => {
  it.each(rows(introspectionCases))('%s', async (_title, c) => {
    const clientId = c.caller === 'owner' ? 'tk-app' : 'tk-stranger';
    const res = await httpsJson(`${s.handle.mtlsUrl}/token/introspection`, {
      agent: agents[c.caller === 'owner' ? 'client' : 'stranger']!,
      form: { token: await c.token(kit), client_id: clientId },
    });
    const accepted = res.status === 200 && res.body.active === true;
    if (accepted && c.expect === 'accept') expect(res.body.cnf, 'an active bound token introspects with its cnf (BT-13)').toEqual({ 'x5t#S256': kit.x5t });
    // RFC 7662: anything the caller may not see, or that is not a live token, is 200 {"active": false}.
    if (!accepted && res.status < 500) expect(res.body, brief(res.body, res.text)).toEqual({ active: false });
    tally.judge(c, { status: res.status, accepted, detail: brief(res.body, res.text) });
  });
});
