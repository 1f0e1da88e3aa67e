/**
 * H15-6: the guard that keeps an administrator counts only clients that can sign in to the admin API
 * (the authenticator's own rules, src/app/administrators.ts): a client with certbound:admin but without
 * bound tokens, or whose only mapping has ended, does not stand in for the last one that can.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, type AdminCaller, adminTokenFor, createAdminCaller, listedClientIds } from '../../helpers/admin.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ADMIN = 'certbound:admin';
let t: TestServer;
let ops: AdminCaller;

/** An administrator by scope that cannot sign in: what the admin API answers when it tries. */
async function triesToSignIn(clientId: string, cn: string): Promise<number> {
  const cert = await t.pki.client({ subject: [{ O: ['Acme'] }, { CN: [cn] }] });
  const res = await t.token(cert, { grant_type: 'client_credentials', client_id: clientId, resource: t.config.adminResource, scope: ADMIN });
  if (res.status !== 200) return res.status;
  return (await adminCall(t, 'GET', '/admin/clients', { cert, token: String(res.body.access_token) })).status;
}

beforeAll(async () => {
  t = await startTestServer();
  ops = await createAdminCaller(t, [ADMIN], { clientId: 'ops' });
});
afterAll(() => t?.close());

describe('H15-6 last administrator: only clients that can sign in count', () => {
  it('H15-6: with a second administrator that has --no-bound-tokens, removing or de-scoping the one that can sign in is refused with 409; nothing changes', async () => {
    await t.admin.addClient(
      {
        clientId: 'unbound-admin',
        mapping: { kind: 'subject_dn', value: 'CN=unbound-admin,O=Acme' },
        scopes: [ADMIN],
        defaultResource: t.config.adminResource,
        boundTokens: false,
      },
      'test',
    );
    // it really cannot: its token is not certificate-bound, and the admin API refuses it
    expect(await triesToSignIn('unbound-admin', 'unbound-admin')).toBe(401);

    const descoped = await ops.call('PATCH', '/admin/clients/ops', { body: { scope: 'certbound:admin:read' } });
    expect(descoped.status).toBe(409);
    expect(descoped.body).toMatchObject({ code: 'ERR_ADMIN_LAST', details: { field: 'scope' } });
    expect(String(descoped.body.message)).toContain('"ops" is the only client that can sign in to the admin API with certbound:admin');
    expect(String(descoped.body.message)).toContain('client unbound-admin does not get certificate-bound tokens');
    const removed = await ops.call('DELETE', '/admin/clients/ops');
    expect(removed.status).toBe(409);
    expect(removed.body).toMatchObject({ code: 'ERR_ADMIN_LAST' });
    // its own bound tokens are part of signing in too
    const unbinding = await ops.call('PATCH', '/admin/clients/ops', { body: { bound_tokens: false } });
    expect(unbinding.status).toBe(409);
    expect(String(unbinding.body.message)).toContain('turning bound tokens off would leave nobody able');

    expect(await t.admin.showClient('ops')).toMatchObject({ scopes: [ADMIN], boundTokens: true });
    expect(listedClientIds(await ops.call('GET', '/admin/clients'))).toContain(ops.clientId);
  });

  it('H15-6: an administrator whose only mapping has ended does not count either; one that can sign in does', async () => {
    const ended = await t.admin.addClient(
      {
        clientId: 'ended-admin',
        mapping: { kind: 'subject_dn', value: 'CN=ended-admin,O=Acme', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') },
        scopes: [ADMIN],
        defaultResource: t.config.adminResource,
      },
      'test',
    );
    expect(ended.mappings).toHaveLength(1);
    expect(await triesToSignIn('ended-admin', 'ended-admin')).toBe(401);
    const removed = await ops.call('DELETE', '/admin/clients/ops');
    expect(removed.status).toBe(409);
    expect(String(removed.body.message)).toContain('client ended-admin has no certificate mapping valid now');

    // a second administrator that signs in: now "ops" may go, and its token stops working
    const second = await createAdminCaller(t, [ADMIN], { clientId: 'second-admin' });
    expect(listedClientIds(await second.call('GET', '/admin/clients'))).toContain(second.clientId);
    expect((await second.call('DELETE', '/admin/clients/ops')).status).toBe(204);
    expect((await ops.call('GET', '/admin/clients')).status).toBe(401);
    // and "second-admin" is the last one again
    expect((await second.call('DELETE', '/admin/clients/second-admin')).status).toBe(409);
  });

  it('H15-6: the authenticator refuses an administrator whose bound tokens were turned off since its token was issued (the same rule as the guard)', async () => {
    const a = await createAdminCaller(t, [ADMIN], { clientId: 'turned-off' });
    expect(listedClientIds(await a.call('GET', '/admin/clients'))).toContain(a.clientId);
    await t.admin.updateClient('turned-off', { boundTokens: false }, 'test');
    const res = await a.call('GET', '/admin/clients');
    expect(res.status).toBe(401);
    expect(t.logs.some((l) => l.event === 'admin_auth_refused' && String(l.detail).includes('client turned-off does not get certificate-bound tokens'))).toBe(true);
    // a fresh token is not bound at all, and refused as well
    const fresh = await adminTokenFor(t, a.client, 'turned-off', [ADMIN], { bound: false });
    expect((await a.call('GET', '/admin/clients', { token: fresh })).status).toBe(401);
  });
});
