/**
 * Admin API hardening (found in review): removing a client touches only its own stored tokens; the last
 * administrator cannot lock the admin API; an admin token whose certificate was taken out of service is
 * refused; a change that is stored is not reported as failed when this server cannot apply it at once.
 */
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { createCa } from '../../helpers/pki.js';
import { adminCall, type AdminCaller, createAdminCaller, listedClientIds } from '../../helpers/admin.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

let s: TestServer;
let ops: AdminCaller;
const OPAQUE = 'https://opaque.example.com';

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: OPAQUE, scopes: ['read'], tokenFormat: 'opaque' }, 'test');
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
});
afterAll(() => s?.close());

async function storedTokensOf(clientId: string): Promise<number> {
  const rows = (await s.database.db('oidc_payloads').where({ model: 'ClientCredentials' }).select('payload')) as { payload: string }[];
  return rows.filter((r) => JSON.parse(r.payload).clientId === clientId).length;
}

describe("DELETE /admin/clients/{id} and other clients' tokens", () => {
  it('removing "svc_a" must not delete the stored tokens of the unrelated client "svcXa" (LIKE wildcard)', async () => {
    for (const id of ['svcXa', 'svc_a']) {
      await s.admin.addClient({ clientId: id, mapping: { kind: 'subject_dn', value: `CN=${id},O=Acme` }, scopes: ['read'], defaultResource: OPAQUE }, 'test');
    }
    const cert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['svcXa'] }] });
    await expectIssuedToken(s, await s.token(cert, { grant_type: 'client_credentials', client_id: 'svcXa' }), {
      clientId: 'svcXa',
      presented: cert,
      scopes: ['read'],
      aud: OPAQUE,
    });
    expect(await storedTokensOf('svcXa')).toBe(1);
    expect((await ops.call('DELETE', '/admin/clients/svc_a')).status).toBe(204);
    expect(await storedTokensOf('svcXa')).toBe(1);
  });

  it('removing "Billing" must not delete the stored tokens of "billing" (SQLite LIKE is case-insensitive)', async () => {
    for (const id of ['billing', 'Billing']) {
      await s.admin.addClient(
        { clientId: id, mapping: { kind: 'subject_dn', value: `CN=${id === 'billing' ? 'billing-a' : 'billing-b'},O=Acme` }, scopes: ['read'], defaultResource: OPAQUE },
        'test',
      );
    }
    const cert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing-a'] }] });
    await expectIssuedToken(s, await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing' }), {
      clientId: 'billing',
      presented: cert,
      scopes: ['read'],
      aud: OPAQUE,
    });
    expect(await storedTokensOf('billing')).toBe(1);
    expect((await ops.call('DELETE', '/admin/clients/Billing')).status).toBe(204);
    expect(await storedTokensOf('billing')).toBe(1);
  });
});

describe('lock-out of the admin API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  it('the only administrator cannot withdraw certbound:admin from itself', async () => {
    const only = await createAdminCaller(t, ['certbound:admin'], { clientId: 'only-admin-1' });
    const res = await only.call('PATCH', `/admin/clients/${only.clientId}`, { body: { scope: 'certbound:admin:read' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'ERR_ADMIN_LAST', details: { field: 'scope' } });
    expect((await only.call('POST', '/admin/keys/rotate', { body: {} })).status).toBe(201);
  });

  it('the only administrator cannot delete itself', async () => {
    // the previous test's administrator is removed first, through the service (as the CLI does: no guard)
    for (const c of await t.admin.listClients()) await t.admin.removeClient(c.clientId, 'test');
    const only = await createAdminCaller(t, ['certbound:admin'], { clientId: 'only-admin-2' });
    const res = await only.call('DELETE', `/admin/clients/${only.clientId}`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'ERR_ADMIN_LAST' });
    expect(listedClientIds(await only.call('GET', '/admin/clients'))).toContain(only.clientId);
    // with a second administrator, the first one can go (and its token stops working)
    const second = await createAdminCaller(t, ['certbound:admin'], { clientId: 'second-admin' });
    expect((await second.call('DELETE', `/admin/clients/${only.clientId}`)).status).toBe(204);
    expect((await only.call('GET', '/admin/clients')).status).toBe(401);
  });

  it('an administrator cannot remove the trust anchor its own certificate is issued under (409 ERR_ADMIN_LOCKOUT); another anchor it can', async () => {
    const admin = await createAdminCaller(t, ['certbound:admin'], { clientId: 'anchor-admin' });
    const res = await admin.call('DELETE', '/admin/trust-anchors/test-root');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'ERR_ADMIN_LOCKOUT', details: { field: 'name' } });
    expect(String(res.body.message)).toContain('(client anchor-admin) is issued under trust anchor "test-root"');
    expect(String(res.body.hint)).toContain('certbound trust remove');
    // nothing changed: the anchor is there and the administrator still works
    expect((await t.admin.listTrustAnchors()).map((a) => a.name)).toContain('test-root');
    expect(listedClientIds(await admin.call('GET', '/admin/clients'))).toContain(admin.clientId);
    const other = await createCa({ name: [{ O: ['Partner'] }, { CN: ['Other Root CA'] }] });
    expect((await admin.call('POST', '/admin/trust-anchors', { body: { name: 'other-root', pem: other.pem } })).status).toBe(201);
    expect((await admin.call('DELETE', '/admin/trust-anchors/other-root')).status).toBe(204);
  });
});

describe('an administrator certificate taken out of service', () => {
  it("after the admin client's mapping for certificate A is replaced by one for certificate B, the token bound to A is refused", async () => {
    const admin = await createAdminCaller(s, ['certbound:admin'], { clientId: 'rotating-admin' });
    const keys = await admin.call('GET', '/admin/keys');
    expect(keys.status).toBe(200);
    expect(keys.body.items).toContainEqual(expect.objectContaining({ status: 'active', alg: 'ES256' }));
    // Certificate A (CN=rotating-admin) is compromised: another admin adds the new certificate and removes A's mapping.
    const added = await ops.call('POST', '/admin/clients/rotating-admin/mappings', { body: { kind: 'subject_dn', value: 'CN=rotating-admin-2027,O=Acme' } });
    expect(added.status).toBe(201);
    const old = (await s.admin.showClient('rotating-admin')).mappings.find((m) => m.value === 'CN=rotating-admin,O=Acme')!;
    expect((await ops.call('DELETE', `/admin/clients/rotating-admin/mappings/${old.id}`)).status).toBe(204);
    // Certificate A can no longer get a token ...
    expect(
      (await s.token(admin.client, { grant_type: 'client_credentials', client_id: 'rotating-admin', resource: s.config.adminResource, scope: 'certbound:admin' })).status,
    ).toBe(401);
    // ... but its existing token still administers the server (here: creates a new full administrator).
    const res = await admin.call('POST', '/admin/clients', {
      body: { client_id: 'backdoor', mapping: { kind: 'subject_dn', value: 'CN=backdoor,O=Evil' }, scope: 'certbound:admin', default_resource: s.config.adminResource },
    });
    expect(res.status).toBe(401);
  });
});

describe('the lock-out guard on a connection that outlived a change of anchor names', () => {
  let v: TestServer;
  beforeAll(async () => {
    v = await startTestServer();
  });
  afterAll(() => v?.close());

  /** One request on `agent` (keep-alive: the same TLS connection each time). */
  function onConnection(agent: HttpsAgent, path: string, method: string, token: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(`${v.handle.adminUrl}${path}`, { agent, method, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it("the anchor re-added under another name (same CA) is still the caller's own: 409 ERR_ADMIN_LOCKOUT on the same connection", async () => {
    const admin = await createAdminCaller(v, ['certbound:admin'], { clientId: 'keep-alive-admin' });
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: v.pki.root.pem, cert: v.pki.chainOf(admin.client), key: admin.client.keyPem, servername: 'localhost' });
    try {
      expect(await onConnection(agent, '/admin/clients', 'GET', admin.token)).toBe(200);
      // the CLI's `trust remove` and `trust add`: the same CA certificate under a new name
      await v.admin.removeTrustAnchor('test-root', 'test');
      await v.admin.addTrustAnchor({ name: 'corp-root', pem: v.pki.root.pem, environment: 'prod' }, 'test');
      await v.handle.reload();
      expect(await onConnection(agent, '/admin/trust-anchors/corp-root', 'DELETE', admin.token)).toBe(409);
    } finally {
      agent.destroy();
    }
    expect((await v.admin.listTrustAnchors()).map((a) => a.name)).toEqual(['corp-root']);
    expect(listedClientIds(await adminCall(v, 'GET', '/admin/clients', { cert: admin.client, token: admin.token }))).toContain(admin.clientId);
  });
});

describe('an administrator whose mapping is pinned to its trust anchor', () => {
  it('is served: the admin API finds the anchor of its certificate chain as the token endpoint does', async () => {
    const pinned = await createAdminCaller(s, ['certbound:admin'], { clientId: 'pinned-admin', trustAnchor: 'test-root' });
    expect((await s.admin.showClient('pinned-admin')).mappings[0]?.trustAnchorName).toBe('test-root');
    expect(listedClientIds(await pinned.call('GET', '/admin/clients'))).toContain('pinned-admin');
  });
});

describe('a stored change that this server cannot apply at once', () => {
  let u: TestServer;
  beforeAll(async () => {
    u = await startTestServer();
  });
  afterAll(() => u?.close());

  it('POST /admin/trust-anchors answers 201 for the stored anchor and logs why the reload failed (not a 500 that invites a retry)', async () => {
    const admin = await createAdminCaller(u, ['certbound:admin'], { clientId: 'reload-admin' });
    // A signing key this server cannot read (encrypted at rest, and the server has no key-encryption key):
    // every reload of the keys fails until it is fixed.
    const [key] = await u.database.db('signing_keys').select('public_jwk');
    await u.database
      .db('signing_keys')
      .insert({ kid: 'unreadable', alg: 'ES256', status: 'inactive', private_jwk: 'enc:v1:AAAA', public_jwk: key.public_jwk, created_at: Date.now(), retired_at: null });
    await u.database.db('revisions').where({ name: 'signing_keys' }).increment('revision', 1);
    const partner = await createCa({ name: [{ O: ['Partner'] }, { CN: ['Partner Root CA'] }] });
    const res = await admin.call('POST', '/admin/trust-anchors', { body: { name: 'partner-root', pem: partner.pem, environment: 'prod' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'partner-root' });
    expect((await u.admin.listTrustAnchors()).map((a) => a.name)).toContain('partner-root');
    const failed = u.logs.find((l) => l.event === 'reload_failed' && String(l.msg).startsWith('The change is stored'));
    expect(failed?.msg).toMatch(
      /could not apply it yet \(Signing key unreadable is encrypted at rest but CERTBOUND_KEY_ENCRYPTION_KEY is not set\.\); it tries again every 200 ms/,
    );
  });
});
