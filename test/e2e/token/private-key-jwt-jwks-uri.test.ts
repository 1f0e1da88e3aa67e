/**
 * BT-2 with a published key set: a private_key_jwt client registered with a jwks_uri (RFC 7591). The
 * server fetches the set (real HTTPS, trusting CERTBOUND_OUTBOUND_CA_FILE), takes a newly published key
 * on the first assertion that names its kid (refetch on a miss, rate limited per client), keeps the last
 * good copy when the URI fails and says so in the refusal. Registration fetches the URI once and refuses
 * a set that breaks the private_key_jwt key rules, writing nothing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAdminCaller } from '../../helpers/admin.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { runCliCaptured } from '../../helpers/cli.js';
import { createTestPki, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// The default interval. The cache reads Date.now(), so the tests step a fake clock past it (`afterInterval`)
// instead of waiting, and assertions arriving together land inside one interval however slow the machine.
const MIN_REFRESH_MS = 30_000;
/** The client host of this file serves on loopback, which certbound refuses unless allowed (H15-5). */
const LOOPBACK = '127.0.0.0/8,::1/128';
let s: TestServer;
let publisher: Server;
let base: string;
let dir: string;
let env: Record<string, string>;
/** What the client's host serves at /keys.json. */
let published: { status: number; body: string } = { status: 404, body: '' };
let fetches = 0;

interface Key {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}
async function newKey(kid: string): Promise<Key> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey: pair.privateKey as CryptoKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid, use: 'sig', alg: 'ES256' } };
}
function publish(...keys: Key[]) {
  published = { status: 200, body: JSON.stringify({ keys: keys.map((k) => k.publicJwk) }) };
}
async function assertion(clientId: string, key: Key): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(s.issuer)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key.privateKey);
}
async function token(clientId: string, key: Key, connectWith?: Awaited<ReturnType<typeof selfSigned>>) {
  const cert = connectWith ?? (await selfSigned({ subject: [{ CN: [`${clientId} instance`] }] }));
  const res = await s.token(
    cert,
    { grant_type: 'client_credentials', client_id: clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(clientId, key) },
    { chain: cert.pem },
  );
  return { res, cert };
}
/** Requests a token as `clientId` signed with `key` and checks it was issued to that client, bound to the connection certificate. */
async function expectTokenWith(clientId: string, key: Key) {
  const { res, cert } = await token(clientId, key);
  await expectIssuedToken(s, res, { clientId, presented: cert, chain: cert.pem, scopes: ['read'], aud: API });
  return cert;
}
/** Steps the clock past the minimum refresh interval (only Date is faked: the server and the client's host do real I/O). */
const afterInterval = () => vi.setSystemTime(Date.now() + MIN_REFRESH_MS + 50);
const refusals = () => s.logs.filter((l) => l.event === 'client_auth_refused');
const cli = (...argv: string[]) => runCliCaptured(env, ...argv);

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  const pki = await createTestPki();
  publisher = createServer({ cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem }, (req, res) => {
    if (req.url !== '/keys.json') return void res.writeHead(404).end();
    fetches++;
    res.writeHead(published.status, { 'content-type': 'application/jwk-set+json' }).end(published.body);
  });
  await new Promise<void>((resolve) => publisher.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(publisher.address() as AddressInfo).port}`;
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-pkjwt-uri-'));
  const caFile = path.join(dir, 'outbound-ca.pem');
  writeFileSync(caFile, pki.root.pem);
  // The server and the CLI trust the client's host through the same setting.
  s = await startTestServer({ pki, configOverrides: { outboundCaFile: caFile, jwksUriMinRefreshMs: MIN_REFRESH_MS, jwksUriAllowedRanges: LOOPBACK } });
  env = { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir, CERTBOUND_OUTBOUND_CA_FILE: caFile, CERTBOUND_JWKS_URI_ALLOWED_RANGES: LOOPBACK };
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
});
afterAll(async () => {
  await s?.close();
  await new Promise<void>((resolve) => (publisher ? publisher.close(() => resolve()) : resolve()));
  vi.useRealTimers();
});

describe('private_key_jwt with a jwks_uri', () => {
  let k1: Key;
  let k2: Key;

  it('BT-2: registered with client add --private-key-jwt-jwks-uri, the client authenticates with a published key and its token is bound to the connection certificate', async () => {
    k1 = await newKey('agent-2026-11');
    publish(k1);
    const add = await cli('client', 'add', '--id', 'agent-u', '--private-key-jwt-jwks-uri', `${base}/keys.json`, '--scope', 'read', '--resource', API);
    expect(add).toMatchObject({ code: 0 });
    expect(add.out).toContain('client agent-u (private_key_jwt)');
    expect((await cli('client', 'show', 'agent-u')).out).toContain(`client assertion keys published at (jwks_uri): ${base}/keys.json`);
    const cert = await expectTokenWith('agent-u', k1);
    // doctor: the certificate does not decide for this client, and its published keys are not fetched for it
    const certFile = path.join(dir, 'agent-instance.pem');
    writeFileSync(certFile, cert.pem);
    const before = fetches;
    const doctor = await cli('doctor', '--cert', certFile, '--client-id', 'agent-u', '--json');
    expect(JSON.parse(doctor.out)).toMatchObject({ code: 'CLIENT_NOT_CERTIFICATE_AUTH', client: expect.objectContaining({ client_id: 'agent-u' }) });
    expect(fetches).toBe(before);
  });

  it('key rotation without the AS: a newly published kid works on its first assertion; the withdrawn key is refused (CLIENT_ASSERTION_INVALID)', async () => {
    k2 = await newKey('agent-2026-12');
    publish(k2);
    afterInterval();
    const before = fetches;
    await expectTokenWith('agent-u', k2);
    expect(fetches).toBe(before + 1);
    const old = await token('agent-u', k1);
    expect(old.res.status).toBe(401);
    expect(refusals().at(-1)).toMatchObject({ reason: 'CLIENT_ASSERTION_INVALID', client_id: 'agent-u' });
  });

  it('unknown kids refetch at most once per minimum interval per client, also when the assertions arrive together', async () => {
    const stranger = await newKey('never-published');
    const certs = await Promise.all(Array.from({ length: 4 }, (_, i) => selfSigned({ subject: [{ CN: [`agent-u instance ${i}`] }] })));
    afterInterval();
    const before = fetches;
    const results = await Promise.all(certs.map((cert) => token('agent-u', stranger, cert)));
    expect(results.map((r) => r.res.status)).toEqual([401, 401, 401, 401]);
    expect(fetches).toBe(before + 1);
    // and right after that fetch, another unknown kid is refused from the copy, without fetching again
    expect((await token('agent-u', stranger, certs[0])).res.status).toBe(401);
    expect(fetches).toBe(before + 1);
  });

  it('when the URI fails, the last good copy still verifies its keys; a kid it lacks is refused as JWKS_URI_UNAVAILABLE naming the kid, without a certificate diagnosis', async () => {
    published = { status: 503, body: '' };
    afterInterval();
    const k3 = await newKey('agent-2027-01');
    const res = (await token('agent-u', k3)).res;
    expect(res.status).toBe(401);
    const line = refusals().at(-1)!;
    expect(line).toMatchObject({ reason: 'JWKS_URI_UNAVAILABLE', client_id: 'agent-u', kid: 'agent-2027-01' });
    expect(String(line.msg)).toContain(`The assertion keys of agent-u are published at ${base}/keys.json (jwks_uri), which could not be fetched or was refused (HTTP 503)`);
    expect(String(line.msg)).toContain('does not hold the key "agent-2027-01" that signed this client assertion');
    expect(line.diagnosis).toBeUndefined();
    expect(String(res.body.error_description)).toContain(String(line.ref));
    await expectTokenWith('agent-u', k2);
    publish(k2);
  });

  it('a published set that breaks the key rules is not taken: registration refuses it with the rule and writes nothing (CLI and admin API)', async () => {
    const writer = await createAdminCaller(s, ['certbound:admin']);
    const count = async () => Number((await s.database.db('clients').count({ n: '*' }))[0]!.n);
    const before = await count();
    const pair = await generateKeyPair('ES256', { extractable: true });
    published = { status: 200, body: JSON.stringify({ keys: [{ ...(await exportJWK(pair.privateKey)), kid: 'leaked' }] }) };
    const leaked = await cli('client', 'add', '--id', 'agent-v', '--private-key-jwt-jwks-uri', `${base}/keys.json`, '--scope', 'read');
    expect(leaked.code).toBe(2);
    expect(leaked.err).toContain(`The jwks_uri ${base}/keys.json cannot be used`);
    expect(leaked.err).toMatch(/private/);
    const cert = await selfSigned({ subject: [{ CN: ['x'] }] });
    published = { status: 200, body: JSON.stringify({ keys: [{ ...k2.publicJwk, x5c: [cert.der.toString('base64')] }] }) };
    const viaApi = await writer.call('POST', '/admin/clients', { body: { client_id: 'agent-w', private_key_jwt_jwks_uri: `${base}/keys.json`, scope: 'read' } });
    expect(viaApi.status).toBe(400);
    expect(viaApi.body).toMatchObject({ code: 'ERR_JWKS_URI_UNAVAILABLE', details: { field: 'private_key_jwt_jwks_uri' } });
    expect(viaApi.body.message).toContain('x5c');
    const plain = await cli('client', 'add', '--id', 'agent-x', '--private-key-jwt-jwks-uri', 'http://agent.example.com/keys.json', '--scope', 'read');
    expect(plain.code).toBe(2);
    expect(plain.err).toContain('must be https');
    expect(await count()).toBe(before);
    publish(k2);
  });

  it('client update switches between registered keys (--jwks) and a published set (--jwks-uri)', async () => {
    const k4 = await newKey('registered-1');
    const file = path.join(dir, 'registered.json');
    writeFileSync(file, JSON.stringify({ keys: [k4.publicJwk] }));
    expect((await cli('client', 'update', 'agent-u', '--jwks', file)).code).toBe(0);
    await expectTokenWith('agent-u', k4);
    expect((await token('agent-u', k2)).res.status).toBe(401);
    expect((await cli('client', 'update', 'agent-u', '--jwks-uri', `${base}/keys.json`)).code).toBe(0);
    await expectTokenWith('agent-u', k2);
    expect((await token('agent-u', k4)).res.status).toBe(401);
  });
});
