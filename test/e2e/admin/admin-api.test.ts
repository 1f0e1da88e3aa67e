/**
 * The admin API over real mTLS with real client certificates and a real database (SQLite or PostgreSQL):
 * authentication with certificate-bound tokens from this server (401/403), CRUD round trips, validation
 * errors that name the field and change nothing, audit rows in the same transaction as the change.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { adminCall, type AdminCaller, adminTokenFor, createAdminCaller, listedClientIds } from '../../helpers/admin.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { TEST_DB_KIND } from '../../helpers/db.js';
import { createCa } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
let s: TestServer;
let ops: AdminCaller;
let reader: AdminCaller;

async function auditCount(): Promise<number> {
  const row = await s.database.db('audit_log').count({ n: '*' }).first();
  return Number(row?.n);
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
  reader = await createAdminCaller(s, ['certbound:admin:read'], { clientId: 'auditor' });
});
afterAll(() => s?.close());

describe('admin resource registration', () => {
  it('the admin resource is registered at start with both scopes, once (idempotent across restarts)', async () => {
    const rs = await s.admin.showResourceServer(s.config.adminResource);
    expect(rs).toMatchObject({ identifier: `${s.issuer}/admin`, tokenFormat: 'jwt' });
    expect(rs.scopes).toEqual(expect.arrayContaining(['certbound:admin', 'certbound:admin:read']));
    const before = await auditCount();
    await s.admin.ensureResourceServer(s.config.adminResource, ['certbound:admin', 'certbound:admin:read'], 'system:admin-api');
    expect(await auditCount()).toBe(before);
    const rows = await s.admin.listAudit({ target: `resource:${s.config.adminResource}` });
    expect(rows.map((r) => [r.actor, r.action])).toEqual([['system:admin-api', 'resource.add']]);
  });
});

describe('authentication (401) and authorization (403)', () => {
  it('no token → 401 with a bare Bearer challenge for the admin resource', async () => {
    const res = await ops.call('GET', '/admin/clients', { token: null });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_ADMIN_UNAUTHENTICATED' });
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${s.config.adminResource}"`);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a token bound to another certificate → 401 invalid_token (the reader certificate with the ops token)', async () => {
    const res = await ops.call('GET', '/admin/clients', { cert: reader.client });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_ADMIN_UNAUTHENTICATED', error: 'invalid_token', message: 'certificate does not match the token' });
    expect(String(res.headers['www-authenticate'])).toContain('error="invalid_token"');
  });

  it('the right token without a client certificate on the connection → 401', async () => {
    const res = await ops.call('GET', '/admin/clients', { cert: null });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_token', message: 'certificate-bound token requires mTLS' });
  });

  it('a token for another resource (audience) → 401, even from an admin client', async () => {
    await s.admin.addClient({ clientId: 'orders', mapping: { kind: 'subject_dn', value: 'CN=orders,O=Acme' }, scopes: ['read'], defaultResource: API }, 'test');
    const orders = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['orders'] }] });
    const issued = await s.token(orders, { grant_type: 'client_credentials', client_id: 'orders' });
    await expectIssuedToken(s, issued, { clientId: 'orders', presented: orders, scopes: ['read'], aud: API });
    const token = String(issued.body.access_token);
    const res = await adminCall(s, 'GET', '/admin/clients', { cert: orders, token });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_token', message: 'token aud claim invalid' });
  });

  it('garbage and tampered tokens → 401', async () => {
    expect((await ops.call('GET', '/admin/clients', { token: 'not-a-jwt' })).status).toBe(401);
    const [h, p, sig] = ops.token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, scope: 'certbound:admin' })).toString('base64url')}.${sig}`;
    expect((await reader.call('POST', '/admin/keys/rotate', { token: forged })).status).toBe(401);
  });

  it('certbound:admin:read may read but a write → 403 insufficient_scope, and nothing changes', async () => {
    expect(listedClientIds(await reader.call('GET', '/admin/clients'))).toContain(reader.clientId);
    const before = await auditCount();
    const res = await reader.call('POST', '/admin/resource-servers', { body: { identifier: 'https://x.example.com', scope: 'a' } });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'ERR_ADMIN_FORBIDDEN', error: 'insufficient_scope' });
    expect(String(res.headers['www-authenticate'])).toContain('scope="certbound:admin"');
    expect(await auditCount()).toBe(before);
    await expect(s.admin.showResourceServer('https://x.example.com')).rejects.toMatchObject({ code: 'ERR_RESOURCE_UNKNOWN' });
  });

  it('authentication comes before validation: an unauthenticated bad body gets 401, not a validation message', async () => {
    const res = await ops.call('POST', '/admin/clients', { token: null, body: { nonsense: true } });
    expect(res.status).toBe(401);
  });

  it('a removed admin client loses access at once, though its JWT has not expired', async () => {
    const temp = await createAdminCaller(s, ['certbound:admin']);
    const keys = await temp.call('GET', '/admin/keys');
    expect(keys.status).toBe(200);
    expect(keys.body.items).toContainEqual(expect.objectContaining({ status: 'active', alg: 'ES256' }));
    expect((await ops.call('DELETE', `/admin/clients/${temp.clientId}`)).status).toBe(204);
    const res = await temp.call('GET', '/admin/keys');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    const log = s.logs.find((l) => l.event === 'admin_auth_refused' && String(l.detail).includes(`client ${temp.clientId} no longer exists`));
    expect(log).toBeDefined();
  });

  it('withdrawing the admin scope from a client revokes its admin access at once', async () => {
    const temp = await createAdminCaller(s, ['certbound:admin', 'read']);
    const descoped = await ops.call('PATCH', `/admin/clients/${temp.clientId}`, { body: { scope: 'read' } });
    expect(descoped.status).toBe(200);
    expect(descoped.body).toMatchObject({ client_id: temp.clientId, scope: 'read' });
    expect((await temp.call('GET', '/admin/keys')).status).toBe(401);
  });
});

describe('CRUD round trips', () => {
  it('resource servers: create, get (URL-encoded id), list, replace, delete', async () => {
    const id = 'https://inventory.example.com/v1';
    const path = `/admin/resource-servers/${encodeURIComponent(id)}`;
    const created = await ops.call('POST', '/admin/resource-servers', { body: { identifier: id, scope: 'stock.read stock.write', ttl: 300 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ identifier: id, scope: 'stock.read stock.write', token_format: 'jwt', ttl: 300 });
    expect((await ops.call('POST', '/admin/resource-servers', { body: { identifier: id, scope: 'x' } })).body).toMatchObject({ code: 'ERR_RESOURCE_EXISTS' });
    expect((await reader.call('GET', path)).body).toMatchObject({ identifier: id, ttl: 300 });
    expect((await reader.call('GET', '/admin/resource-servers')).body.items?.map((r) => r.identifier)).toContain(id);
    const replaced = await ops.call('PUT', path, { body: { scope: 'stock.read', token_format: 'opaque' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ scope: 'stock.read', token_format: 'opaque', ttl: null });
    expect((await ops.call('DELETE', path)).status).toBe(204);
    expect((await reader.call('GET', path)).body).toMatchObject({ code: 'ERR_RESOURCE_UNKNOWN' });
    expect((await ops.call('PUT', path, { body: { scope: 'a' } })).status).toBe(404);
  });

  it('the admin resource cannot be deleted or lose its admin scopes through the API', async () => {
    const path = `/admin/resource-servers/${encodeURIComponent(s.config.adminResource)}`;
    expect((await ops.call('DELETE', path)).body).toMatchObject({ code: 'ERR_ADMIN_RESOURCE_PROTECTED' });
    const res = await ops.call('PUT', path, { body: { scope: 'certbound:admin' } });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/^scope: /);
    const kept = await ops.call('PUT', path, { body: { scope: 'certbound:admin certbound:admin:read', ttl: 120 } });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ identifier: s.config.adminResource, scope: 'certbound:admin certbound:admin:read', ttl: 120 });
  });

  it('trust anchors: add with PEM in the body, get, list, delete; the listener trusts the new CA at once', async () => {
    const partnerRoot = await createCa({ name: [{ O: ['Partner'] }, { CN: ['Partner Root CA'] }] });
    const created = await ops.call('POST', '/admin/trust-anchors', { body: { name: 'partner-root', pem: partnerRoot.pem, environment: 'staging' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'partner-root', environment: 'staging', subject: 'CN=Partner Root CA,O=Partner', 'x5t#S256': x5tS256(partnerRoot.der) });
    expect((await reader.call('GET', '/admin/trust-anchors/partner-root')).body).toMatchObject({ name: 'partner-root', pem: expect.stringContaining('BEGIN CERTIFICATE') });
    expect((await reader.call('GET', '/admin/trust-anchors')).body.items?.map((a) => a.name).sort()).toEqual(['partner-root', 'test-root']);
    expect((await ops.call('POST', '/admin/trust-anchors', { body: { name: 'again', pem: partnerRoot.pem } })).body).toMatchObject({
      code: 'ERR_TRUST_ANCHOR_KEY_EXISTS',
      details: { field: 'pem' },
      message: expect.stringContaining('already trusted as'),
    });
    expect((await ops.call('DELETE', '/admin/trust-anchors/partner-root')).status).toBe(204);
    expect((await reader.call('GET', '/admin/trust-anchors/partner-root')).status).toBe(404);
  });

  it('clients: create with a mapping, get, change scopes/default resource/bound tokens, list, delete', async () => {
    const created = await ops.call('POST', '/admin/clients', {
      body: { client_id: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com', trust_anchor: 'test-root' }, scope: 'read', default_resource: API },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      client_id: 'billing',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      scope: 'read',
      default_resource: API,
      mappings: [{ kind: 'san_dns', value: 'billing.example.com', canonical: 'billing.example.com', trust_anchor: 'test-root', trust_anchor_environment: 'prod' }],
    });
    // The new client can get a token right away.
    const cert = await s.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    await expectIssuedToken(s, await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing' }), {
      clientId: 'billing',
      presented: cert,
      scopes: ['read'],
      aud: API,
    });

    const patched = await ops.call('PATCH', '/admin/clients/billing', { body: { scope: 'read write', bound_tokens: false, default_resource: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ scope: 'read write', tls_client_certificate_bound_access_tokens: false, default_resource: null });
    expect((await reader.call('GET', '/admin/clients/billing')).body).toMatchObject({ scope: 'read write', default_resource: null });
    expect((await reader.call('GET', '/admin/clients')).body.items?.map((c) => c.client_id)).toContain('billing');
    expect((await ops.call('POST', '/admin/clients', { body: { client_id: 'billing', mapping: { kind: 'san_dns', value: 'b.example.com' } } })).body).toMatchObject({
      code: 'ERR_CLIENT_EXISTS',
    });
    expect((await ops.call('DELETE', '/admin/clients/billing')).status).toBe(204);
    expect((await reader.call('GET', '/admin/clients/billing')).body).toMatchObject({ code: 'ERR_CLIENT_UNKNOWN' });
    expect((await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing' })).status).toBe(401);
  });

  it('a self-signed client through the API', async () => {
    const { selfSigned } = await import('../../helpers/pki.js');
    const device = await selfSigned({ subject: [{ CN: ['device-9'] }] });
    const res = await ops.call('POST', '/admin/clients', { body: { client_id: 'device-9', self_signed_certificate: device.pem, scope: 'read', default_resource: API } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ token_endpoint_auth_method: 'self_signed_tls_client_auth', mappings: [] });
    await expectIssuedToken(s, await s.token(device, { grant_type: 'client_credentials', client_id: 'device-9' }, { chain: device.pem }), {
      clientId: 'device-9',
      presented: device,
      chain: device.pem,
      scopes: ['read'],
      aud: API,
    });
  });

  it('BT-2: a private_key_jwt client through the API; keys plus a mapping, or a private key, are refused with the field named', async () => {
    const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'robot-1' };
    const both = await ops.call('POST', '/admin/clients', {
      body: { client_id: 'robot', private_key_jwt_jwks: { keys: [jwk] }, mapping: { kind: 'san_dns', value: 'robot.example.com' } },
    });
    expect(both.status).toBe(400);
    expect(JSON.stringify(both.body)).toContain(
      'give exactly one of mapping (tls_client_auth), self_signed_certificate or self_signed_jwks_uri (self_signed_tls_client_auth), or private_key_jwt_jwks or private_key_jwt_jwks_uri (private_key_jwt)',
    );
    const leaky = await ops.call('POST', '/admin/clients', {
      body: { client_id: 'robot', private_key_jwt_jwks: { keys: [await exportJWK(privateKey)] }, scope: 'read', default_resource: API },
    });
    expect(leaky.status).toBe(400);
    expect(leaky.body).toMatchObject({ code: 'ERR_JWKS_INVALID' });
    expect(JSON.stringify(leaky.body)).toContain('private_key_jwt_jwks');
    expect((await ops.call('GET', '/admin/clients/robot')).status).toBe(404);
    const res = await ops.call('POST', '/admin/clients', { body: { client_id: 'robot', private_key_jwt_jwks: { keys: [jwk] }, scope: 'read', default_resource: API } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', tls_client_certificate_bound_access_tokens: true, mappings: [], jwks: { keys: [jwk] } });
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'robot-1' })
      .setIssuer('robot')
      .setSubject('robot')
      .setAudience(s.issuer)
      .setJti(`j-${now}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    const cert = await s.pki.client({ subject: [{ CN: ['robot'] }] });
    const token = await s.token(cert, {
      grant_type: 'client_credentials',
      client_id: 'robot',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    await expectIssuedToken(s, token, { clientId: 'robot', presented: cert, scopes: ['read'], aud: API });
    const rotated = await ops.call('PATCH', '/admin/clients/robot', {
      body: { jwks: { keys: [{ ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)), kid: 'robot-2' }] } },
    });
    expect(rotated.status).toBe(200);
    expect((rotated.body as { jwks: { keys: { kid: string }[] } }).jwks.keys.map((k) => k.kid)).toEqual(['robot-2']);
    const pki = await ops.call('PATCH', '/admin/clients/ops', { body: { jwks: { keys: [jwk] } } });
    expect(pki.status).toBe(400);
    expect(pki.body).toMatchObject({ code: 'ERR_CLIENT_KEYS' });
    expect(JSON.stringify(pki.body)).toContain('jwks');
  });

  it('mappings: add a staged one, list, end the old one (PATCH), remove it; the last one cannot be removed', async () => {
    await ops.call('POST', '/admin/clients', { body: { client_id: 'reports', mapping: { kind: 'subject_dn', value: 'CN=reports,O=Acme' }, scope: 'read', default_resource: API } });
    const added = await ops.call('POST', '/admin/clients/reports/mappings', {
      body: { kind: 'subject_dn', value: 'CN=reports-2027,O=Acme', not_before: '2026-01-01', not_after: '2030-01-01T00:00:00Z' },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ kind: 'subject_dn', value: 'CN=reports-2027,O=Acme', not_before: '2026-01-01T00:00:00.000Z', not_after: '2030-01-01T00:00:00.000Z' });
    const list = await reader.call('GET', '/admin/clients/reports/mappings');
    expect(list.body.items?.map((m) => m.value)).toEqual(['CN=reports,O=Acme', 'CN=reports-2027,O=Acme']);
    const oldId = String(list.body.items?.[0]?.id);
    // the old one gets an end (rotation); a window that ends before it starts, or nothing to change, is refused
    const ended = await ops.call('PATCH', `/admin/clients/reports/mappings/${oldId}`, { body: { not_after: '2029-06-30' } });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ id: oldId, value: 'CN=reports,O=Acme', not_before: null, not_after: '2029-06-30T00:00:00.000Z' });
    expect((await ops.call('PATCH', `/admin/clients/reports/mappings/${oldId}`, { body: { not_before: '2030-01-01' } })).body).toMatchObject({ code: 'ERR_MAPPING_WINDOW' });
    expect((await ops.call('PATCH', `/admin/clients/reports/mappings/${oldId}`, { body: {} })).status).toBe(400);
    expect((await reader.call('GET', '/admin/clients/reports/mappings')).body.items?.[0]).toMatchObject({ not_after: '2029-06-30T00:00:00.000Z' });
    const opened = await ops.call('PATCH', `/admin/clients/reports/mappings/${oldId}`, { body: { not_after: null } });
    expect(opened.body).toMatchObject({ not_after: null });
    expect((await ops.call('DELETE', `/admin/clients/reports/mappings/${oldId}`)).status).toBe(204);
    const last = await ops.call('DELETE', `/admin/clients/reports/mappings/${String(added.body.id)}`);
    expect(last.status).toBe(409);
    expect(last.body).toMatchObject({ code: 'ERR_MAPPING_LAST' });
    expect((await ops.call('DELETE', '/admin/clients/reports/mappings/nope')).body).toMatchObject({ code: 'ERR_MAPPING_UNKNOWN' });
  });

  it('signing keys: list, rotate (a token signed by the new key is accepted at once), retire the old key (its tokens stop working)', async () => {
    const before = await reader.call('GET', '/admin/keys');
    const oldKid = String(before.body.items?.find((k) => k.status === 'active')?.kid);
    const rotated = await ops.call('POST', '/admin/keys/rotate', { body: {} });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ status: 'active', alg: 'ES256' });
    expect(rotated.body).not.toHaveProperty('private_jwk');
    expect(JSON.stringify(rotated.body.public_jwk)).not.toContain('"d"');
    const keys = await reader.call('GET', '/admin/keys');
    expect(keys.body.items?.find((k) => k.kid === oldKid)?.status).toBe('inactive');

    // The old token (signed by the now inactive key) still works; a new token is signed by the new key.
    const withOld = await ops.call('GET', '/admin/keys');
    expect(withOld.status).toBe(200);
    expect(withOld.body.items).toContainEqual(expect.objectContaining({ kid: rotated.body.kid, status: 'active' }));
    const fresh = await adminTokenFor(s, ops.client, 'ops', ['certbound:admin']);
    expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid).toBe(rotated.body.kid);
    const withFresh = await ops.call('GET', '/admin/keys', { token: fresh });
    expect(withFresh.status).toBe(200);
    expect(withFresh.body.items).toContainEqual(expect.objectContaining({ kid: oldKid, status: 'inactive' }));

    expect((await ops.call('POST', `/admin/keys/${String(rotated.body.kid)}/retire`)).body).toMatchObject({ code: 'ERR_KEY_ACTIVE' });
    expect((await ops.call('POST', `/admin/keys/${oldKid}/retire`, { token: fresh })).status).toBe(204);
    const stale = await ops.call('GET', '/admin/keys');
    expect(stale.status).toBe(401);
    expect(stale.body.message).toBe('token signing key not found');
    ops.token = fresh;
    reader.token = await adminTokenFor(s, reader.client, reader.clientId, ['certbound:admin:read']);
  });
});

describe('validation: errors name the field and change nothing', () => {
  const cases: Array<{ title: string; method: string; path: string; body?: unknown; raw?: string; contentType?: string; status: number; code: string; message: RegExp }> = [
    {
      title: 'an unknown enum value',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x1', mapping: { kind: 'cn', value: 'x' } },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^mapping\.kind: /,
    },
    {
      title: 'a misspelt member',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x2', mapping: { kind: 'san_dns', value: 'x2.example.com' }, scopes: 'read' },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^scopes: unknown member "scopes"/,
    },
    {
      title: 'a bad client id',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: '-bad id', mapping: { kind: 'san_dns', value: 'x.example.com' } },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^client_id: must be letters/,
    },
    {
      title: 'neither mapping nor certificate',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x3' },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^mapping: give exactly one of mapping/,
    },
    {
      title: 'MD-11: a non-boolean bound_tokens',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x5', mapping: { kind: 'san_dns', value: 'x5.example.com' }, bound_tokens: 'yes' },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^bound_tokens: /,
    },
    {
      title: 'a scope with a quote',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x4', mapping: { kind: 'san_dns', value: 'x4.example.com' }, scope: 'read "x"' },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^scope: must be space-separated/,
    },
    {
      title: 'a DN in OpenSSL order (service check)',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x5', mapping: { kind: 'subject_dn', value: '/C=US/O=Acme/CN=x5' } },
      status: 400,
      code: 'ERR_MAPPING_VALUE',
      message: /^mapping\.value: /,
    },
    {
      title: 'an unknown trust anchor (service check)',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x6', mapping: { kind: 'san_dns', value: 'x6.example.com', trust_anchor: 'nope' } },
      status: 404,
      code: 'ERR_TRUST_ANCHOR_UNKNOWN',
      message: /^mapping\.trust_anchor: /,
    },
    {
      title: 'a scope no resource offers (service check)',
      method: 'POST',
      path: '/admin/clients',
      body: { client_id: 'x7', mapping: { kind: 'san_dns', value: 'x7.example.com' }, scope: 'launch.missiles' },
      status: 400,
      code: 'ERR_SCOPE_UNKNOWN',
      message: /^scope: /,
    },
    {
      title: 'a bad date',
      method: 'POST',
      path: '/admin/clients/ops/mappings',
      body: { kind: 'san_dns', value: 'y.example.com', not_after: '31/12/2027' },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^not_after: /,
    },
    {
      title: 'a reversed window (service check)',
      method: 'POST',
      path: '/admin/clients/ops/mappings',
      body: { kind: 'san_dns', value: 'y.example.com', not_before: '2028-01-01', not_after: '2027-01-01' },
      status: 400,
      code: 'ERR_MAPPING_WINDOW',
      message: /^not_after: /,
    },
    {
      title: 'a non-CA trust anchor (service check)',
      method: 'POST',
      path: '/admin/trust-anchors',
      body: { name: 'leaf', pem: 'LEAF' },
      status: 400,
      code: 'ERR_CERT_PARSE',
      message: /^pem: /,
    },
    {
      title: 'a ttl out of range',
      method: 'POST',
      path: '/admin/resource-servers',
      body: { identifier: 'https://t.example.com', scope: 'a', ttl: 5 },
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^ttl: /,
    },
    {
      title: 'a bad resource identifier (service check)',
      method: 'POST',
      path: '/admin/resource-servers',
      body: { identifier: 'http://t.example.com', scope: 'a' },
      status: 400,
      code: 'ERR_RESOURCE_ID_INVALID',
      message: /^identifier: /,
    },
    { title: 'an empty PATCH', method: 'PATCH', path: '/admin/clients/ops', body: {}, status: 400, code: 'ERR_VALIDATION', message: /^body: give at least one of/ },
    { title: 'a query parameter out of range', method: 'GET', path: '/admin/audit?limit=0', status: 400, code: 'ERR_VALIDATION', message: /^limit \(query parameter\): / },
    {
      title: 'a number not in decimal digits (0x10 is not 16)',
      method: 'GET',
      path: '/admin/audit?limit=0x10',
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^limit \(query parameter\): must be a whole number from 1 to 1000, in decimal digits/,
    },
    {
      title: 'a number over the maximum',
      method: 'GET',
      path: '/admin/audit?limit=1001',
      status: 400,
      code: 'ERR_VALIDATION',
      message: /^limit \(query parameter\): must be a whole number from 1 to 1000/,
    },
    { title: 'an unknown query parameter', method: 'GET', path: '/admin/clients?foo=1', status: 400, code: 'ERR_VALIDATION', message: /^foo \(query parameter\): unknown member/ },
    { title: 'invalid JSON', method: 'POST', path: '/admin/resource-servers', raw: '{"identifier":', status: 400, code: 'ERR_JSON_INVALID', message: /^body: not valid JSON/ },
    {
      title: 'a form body',
      method: 'POST',
      path: '/admin/resource-servers',
      raw: 'identifier=x',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'ERR_CONTENT_TYPE',
      message: /^content-type: /,
    },
    { title: 'a body where none is taken', method: 'DELETE', path: '/admin/clients/nobody', body: { force: true }, status: 400, code: 'ERR_BODY_UNEXPECTED', message: /^body: / },
    { title: 'an unknown route', method: 'GET', path: '/admin/nothing-here', status: 404, code: 'ERR_ROUTE_UNKNOWN', message: /no admin route/ },
    { title: 'a wrong method', method: 'PUT', path: '/admin/clients', body: {}, status: 405, code: 'ERR_METHOD_NOT_ALLOWED', message: /allowed: GET, POST/ },
  ];

  it.each(cases)('$title → $status $code', async ({ method, path, body, raw, contentType, status, code, message }) => {
    const auditBefore = await auditCount();
    const clientsBefore = (await s.admin.listClients()).length;
    const res = await ops.call(method, path, { body, rawBody: raw, contentType });
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(String(res.body.message)).toMatch(message);
    if (code === 'ERR_VALIDATION') expect(res.body.details).toMatchObject({ field: expect.any(String), issues: expect.any(Array) });
    expect(await auditCount()).toBe(auditBefore);
    expect((await s.admin.listClients()).length).toBe(clientsBefore);
  });

  it('a body larger than the limit → 413, nothing read into memory beyond it', async () => {
    const res = await ops.call('POST', '/admin/trust-anchors', { body: { name: 'big', pem: 'A'.repeat(300 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('ERR_BODY_TOO_LARGE');
  });
});

describe('audit', () => {
  it('an admin change writes an audit row with actor admin:<client_id>:<x5t#S256>, listed by GET /admin/audit', async () => {
    const res = await ops.call('POST', '/admin/clients', {
      body: { client_id: 'audited', mapping: { kind: 'san_dns', value: 'audited.example.com' }, scope: 'read', default_resource: API },
    });
    expect(res.status).toBe(201);
    const thumbprint = x5tS256(new X509Certificate(ops.client.pem).raw);
    const list = await reader.call('GET', '/admin/audit?target=client:audited&limit=5');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items?.[0]).toMatchObject({ actor: `admin:ops:${thumbprint}`, action: 'client.add', target: 'client:audited', before: null, after: { clientId: 'audited' } });
    const latest = await reader.call('GET', '/admin/audit?limit=1');
    expect(latest.body.items).toHaveLength(1);
  });

  it('a change whose audit row cannot be written leaves neither the change nor a row (same transaction) → 500 without internals', async () => {
    // A real database failure on the audit insert, after the client row was written in the same transaction.
    if (TEST_DB_KIND === 'postgres') {
      await s.database.db.raw(`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused by test'; end $$`);
      await s.database.db.raw(`create trigger refuse_audit before insert on audit_log for each row when (new.action = 'client.update') execute function refuse_audit()`);
    } else {
      await s.database.db.raw(`create trigger refuse_audit before insert on audit_log when new.action = 'client.update' begin select raise(abort, 'audit refused by test'); end`);
    }
    try {
      const before = await s.admin.showClient('audited');
      const auditBefore = await auditCount();
      const res = await ops.call('PATCH', '/admin/clients/audited', { body: { scope: 'read write' } });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ code: 'ERR_INTERNAL', message: 'an internal error occurred; see the server log' });
      expect(res.text).not.toContain('audit refused');
      expect((await s.admin.showClient('audited')).scopes).toEqual(before.scopes);
      expect(await auditCount()).toBe(auditBefore);
    } finally {
      await s.database.db.raw('drop trigger refuse_audit' + (TEST_DB_KIND === 'postgres' ? ' on audit_log' : ''));
      if (TEST_DB_KIND === 'postgres') await s.database.db.raw('drop function refuse_audit()');
    }
    const ok = await ops.call('PATCH', '/admin/clients/audited', { body: { scope: 'read write' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ client_id: 'audited', scope: 'read write' });
    const rows = await s.admin.listAudit({ target: 'client:audited' });
    expect(rows[0]).toMatchObject({ action: 'client.update', before: { scopes: ['read'] }, after: { scopes: ['read', 'write'] } });
  });
});
