/**
 * H15-5 (SS-4): a jwks_uri is fetched only from public addresses unless CERTBOUND_JWKS_URI_ALLOWED_RANGES
 * allows the range: at registration (admin service, admin API, CLI) and at every fetch (token endpoint).
 * Callers get a short reason; the socket or TLS error and the body stay in the server log. Every client
 * host here is on loopback; a refused address is refused before any connection is made.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { exportJWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAdminService } from '../../../src/app/service.js';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { runCliCaptured } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';
import { createTestPki, type Issued, selfSigned, type TestPki } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const LOOPBACK = '127.0.0.0/8,::1/128';
const ALLOW_HINT = 'certbound fetches only public addresses unless the range is allowed by CERTBOUND_JWKS_URI_ALLOWED_RANGES';
let pki: TestPki;
/** Public addresses only (the default). */
let s: TestServer;
/** The same database, with loopback allowed. */
let open: TestServer;
let publisher: Server;
let untrusted: Server;
let base: string;
let caFile: string;
let dir: string;
let device: Issued;
let connections = 0;
let ops: AdminCaller;

const count = async () => Number((await s.database.db('clients').count({ n: '*' }))[0]!.n);
const token = (srv: TestServer, clientId: string) => srv.token(device, { grant_type: 'client_credentials', client_id: clientId }, { chain: device.pem });

beforeAll(async () => {
  pki = await createTestPki();
  device = await selfSigned({ subject: [{ CN: ['device'] }] });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(createPublicKey(device.pem))), x5c: [device.der.toString('base64')] }] });
  publisher = createServer({ cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem }, (req, res) => {
    if (req.url === '/jwks.json') return void res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks);
    if (req.url === '/page') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>internal-secret-token=abc123</html>');
    if (req.url === '/moved') return void res.writeHead(302, { location: '/jwks.json' }).end();
    res.writeHead(404).end();
  }).on('connection', () => connections++);
  await new Promise<void>((resolve) => publisher.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(publisher.address() as AddressInfo).port}`;
  // A host whose certificate certbound does not trust (another PKI).
  const other = await createTestPki('Other');
  untrusted = createServer({ cert: other.server.pem + other.intermediate.pem, key: other.server.keyPem }, (_req, res) => void res.writeHead(200).end('{}'));
  await new Promise<void>((resolve) => untrusted.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-jwks-addr-'));
  caFile = path.join(dir, 'outbound-ca.pem');
  writeFileSync(caFile, pki.root.pem);
  s = await startTestServer({ pki, configOverrides: { outboundCaFile: caFile, jwksUriMinRefreshMs: 100 } });
  open = await startTestServer({ pki, database: s.database, configOverrides: { outboundCaFile: caFile, jwksUriMinRefreshMs: 100, jwksUriAllowedRanges: LOOPBACK } });
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
});
afterAll(async () => {
  await open?.close();
  await s?.close();
  await Promise.all([publisher, untrusted].map((srv) => new Promise((resolve) => (srv ? srv.close(resolve) : resolve(undefined)))));
});
afterEach(() => vi.restoreAllMocks());

describe('H15-5 jwks_uri on a non-public address', () => {
  it('H15-5 SS-4: registration refuses loopback, private, link-local, unique-local, mapped, NAT64 and unspecified addresses before connecting; nothing written', async () => {
    const port = (publisher.address() as AddressInfo).port;
    const connect = vi.spyOn(tls, 'connect');
    const before = { clients: await count(), connections };
    const literals: [string, string][] = [
      [`https://127.0.0.1:${port}/jwks.json`, '127.0.0.1 is a loopback address'],
      [`https://[::1]:${port}/jwks.json`, '::1 is a loopback address'],
      ['https://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
      ['https://10.0.0.5/jwks.json', '10.0.0.5 is a private address'],
      ['https://192.168.1.10/jwks.json', '192.168.1.10 is a private address'],
      ['https://100.64.0.1/jwks.json', '100.64.0.1 is a shared (carrier-grade NAT) address'],
      ['https://[fc00::1]/jwks.json', 'fc00::1 is a unique-local address'],
      ['https://[fe80::1]/jwks.json', 'fe80::1 is a link-local address'],
      // WHATWG URL writes the mapped address in hex; it is the IPv4 loopback all the same
      [`https://[::ffff:127.0.0.1]:${port}/jwks.json`, '::ffff:7f00:1 is a loopback address'],
      ['https://[64:ff9b::a9fe:a9fe]/jwks.json', '64:ff9b::a9fe:a9fe is a NAT64 of a link-local address'],
      [`https://0.0.0.0:${port}/jwks.json`, '0.0.0.0 is an unspecified address'],
    ];
    for (const [uri, said] of literals) {
      const err = await s.admin.addClient({ clientId: 'inside', selfSignedJwksUri: uri, scopes: ['read'] }, 'test').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_JWKS_URI_UNAVAILABLE', message: `The jwks_uri ${new URL(uri).href} cannot be used: ${said}; ${ALLOW_HINT}.` });
    }
    expect(connect).not.toHaveBeenCalled();
    // a name is resolved first, and refused when it resolves to loopback (localhost: 127.0.0.1 and/or ::1)
    const named = await s.admin.addClient({ clientId: 'inside', privateKeyJwtJwksUri: `${base}/jwks.json`, scopes: ['read'] }, 'test').catch((e: unknown) => e);
    expect(named).toMatchObject({ code: 'ERR_JWKS_URI_UNAVAILABLE' });
    expect((named as Error).message).toMatch(new RegExp(`cannot be used: localhost resolves to a loopback address \\((127\\.0\\.0\\.1|::1)\\); ${ALLOW_HINT}\\.$`));
    await expect(s.admin.addClient({ clientId: 'inside', selfSignedJwksUri: `http://127.0.0.1:${port}/jwks.json`, scopes: ['read'] }, 'test')).rejects.toMatchObject({
      code: 'ERR_JWKS_URI_INVALID',
    });
    expect({ clients: await count(), connections }).toEqual(before);
  });

  it('H15-5: the admin API and the CLI refuse a loopback jwks_uri with the short reason and the setting to use; nothing written, nothing connected', async () => {
    const before = { clients: await count(), connections };
    const created = await ops.call('POST', '/admin/clients', { body: { client_id: 'inside', self_signed_jwks_uri: `${base}/jwks.json`, scope: 'read' } });
    expect(created.status).toBe(400);
    expect(created.body).toMatchObject({ code: 'ERR_JWKS_URI_UNAVAILABLE', details: { field: 'self_signed_jwks_uri' } });
    expect(String(created.body.message)).toContain(`localhost resolves to a loopback address`);
    expect(String(created.body.message)).toContain(ALLOW_HINT);
    await s.admin.addClient({ clientId: 'keys-inline', selfSignedCertPem: device.pem, scopes: ['read'] }, 'test');
    const patched = await ops.call('PATCH', '/admin/clients/keys-inline', { body: { jwks_uri: 'https://169.254.169.254/jwks.json' } });
    expect(patched.status).toBe(400);
    expect(patched.body).toMatchObject({ code: 'ERR_JWKS_URI_UNAVAILABLE', details: { field: 'jwks_uri' } });
    expect(String(patched.body.message)).toContain('169.254.169.254 is a link-local address');
    expect((await s.admin.showClient('keys-inline')).jwksUri).toBeNull();
    await s.admin.removeClient('keys-inline', 'test');

    const env = { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir, CERTBOUND_OUTBOUND_CA_FILE: caFile };
    const cli = await runCliCaptured(env, 'client', 'add', '--id', 'inside', '--self-signed-jwks-uri', `${base}/jwks.json`, '--scope', 'read');
    expect(cli.code).toBe(2);
    expect(cli.err).toContain('localhost resolves to a loopback address');
    expect(cli.err).toContain('CERTBOUND_JWKS_URI_ALLOWED_RANGES');
    // the same command with the range allowed registers the client
    const allowed = await runCliCaptured(
      { ...env, CERTBOUND_JWKS_URI_ALLOWED_RANGES: LOOPBACK },
      'client',
      'add',
      '--id',
      'inside',
      '--self-signed-jwks-uri',
      `${base}/jwks.json`,
      '--scope',
      'read',
    );
    expect(allowed.code).toBe(0);
    expect(connections).toBeGreaterThan(before.connections);
    await s.admin.removeClient('inside', 'test');
    expect(await count()).toBe(before.clients);
  });

  it('H15-5: a client registered while loopback was allowed is refused at fetch time by a server that does not allow it (no connection), and served by one that does', async () => {
    const allowing = createAdminService({ db: s.database.db, signingAlg: 'ES256', outboundCaFile: caFile, jwksUriAllowedRanges: ['127.0.0.0/8', '::1/128'] });
    await allowing.addClient({ clientId: 'device', selfSignedJwksUri: `${base}/jwks.json`, scopes: ['read'], defaultResource: API }, 'test');
    const before = connections;
    const refused = await token(s, 'device');
    expect(refused.status).toBe(401);
    const ref = /ref ([0-9a-f]{8})/.exec(String(refused.body.error_description))?.[1];
    const line = s.logs.find((l) => l.event === 'client_auth_refused' && l.ref === ref);
    expect(line).toMatchObject({ reason: 'JWKS_URI_UNAVAILABLE', client_id: 'device' });
    expect(String(line?.msg)).toMatch(
      /could not be fetched or was refused \(localhost resolves to a loopback address \((127\.0\.0\.1|::1)\); certbound fetches only public addresses/,
    );
    expect(s.logs.some((l) => l.event === 'jwks_uri_fetch_failed' && l.uri === `${base}/jwks.json`)).toBe(true);
    expect(connections).toBe(before);

    await expectIssuedToken(open, await token(open, 'device'), { clientId: 'device', presented: device, chain: device.pem, scopes: ['read'], aud: API });
    expect(connections).toBeGreaterThan(before);
  });
});

describe('H15-5 what callers learn from a failed fetch', () => {
  it('H15-5: the body of a non-JWKS answer, the TLS error and the connection error stay in the server log; callers get one short reason (no port-and-TLS oracle)', async () => {
    const writer = await createAdminCaller(open, ['certbound:admin'], { clientId: 'ops-open' });
    const register = (uri: string) => writer.call('POST', '/admin/clients', { body: { client_id: 'probe', self_signed_jwks_uri: uri, scope: 'read' } });
    const before = await count();

    const page = await register(`${base}/page`);
    expect(page.status).toBe(400);
    expect(page.body.message).toContain(`The jwks_uri ${base}/page cannot be used: the document is not JSON (a JWKS is expected).`);
    expect(page.text).not.toContain('internal-secret');

    const moved = await register(`${base}/moved`);
    expect(moved.body.message).toContain(`The jwks_uri ${base}/moved cannot be used: HTTP 302 (redirects are not followed: register the final URL).`);

    // a host whose certificate is not trusted, and a port where nothing listens: the same sentence
    const tlsFailed = await register(`https://localhost:${(untrusted.address() as AddressInfo).port}/jwks.json`);
    const closedPort = await freePort();
    const refusedPort = await register(`https://localhost:${closedPort}/jwks.json`);
    for (const res of [tlsFailed, refusedPort]) {
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('ERR_JWKS_URI_UNAVAILABLE');
      expect(res.text).not.toMatch(/ECONNREFUSED|UNABLE_TO|unable to get|self-signed certificate|socket hang up|127\.0\.0\.1/i);
    }
    const sentence = (res: typeof tlsFailed) => String(res.body.message).replace(/localhost:\d+/g, 'localhost:PORT');
    expect(sentence(tlsFailed)).toBe(sentence(refusedPort));
    expect(sentence(tlsFailed)).toContain('the connection failed, timed out, or the TLS handshake failed (the server log has the detail)');

    // the server log has what happened
    const failures = open.logs.filter((l) => l.event === 'jwks_uri_fetch_failed');
    const detail = (port: number) => JSON.stringify(failures.filter((l) => String(l.uri).includes(`:${port}/`)).map((l) => l.err));
    expect(detail((untrusted.address() as AddressInfo).port)).toContain('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(detail(closedPort)).toContain('ECONNREFUSED');
    expect(await count()).toBe(before);
  });
});
