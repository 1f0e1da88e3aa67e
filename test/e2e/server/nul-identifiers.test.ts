/**
 * Identifiers holding U+0000 (or another control character) from outside, over real mTLS: at the token,
 * introspection and revocation endpoints and at the admin API they are unknown ids or refused input,
 * the same on SQLite and PostgreSQL (whose text cannot hold U+0000), never a 5xx, and nothing changes.
 * Likewise values wider than their column, which PostgreSQL refuses and SQLite stores.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson } from '../../helpers/net.js';
import { type Issued, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.nul.example';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let s: TestServer;
let client: Issued;
let device: Issued;
let admin: AdminCaller;
let signingKey: CryptoKey;

const TABLES = ['clients', 'certificate_mappings', 'trust_anchors', 'resource_servers', 'signing_keys', 'audit_log', 'oidc_payloads'];
async function stored(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await s.database.db(t).count({ n: '*' }))[0]!.n);
  return out;
}

async function assertion(claims: { iss?: string; jti?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'nul-key' })
    .setIssuer(claims.iss ?? 'nul-pkj')
    .setSubject(claims.iss ?? 'nul-pkj')
    .setAudience(s.issuer)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(signingKey);
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await s.admin.addClient({ clientId: 'nul', mapping: { kind: 'subject_dn', value: 'CN=nul,O=Acme' }, scopes: ['read'], defaultResource: API }, 'test');
  client = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['nul'] }] });
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey as CryptoKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'nul-key', use: 'sig', alg: 'ES256' };
  await s.admin.addClient({ clientId: 'nul-pkj', privateKeyJwtJwks: JSON.stringify({ keys: [jwk] }), scopes: ['read'], defaultResource: API }, 'test');
  device = await selfSigned({ subject: [{ CN: ['nul device'] }] });
  admin = await createAdminCaller(s, ['certbound:admin'], { clientId: 'nul-admin' });
});
afterAll(() => s?.close());

describe('token, introspection and revocation endpoints', () => {
  it.each([
    ['U+0000', 'nul\u0000'],
    ['U+0001', 'nul\u0001'],
  ])('G-3 (TREQ-41): a client_id holding %s is an unknown client: 401 invalid_client, no token', async (_what, clientId) => {
    const res = await s.token(client, { grant_type: 'client_credentials', client_id: clientId });
    expect(res.status, res.text).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.access_token).toBeUndefined();
  });

  it('G-3 (TREQ-41): the same client_id at introspection and revocation → 401 invalid_client', async () => {
    for (const path of ['/token/introspection', '/token/revocation']) {
      const res = await httpsJson(`${s.handle.mtlsUrl}${path}`, { agent: s.agent(client), form: { client_id: 'nul\u0000', token: 'x' } });
      expect(res.status, `${path}: ${res.text}`).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });

  it('G-1: a resource indicator holding U+0000 is an unknown resource: 400 invalid_target, no token', async () => {
    const res = await s.token(client, { grant_type: 'client_credentials', client_id: 'nul', resource: `${API}/\u0000` });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toBe('invalid_target');
    expect(res.body.access_token).toBeUndefined();
  });

  it('BT-13: a token value holding U+0000 is an unknown token: introspection says inactive, revocation answers 200', async () => {
    const introspection = await httpsJson(`${s.handle.mtlsUrl}/token/introspection`, { agent: s.agent(client), form: { client_id: 'nul', token: 'opaque\u0000token' } });
    expect(introspection.status, introspection.text).toBe(200);
    expect(introspection.body).toEqual({ active: false });
    const revocation = await httpsJson(`${s.handle.mtlsUrl}/token/revocation`, { agent: s.agent(client), form: { client_id: 'nul', token: 'opaque\u0000token' } });
    expect(revocation.status, revocation.text).toBe(200);
  });

  it('BT-2: a client assertion whose iss and sub hold U+0000 names an unknown client → 401 invalid_client', async () => {
    const res = await s.token(device, {
      grant_type: 'client_credentials',
      client_id: 'nul-pkj\u0000',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion({ iss: 'nul-pkj\u0000' }),
    });
    expect(res.status, res.text).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('BT-2: a client assertion whose jti holds U+0000 is accepted once and refused as a replay, on either database', async () => {
    const signed = await assertion({ jti: `jti\u0000${randomUUID()}` });
    const form = { grant_type: 'client_credentials', client_id: 'nul-pkj', client_assertion_type: ASSERTION_TYPE, client_assertion: signed };
    const first = await s.token(device, form);
    await expectIssuedToken(s, first, { clientId: 'nul-pkj', presented: device, scopes: ['read'], aud: API });
    const again = await s.token(device, form);
    expect(again.status, again.text).toBe(401);
    expect(again.body.error).toBe('invalid_client');
  });
});

describe('admin API', () => {
  it.each([
    ['GET', '/admin/clients/nul%00', 'ERR_CLIENT_UNKNOWN'],
    ['DELETE', '/admin/clients/nul%00', 'ERR_CLIENT_UNKNOWN'],
    ['DELETE', '/admin/clients/nul%01', 'ERR_CLIENT_UNKNOWN'],
    ['PATCH', '/admin/clients/nul%00', 'ERR_CLIENT_UNKNOWN'],
    ['GET', '/admin/clients/nul%00/mappings', 'ERR_CLIENT_UNKNOWN'],
    ['GET', '/admin/trust-anchors/test-root%00', 'ERR_TRUST_ANCHOR_UNKNOWN'],
    ['DELETE', '/admin/trust-anchors/test-root%00', 'ERR_TRUST_ANCHOR_UNKNOWN'],
    ['GET', `/admin/resource-servers/${encodeURIComponent(`${API}\u0000`)}`, 'ERR_RESOURCE_UNKNOWN'],
    ['DELETE', `/admin/resource-servers/${encodeURIComponent(`${API}\u0000`)}`, 'ERR_RESOURCE_UNKNOWN'],
    ['POST', '/admin/keys/k%00/retire', 'ERR_KEY_UNKNOWN'],
  ])('SC-6 (ADMIN-077): %s %s → 404 %s, nothing changed', async (method, path, code) => {
    const before = await stored();
    const res = await admin.call(method, path, method === 'PATCH' ? { body: { scope: 'read' } } : {});
    expect(res.status, res.text).toBe(404);
    expect(res.body.code).toBe(code);
    expect(await stored()).toEqual(before);
  });

  it('SC-6 (ADMIN-077): the audit log filtered by a target holding U+0000 is empty, not an error', async () => {
    const res = await admin.call('GET', `/admin/audit?target=${encodeURIComponent('client:nul\u0000')}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.items).toEqual([]);
  });

  it('SC-6: a resource indicator holding U+0000 or a space is refused at registration (400 naming identifier), nothing stored', async () => {
    for (const identifier of [`${API}/\u0000`, `${API}/a b`, `${API}/\u0001`]) {
      const before = await stored();
      const res = await admin.call('POST', '/admin/resource-servers', { body: { identifier, scope: 'read' } });
      expect(res.status, res.text).toBe(400);
      expect(res.body.code).toBe('ERR_RESOURCE_ID_INVALID');
      expect(res.body.message).toMatch(/^identifier: /);
      expect(res.body.hint).toContain('https://api.example.com');
      expect(await stored()).toEqual(before);
    }
  });

  it('SC-6: values longer than their column (PostgreSQL enforces the width, SQLite does not) are refused the same on both: a resource indicator of 1992 characters (its audit target would exceed 2000), a 65-character environment', async () => {
    const before = await stored();
    const resource = await admin.call('POST', '/admin/resource-servers', { body: { identifier: `https://api.nul.example/${'x'.repeat(1992 - 24)}`, scope: 'read' } });
    expect(resource.status, resource.text).toBe(400);
    expect(resource.body.code).toBe('ERR_RESOURCE_ID_INVALID');
    expect(resource.body.hint).toContain('at most 1991 characters');
    const fits = await admin.call('POST', '/admin/resource-servers', { body: { identifier: `https://api.nul.example/${'x'.repeat(1991 - 24)}`, scope: 'read' } });
    expect(fits.status, fits.text).toBe(201);
    const after = await stored();
    const anchor = await admin.call('POST', '/admin/trust-anchors', { body: { name: 'nul-env', pem: s.pki.intermediate.pem, environment: 'e'.repeat(65) } });
    expect(anchor.status, anchor.text).toBe(400);
    expect(anchor.body.code).toBe('ERR_VALIDATION');
    expect(anchor.body.message).toMatch(/^environment: .*at most 64/);
    await expect(s.admin.addTrustAnchor({ name: 'nul-env', pem: s.pki.intermediate.pem, environment: 'e'.repeat(65) }, 'test')).rejects.toMatchObject({ code: 'ERR_NAME_INVALID' });
    expect(await stored()).toEqual({ ...before, resource_servers: before.resource_servers! + 1, audit_log: before.audit_log! + 1 });
    expect(await stored()).toEqual(after);
  });

  it('SC-6: a default_resource holding U+0000 is an unknown resource server (404 ERR_RESOURCE_UNKNOWN), nothing changed', async () => {
    const before = await stored();
    const res = await admin.call('PATCH', '/admin/clients/nul', { body: { default_resource: `${API}\u0000` } });
    expect(res.status, res.text).toBe(404);
    expect(res.body.code).toBe('ERR_RESOURCE_UNKNOWN');
    expect(await stored()).toEqual(before);
  });

  it('MD-7 (ADMIN-070): a san_email mapping with two @ is refused naming mapping.value, with an example of a valid value', async () => {
    const before = await stored();
    const res = await admin.call('POST', '/admin/clients', { body: { client_id: 'nul-mail', mapping: { kind: 'san_email', value: 'a@b@c.example' }, scope: 'read' } });
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('ERR_MAPPING_VALUE');
    expect(res.body.message).toMatch(/^mapping\.value: .*tls_client_auth_san_email.*has 2 "@" characters/);
    expect(res.body.hint).toContain('ops@example.com');
    expect(await stored()).toEqual(before);
  });
});
