/**
 * SS-1/SS-4: a self_signed_tls_client_auth client that publishes its certificates at a jwks_uri. The
 * server fetches the set (over real HTTPS, trusting CERTBOUND_OUTBOUND_CA_FILE), picks up a newly
 * published certificate without a restart (refetch on a miss, rate limited per client), keeps the last
 * good copy when the URI fails, and says so in the refusal.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAdminService } from '../../../src/app/service.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { createAdminCaller } from '../../helpers/admin.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { runCliCaptured } from '../../helpers/cli.js';
import { createTestPki, type Issued, selfSigned, type TestPki } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
// The default interval. The cache reads Date.now(), so the tests step a fake clock past it (`afterInterval`)
// instead of waiting, and the refusals of one test land inside one interval however slow the machine.
const MIN_REFRESH_MS = 30_000;
/** The client hosts of this file serve on loopback, which certbound refuses unless allowed (H15-5). */
const LOOPBACK = '127.0.0.0/8,::1/128';
let s: TestServer;
let pki: TestPki;
let admin: ReturnType<typeof createAdminService>;
let publisher: Server;
let base: string;
/** What the client's host serves at /jwks.json: a JWKS document, or an HTTP status. */
let published: { status: number; body: string } = { status: 404, body: '' };
let fetches = 0;
/** A second client host (/device.json), for the doctor tests. */
let device: { status: number; body: string } = { status: 404, body: '' };
let deviceFetches = 0;
let doctorEnv: Record<string, string>;

async function jwkOf(cert: Issued) {
  return { ...(await exportJWK(createPublicKey(cert.pem))), x5c: [cert.der.toString('base64')] };
}
async function publish(...certs: Issued[]) {
  published = { status: 200, body: JSON.stringify({ keys: await Promise.all(certs.map(jwkOf)) }) };
}
/** Publishes `cert`, registers `clientId` with the jwks_uri, and checks that the certificate authenticates. */
async function registerPublishing(clientId: string, cert: Issued) {
  await publish(cert);
  await admin.addClient({ clientId, selfSignedJwksUri: `${base}/jwks.json`, scopes: ['read'], defaultResource: API }, 'test');
  await expectTokenFor(clientId, cert);
}
const token = (client: string, cert: Issued) => s.token(cert, { grant_type: 'client_credentials', client_id: client }, { chain: cert.pem });
/** Requests a token as `client` with `cert` and checks it was issued to that client, bound to that certificate. */
const expectTokenFor = async (client: string, cert: Issued) =>
  expectIssuedToken(s, await token(client, cert), { clientId: client, presented: cert, chain: cert.pem, scopes: ['read'], aud: API });
/** Steps the clock past the minimum refresh interval (only Date is faked: the server and the client's host do real I/O). */
const afterInterval = () => vi.setSystemTime(Date.now() + MIN_REFRESH_MS + 50);
const refusals = () => s.logs.filter((l) => l.event === 'client_auth_refused');

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  pki = await createTestPki();
  publisher = createServer({ cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem }, (req, res) => {
    if (req.url === '/device.json') {
      deviceFetches++;
      return void res.writeHead(device.status, { 'content-type': 'application/jwk-set+json' }).end(device.body);
    }
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    fetches++;
    res.writeHead(published.status, { 'content-type': 'application/jwk-set+json' }).end(published.body);
  });
  await new Promise<void>((resolve) => publisher.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(publisher.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'certbound-jwks-uri-'));
  const caFile = path.join(dir, 'outbound-ca.pem');
  writeFileSync(caFile, pki.root.pem);
  s = await startTestServer({ pki, configOverrides: { outboundCaFile: caFile, jwksUriMinRefreshMs: MIN_REFRESH_MS, jwksUriAllowedRanges: LOOPBACK } });
  doctorEnv = { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir, CERTBOUND_OUTBOUND_CA_FILE: caFile, CERTBOUND_JWKS_URI_ALLOWED_RANGES: LOOPBACK };
  admin = createAdminService({ db: s.database.db, signingAlg: 'ES256', outboundCaFile: caFile, jwksUriAllowedRanges: s.config.jwksUriAllowedRanges });
  await admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
});
afterAll(async () => {
  await s?.close();
  await new Promise<void>((resolve) => (publisher ? publisher.close(() => resolve()) : resolve()));
  vi.useRealTimers();
});

describe('self_signed_tls_client_auth with jwks_uri', () => {
  it('SS-1/SS-3: the client authenticates with a certificate published at its jwks_uri and the token is bound to it', async () => {
    const a = await selfSigned({ subject: [{ CN: ['device-a'] }] });
    await publish(a);
    const client = await admin.addClient({ clientId: 'device-a', selfSignedJwksUri: `${base}/jwks.json`, scopes: ['read'], defaultResource: API }, 'test');
    expect(client).toMatchObject({ authMethod: 'self_signed_tls_client_auth', jwks: null, jwksUri: `${base}/jwks.json` });
    await expectTokenFor('device-a', a);
  });

  it('SS-4: a newly published certificate works on its first request, without a restart; the withdrawn one is refused', async () => {
    const a = await selfSigned({ subject: [{ CN: ['rotating'] }] });
    const b = await selfSigned({ subject: [{ CN: ['rotating'] }] });
    await registerPublishing('rotating', a);
    await publish(b);
    afterInterval();
    await expectTokenFor('rotating', b);
    const withdrawn = await token('rotating', a);
    expect(withdrawn.status).toBe(401);
    expect(refusals().at(-1)).toMatchObject({ reason: 'SELF_SIGNED_NOT_REGISTERED', client_id: 'rotating' });
  });

  it('SS-4: unknown certificates refetch the set at most once per minimum interval per client (no request storm against the client host)', async () => {
    const known = await selfSigned({ subject: [{ CN: ['storm'] }] });
    await registerPublishing('storm', known);
    afterInterval();
    const before = fetches;
    const strangers = await Promise.all(Array.from({ length: 5 }, (_, i) => selfSigned({ subject: [{ CN: [`stranger-${i}`] }] })));
    // The first refetches; the others come after that fetch, together, inside the interval.
    expect((await token('storm', strangers[0]!)).status).toBe(401);
    for (const res of await Promise.all(strangers.slice(1).map((stranger) => token('storm', stranger)))) expect(res.status).toBe(401);
    expect(fetches - before).toBe(1);
    // the refusal says when the set was fetched and when a newly published certificate can be seen
    const said = String(refusals().at(-1)?.msg);
    expect(refusals().at(-1)).toMatchObject({ reason: 'SELF_SIGNED_NOT_REGISTERED', client_id: 'storm' });
    expect(said).toMatch(
      /It is not in the set the client publishes at https:\/\/\S+, as last fetched \d+ s ago; for an unknown certificate the set is fetched again at most every 30 s \(CERTBOUND_JWKS_URI_MIN_REFRESH_MS\), so a certificate published since is seen in (29|30) s: retry then\./,
    );
    afterInterval();
    expect((await token('storm', strangers[0]!)).status).toBe(401);
    expect(fetches - before).toBe(2);
  });

  it('when the URI fails, the last good copy still authenticates its certificates; a certificate it lacks is refused with JWKS_URI_UNAVAILABLE and the reason', async () => {
    const a = await selfSigned({ subject: [{ CN: ['flaky'] }] });
    const b = await selfSigned({ subject: [{ CN: ['flaky'] }] });
    await registerPublishing('flaky', a);
    published = { status: 503, body: 'maintenance' };
    afterInterval();
    const refused = await token('flaky', b);
    expect(refused.status).toBe(401);
    const ref = /ref ([0-9a-f]{8})/.exec(String(refused.body.error_description))?.[1];
    const line = refusals().find((l) => l.ref === ref);
    expect(line).toMatchObject({ reason: 'JWKS_URI_UNAVAILABLE', client_id: 'flaky', x5t: x5tS256(b.der) });
    expect(String(line?.msg)).toContain('HTTP 503');
    await expectTokenFor('flaky', a);
  });

  it('SS-9/SS-10 at fetch time: a published set that breaks the JWK rules is not taken; the refusal quotes the rule', async () => {
    const a = await selfSigned({ subject: [{ CN: ['sloppy'] }] });
    const b = await selfSigned({ subject: [{ CN: ['sloppy'] }] });
    await registerPublishing('sloppy', a);
    // b's certificate with a's key members: x5c[0] does not hold the JWK's key (SS-9)
    published = { status: 200, body: JSON.stringify({ keys: [{ ...(await jwkOf(a)), x5c: [b.der.toString('base64')] }] }) };
    afterInterval();
    expect((await token('sloppy', b)).status).toBe(401);
    expect(refusals().at(-1)).toMatchObject({ reason: 'JWKS_URI_UNAVAILABLE', client_id: 'sloppy' });
    expect(String(refusals().at(-1)?.msg)).toContain('does not match the public key of its x5c[0] certificate');
  });

  it('client update: a client that published its certificates can switch to registered ones and back (jwks, jwks_uri)', async () => {
    const a = await selfSigned({ subject: [{ CN: ['switcher'] }] });
    const b = await selfSigned({ subject: [{ CN: ['switcher'] }] });
    await registerPublishing('switcher', a);
    const registered = await admin.updateClient('switcher', { jwks: JSON.stringify({ keys: [await jwkOf(b)] }) }, 'test');
    expect(registered).toMatchObject({ jwksUri: null, jwks: { keys: [expect.objectContaining({ x5c: [b.der.toString('base64')] })] } });
    await expectTokenFor('switcher', b);
    expect((await token('switcher', a)).status).toBe(401);
    await admin.updateClient('switcher', { jwksUri: `${base}/jwks.json` }, 'test');
    await expectTokenFor('switcher', a);
  });

  it('registration fetches the URI once: not https, unreachable, or not a valid set → refused with the reason, nothing written', async () => {
    const count = async () => Number((await s.database.db('clients').count({ n: '*' }))[0]!.n);
    const before = await count();
    await expect(admin.addClient({ clientId: 'x1', selfSignedJwksUri: 'http://device.example.com/jwks.json', scopes: ['read'] }, 'test')).rejects.toMatchObject({
      code: 'ERR_JWKS_URI_INVALID',
    });
    published = { status: 404, body: '' };
    await expect(admin.addClient({ clientId: 'x2', selfSignedJwksUri: `${base}/jwks.json`, scopes: ['read'] }, 'test')).rejects.toThrow(/cannot be used: HTTP 404/);
    published = { status: 200, body: JSON.stringify({ keys: [{ kty: 'EC', x5c: ['AAAA'] }] }) };
    await expect(admin.addClient({ clientId: 'x3', selfSignedJwksUri: `${base}/jwks.json`, scopes: ['read'] }, 'test')).rejects.toThrow(/public key members crv, x, y are missing/);
    await expect(admin.addClient({ clientId: 'x4', selfSignedJwksUri: `${base.replace('localhost', '127.0.0.1')}/nope`, scopes: ['read'] }, 'test')).rejects.toMatchObject({
      code: 'ERR_JWKS_URI_UNAVAILABLE',
    });
    expect(await count()).toBe(before);
  });

  it('SS-4 doctor: a certificate published at a jwks_uri is found with and without --client-id; an unreadable set is named in the refusal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-doctor-'));
    const cert = await selfSigned({ subject: [{ CN: ['sensor-7'] }] });
    const certFile = path.join(dir, 'sensor.pem');
    writeFileSync(certFile, cert.pem);
    device = { status: 200, body: JSON.stringify({ keys: [await jwkOf(cert)] }) };
    await admin.addClient({ clientId: 'sensor-7', selfSignedJwksUri: `${base}/device.json`, scopes: ['read'], defaultResource: API }, 'test');
    const doctor = (...args: string[]) => runCliCaptured(doctorEnv, 'doctor', '--cert', certFile, '--json', ...args);

    const named = await doctor('--client-id', 'sensor-7');
    expect(named.code).toBe(0);
    expect(JSON.parse(named.out)).toMatchObject({ would_authenticate: true, client: expect.objectContaining({ client_id: 'sensor-7' }) });
    // no client id: the store holds no certificate of sensor-7, so doctor searches the published sets
    const found = await doctor();
    expect(found.code).toBe(0);
    expect(JSON.parse(found.out)).toMatchObject({ would_authenticate: true, authenticates_as: [expect.objectContaining({ client_id: 'sensor-7' })] });
    expect(JSON.parse(found.out).authenticates_as).toHaveLength(1);

    // POST /admin/diagnose searches the server's own copies and never fetches: none before the first request
    const reader = await createAdminCaller(s, ['certbound:admin:read']);
    const fetched = deviceFetches;
    const unseen = await reader.call('POST', '/admin/diagnose', { body: { certificate: cert.pem } });
    expect(unseen.body).toMatchObject({ would_authenticate: false, code: 'SELF_SIGNED_NOT_REGISTERED' });
    expect(unseen.body.message).toMatch(/no published set was available for [^(]*\bsensor-7\b/);
    expect(deviceFetches).toBe(fetched);
    await expectTokenFor('sensor-7', cert);
    const seen = await reader.call('POST', '/admin/diagnose', { body: { certificate: cert.pem } });
    expect(seen.body).toMatchObject({ would_authenticate: true, authenticates_as: [expect.objectContaining({ client_id: 'sensor-7' })] });

    device = { status: 503, body: '' };
    const down = await doctor();
    expect(down.code).toBe(1);
    const refused = JSON.parse(down.out);
    expect(refused).toMatchObject({ would_authenticate: false, code: 'SELF_SIGNED_NOT_REGISTERED' });
    expect(refused.message).toMatch(/Not searched: no published set was available for .*\bsensor-7 \(The jwks_uri https:\/\/\S+\/device\.json cannot be used: HTTP 503\)/);
    expect(refused.hint).toContain('certbound doctor --cert FILE --client-id ID');
    device = { status: 200, body: JSON.stringify({ keys: [await jwkOf(cert)] }) };
  });

  it('SS-4 doctor: without --client-id at most 20 publishing clients are searched, and the refusal says how many were not', async () => {
    await publish(await selfSigned({ subject: [{ CN: ['bulk'] }] }));
    for (let i = 0; i < 21; i++) await admin.addClient({ clientId: `bulk-${String(i).padStart(2, '0')}`, selfSignedJwksUri: `${base}/jwks.json`, scopes: ['read'] }, 'test');
    const publishing = Number((await s.database.db('clients').whereNotNull('jwks_uri').count({ n: '*' }))[0]!.n);
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-doctor-'));
    const stranger = await selfSigned({ subject: [{ CN: ['stranger'] }] });
    writeFileSync(path.join(dir, 'stranger.pem'), stranger.pem);
    const res = await runCliCaptured(doctorEnv, 'doctor', '--cert', path.join(dir, 'stranger.pem'), '--json');
    expect(res.code).toBe(1);
    const d = JSON.parse(res.out);
    expect(d.code).toBe('SELF_SIGNED_NOT_REGISTERED');
    const unchecked = publishing - 20;
    expect(d.message).toContain(`${unchecked} more clients publishing at a jwks_uri were not searched (at most 20 are)`);
  });
});
