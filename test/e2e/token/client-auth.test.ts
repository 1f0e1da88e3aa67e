/**
 * The token endpoint over real mTLS: client authentication (RFC 8705 §2) and certificate-bound JWT
 * access tokens (§3.1), with certificates made at test time and a real database.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson } from '../../helpers/net.js';
import { createCa, EKU_SERVER_AUTH, type Issued, issueLeaf, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
let s: TestServer;
let billing: Issued;

async function jwks() {
  const res = await httpsJson(`${s.handle.mainUrl}/jwks`, { agent: s.agent() });
  return createLocalJWKSet(res.body as never);
}

function lastRefusal(): Record<string, unknown> | undefined {
  return [...s.logs].reverse().find((l) => l.event === 'client_auth_refused');
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  await s.admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' }, scopes: ['read'], defaultResource: API }, 'test');
  billing = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing'] }], san: [{ type: 'dns', value: 'Billing.Example.COM' }] });
});
afterAll(() => s?.close());

describe('client_credentials over mTLS', () => {
  it('BT-8/BT-9/BT-10: a tls_client_auth client gets an RFC 9068 JWT bound to its certificate (cnf.x5t#S256 of the DER)', async () => {
    const res = await s.token(billing, { grant_type: 'client_credentials', client_id: 'billing' });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    const token = String(res.body.access_token);
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const { payload } = await jwtVerify(token, await jwks(), { issuer: s.issuer, audience: API, typ: 'at+jwt' });
    const expected = x5tS256(new X509Certificate(billing.pem).raw);
    expect(payload.cnf).toEqual({ 'x5t#S256': expected });
    expect(expected).toMatch(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/);
    expect(payload).toMatchObject({ client_id: 'billing', sub: 'billing', scope: 'read', aud: API });
    for (const claim of ['iat', 'exp', 'jti']) expect(payload[claim]).toBeDefined();
  });

  it('G-2/G-5/MD-12: the same client (bound tokens on) without a client certificate gets 401 invalid_client and no token, bound or unbound', async () => {
    const res = await s.token(undefined, { grant_type: 'client_credentials', client_id: 'billing' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.access_token).toBeUndefined();
  });

  it('SC-8: the mTLS listener negotiates TLS 1.3 with a client that offers it, so the client certificate travels encrypted', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: Number(new URL(s.mtlsUrl).port),
      servername: 'localhost',
      ca: s.pki.root.pem,
      cert: s.pki.chainOf(billing),
      key: billing.keyPem,
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    expect(socket.getProtocol()).toBe('TLSv1.3');
    socket.destroy();
  });

  it('BT-5: the mTLS listener refuses TLS 1.2 renegotiation, so a keep-alive connection keeps the certificate of its handshake', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: Number(new URL(s.mtlsUrl).port),
      servername: 'localhost',
      ca: s.pki.root.pem,
      cert: s.pki.chainOf(billing),
      key: billing.keyPem,
      maxVersion: 'TLSv1.2',
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    expect(socket.getProtocol()).toBe('TLSv1.2');
    socket.resume(); // read what the server sends, so that its close is seen
    const outcome = await new Promise<string>((resolve) => {
      socket.once('close', () => resolve('connection closed'));
      const started = socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err ? `refused: ${err.message}` : 'renegotiated'));
      if (!started) resolve('not started');
    });
    socket.destroy();
    expect(outcome).toBe('connection closed');
  });

  it('G-2: the main listener does not request a certificate, so a tls_client_auth client fails there', async () => {
    const res = await httpsJson(`${s.handle.mainUrl}/token`, { agent: s.agent(billing), form: { grant_type: 'client_credentials', client_id: 'billing' } });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('G-3: a valid certificate without client_id is refused; the client is never inferred from the certificate', async () => {
    const res = await s.token(billing, { grant_type: 'client_credentials' });
    expect([400, 401]).toContain(res.status);
    expect(['invalid_request', 'invalid_client']).toContain(res.body.error);
  });

  it('G-4: client A with client B certificate → invalid_client, reason logged with a correlation id', async () => {
    await s.admin.addClient({ clientId: 'reports', mapping: { kind: 'subject_dn', value: 'CN=reports,O=Acme' }, scopes: ['read'], defaultResource: API }, 'test');
    const res = await s.token(billing, { grant_type: 'client_credentials', client_id: 'reports' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    const ref = /ref ([0-9a-f]{8})/.exec(String(res.body.error_description))?.[1];
    expect(ref).toBeDefined();
    const log = lastRefusal();
    expect(log).toMatchObject({ reason: 'SUBJECT_DN_MISMATCH', ref, client_id: 'reports' });
    // nothing secret reaches the client
    expect(String(res.body.error_description)).not.toContain('billing');
  });

  it('PKI-4/X-5: subject DN registered in RFC 4514 order matches the certificate structurally', async () => {
    const reports = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['Reports'] }] });
    const res = await s.token(reports, { grant_type: 'client_credentials', client_id: 'reports' });
    await expectIssuedToken(s, res, { clientId: 'reports', presented: reports, scopes: ['read'], aud: API });
  });

  it('PKI-1/SC-5: right SAN from another (staging) CA → invalid_client UNTRUSTED_ROOT', async () => {
    const stagingRoot = await createCa({ name: [{ CN: ['Staging Root'] }] });
    const stagingIssuing = await createCa({ name: [{ CN: ['Staging Issuing'] }], parent: stagingRoot });
    const cert = await issueLeaf(stagingIssuing, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing' }, { chain: cert.pem + stagingIssuing.pem });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(lastRefusal()).toMatchObject({ reason: 'UNTRUSTED_ROOT', client_id: 'billing' });
  });

  it('typical failure: the client sends its leaf without the intermediate → INTERMEDIATE_MISSING', async () => {
    const res = await s.token(billing, { grant_type: 'client_credentials', client_id: 'billing' }, { chain: billing.pem });
    expect(res.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'INTERMEDIATE_MISSING' });
  });

  it('X-12: an expired certificate → CERT_EXPIRED', async () => {
    const expired = await s.pki.client({
      subject: [{ CN: ['billing'] }],
      san: [{ type: 'dns', value: 'billing.example.com' }],
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const res = await s.token(expired, { grant_type: 'client_credentials', client_id: 'billing' });
    expect(res.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'CERT_EXPIRED' });
  });

  it('X-12: a certificate whose EKU is serverAuth only → EKU_NOT_CLIENT_AUTH', async () => {
    const serverOnly = await s.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }], eku: [EKU_SERVER_AUTH] });
    const res = await s.token(serverOnly, { grant_type: 'client_credentials', client_id: 'billing' });
    expect(res.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: expect.stringMatching(/EKU_NOT_CLIENT_AUTH|CHAIN_INVALID/) });
  });

  it('MD-9/X-8: a CN-only certificate for a SAN-registered client → CN_MATCHES_BUT_SAN_EXPECTED', async () => {
    const cnOnly = await s.pki.client({ subject: [{ CN: ['billing.example.com'] }] });
    const res = await s.token(cnOnly, { grant_type: 'client_credentials', client_id: 'billing' });
    expect(res.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'CN_MATCHES_BUT_SAN_EXPECTED' });
  });

  it('X-9: SAN *.example.com does not match a client registered as billing.example.com', async () => {
    const wildcard = await s.pki.client({ subject: [{ CN: ['x'] }], san: [{ type: 'dns', value: '*.example.com' }] });
    const res = await s.token(wildcard, { grant_type: 'client_credentials', client_id: 'billing' });
    expect(res.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'SAN_MISMATCH' });
  });

  it('PKI-6/IC-8: a renewed certificate (new key, same SAN) authenticates with no registration change; tokens bind to the new one', async () => {
    const renewed = await s.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await s.token(renewed, { grant_type: 'client_credentials', client_id: 'billing' });
    const claims = await expectIssuedToken(s, res, { clientId: 'billing', presented: renewed, scopes: ['read'], aud: API });
    expect((claims.cnf as Record<string, string>)['x5t#S256']).not.toBe(x5tS256(billing.der));
  });

  it('mapping rotation: a staged second mapping (new CN) works alongside the old one; an expired mapping does not', async () => {
    await s.admin.addClient({ clientId: 'rotating', mapping: { kind: 'subject_dn', value: 'CN=svc-2025,O=Acme' }, scopes: ['read'], defaultResource: API }, 'test');
    const old = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['svc-2025'] }] });
    const next = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['svc-2026'] }] });
    expect((await s.token(next, { grant_type: 'client_credentials', client_id: 'rotating' })).status).toBe(401);
    await s.admin.addMapping('rotating', { kind: 'subject_dn', value: 'CN=svc-2026,O=Acme' }, 'test');
    await expectIssuedToken(s, await s.token(next, { grant_type: 'client_credentials', client_id: 'rotating' }), {
      clientId: 'rotating',
      presented: next,
      scopes: ['read'],
      aud: API,
    });
    await expectIssuedToken(s, await s.token(old, { grant_type: 'client_credentials', client_id: 'rotating' }), {
      clientId: 'rotating',
      presented: old,
      scopes: ['read'],
      aud: API,
    });
    await s.admin.addClient(
      // The same certificate as `rotating` on purpose (only this mapping has expired): an explicit overlap.
      {
        clientId: 'expired-mapping',
        mapping: { kind: 'subject_dn', value: 'CN=svc-2025,O=Acme', notAfter: new Date(Date.now() - 1000), notBefore: new Date(Date.now() - 86_400_000), allowOverlap: true },
        scopes: ['read'],
        defaultResource: API,
      },
      'test',
    );
    expect((await s.token(old, { grant_type: 'client_credentials', client_id: 'expired-mapping' })).status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'MAPPING_EXPIRED' });
  });

  it('trust anchor pinning: a mapping pinned to another anchor refuses a chain that ends at this one (WRONG_TRUST_ANCHOR)', async () => {
    const otherRoot = await createCa({ name: [{ CN: ['Other Root'] }] });
    await s.admin.addTrustAnchor({ name: 'other-root', pem: otherRoot.pem, environment: 'staging' }, 'test');
    await s.admin.addClient(
      { clientId: 'pinned', mapping: { kind: 'san_dns', value: 'pinned.example.com', trustAnchor: 'other-root' }, scopes: ['read'], defaultResource: API },
      'test',
    );
    await s.handle.reload();
    const cert = await s.pki.client({ subject: [{ CN: ['pinned'] }], san: [{ type: 'dns', value: 'pinned.example.com' }] });
    const res = await s.token(cert, { grant_type: 'client_credentials', client_id: 'pinned' });
    expect(res.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'WRONG_TRUST_ANCHOR' });
  });

  it('SS-2/SS-3/SS-5/IC-3: a self-signed client (no CA, no chain validation) authenticates with exactly its registered certificate; same key, other certificate → refused', async () => {
    const device = await selfSigned({ subject: [{ CN: ['device-17'] }] });
    await s.admin.addClient({ clientId: 'device-17', selfSignedCertPem: device.pem, scopes: ['read'], defaultResource: API }, 'test');
    const ok = await s.token(device, { grant_type: 'client_credentials', client_id: 'device-17' }, { chain: device.pem });
    await expectIssuedToken(s, ok, { clientId: 'device-17', presented: device, chain: device.pem, scopes: ['read'], aud: API });
    const sameKey = await selfSigned({ subject: [{ CN: ['device-17'] }], keys: device.keys });
    const refused = await s.token(sameKey, { grant_type: 'client_credentials', client_id: 'device-17' }, { chain: sameKey.pem });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
  });

  it('SS-1/SS-4: a self-signed client registered with a JWKS of two certificates (rotation) authenticates with either', async () => {
    const oldCert = await selfSigned({ subject: [{ CN: ['sensor'] }] });
    const newCert = await selfSigned({ subject: [{ CN: ['sensor'] }] });
    const jwk = async (c: Issued) => ({ ...(await exportJWK(createPublicKey(c.pem))), x5c: [c.der.toString('base64')] });
    await s.admin.addClient(
      { clientId: 'sensor', selfSignedJwks: JSON.stringify({ keys: [await jwk(oldCert), await jwk(newCert)] }), scopes: ['read'], defaultResource: API },
      'test',
    );
    for (const c of [oldCert, newCert]) {
      const res = await s.token(c, { grant_type: 'client_credentials', client_id: 'sensor' }, { chain: c.pem });
      await expectIssuedToken(s, res, { clientId: 'sensor', presented: c, chain: c.pem, scopes: ['read'], aud: API });
    }
    const stranger = await selfSigned({ subject: [{ CN: ['sensor'] }] });
    expect((await s.token(stranger, { grant_type: 'client_credentials', client_id: 'sensor' }, { chain: stranger.pem })).status).toBe(401);
  });

  it('cached lookups stay exact: narrowed client scopes, a removed mapping and a changed resource apply on the very next request', async () => {
    await s.admin.addResourceServer({ identifier: 'https://cache.example.com', scopes: ['a', 'b'] }, 'test');
    await s.admin.addClient(
      { clientId: 'cached', mapping: { kind: 'san_dns', value: 'cached-1.example.com' }, scopes: ['a', 'b'], defaultResource: 'https://cache.example.com' },
      'test',
    );
    const m2 = await s.admin.addMapping('cached', { kind: 'san_dns', value: 'cached-2.example.com' }, 'test');
    const cert2 = await s.pki.client({ subject: [{ CN: ['cached'] }], san: [{ type: 'dns', value: 'cached-2.example.com' }] });
    const first = await s.token(cert2, { grant_type: 'client_credentials', client_id: 'cached', scope: 'a b' });
    await expectIssuedToken(s, first, { clientId: 'cached', presented: cert2, scopes: ['a', 'b'], aud: 'https://cache.example.com' });
    // another writer (the CLI, the admin API) changes the client's scopes, the resource and the mappings
    await s.admin.updateClient('cached', { scopes: ['a'] }, 'test');
    const fewer = await s.token(cert2, { grant_type: 'client_credentials', client_id: 'cached', scope: 'a b' });
    expect(fewer.status).toBe(400);
    expect(fewer.body).toMatchObject({ error: 'invalid_scope', scope: 'b' });
    await s.admin.updateClient('cached', { scopes: ['a', 'b'] }, 'test');
    await expectIssuedToken(s, await s.token(cert2, { grant_type: 'client_credentials', client_id: 'cached', scope: 'a b' }), {
      clientId: 'cached',
      presented: cert2,
      scopes: ['a', 'b'],
      aud: 'https://cache.example.com',
    });
    await s.admin.addResourceServer({ identifier: 'https://cache.example.com', scopes: ['a'] }, 'test');
    const narrowed = await s.token(cert2, { grant_type: 'client_credentials', client_id: 'cached', scope: 'a b' });
    expect(narrowed.status).toBe(400);
    expect(narrowed.body.error).toBe('invalid_scope');
    await s.admin.removeMapping('cached', m2.id, 'test');
    const removed = await s.token(cert2, { grant_type: 'client_credentials', client_id: 'cached', scope: 'a' });
    expect(removed.status).toBe(401);
  });

  it('RFC 8707: an unregistered resource → invalid_target; a scope the client may not have → invalid_scope; nothing issued', async () => {
    const unknown = await s.token(billing, { grant_type: 'client_credentials', client_id: 'billing', resource: 'https://unknown.example.com' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_target');
    const scope = await s.token(billing, { grant_type: 'client_credentials', client_id: 'billing', scope: 'write' });
    expect(scope.status).toBe(400);
    expect(scope.body.error).toBe('invalid_scope');
    expect(scope.body.access_token).toBeUndefined();
  });

  it('X-10: a 10-deep chain is refused with CHAIN_TOO_LONG, without verifying it any further', async () => {
    let issuer = s.pki.intermediate;
    let chain = s.pki.intermediate.pem;
    for (let i = 0; i < 9; i++) {
      issuer = await createCa({ name: [{ CN: [`Deep CA ${i}`] }], parent: issuer });
      chain = issuer.pem + chain;
    }
    const leaf = await issueLeaf(issuer, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await s.token(leaf, { grant_type: 'client_credentials', client_id: 'billing' }, { chain: leaf.pem + chain });
    expect(res.status).toBe(401);
    expect(lastRefusal()).toMatchObject({ reason: 'CHAIN_TOO_LONG' });
  });

  it('IC-9: the implicit grant (response_type=token) is not available', async () => {
    const res = await httpsJson(`${s.handle.mainUrl}/auth?client_id=billing&response_type=token&scope=read&redirect_uri=https%3A%2F%2Fx.example`, { agent: s.agent() });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.text).not.toContain('access_token=');
  });
});
