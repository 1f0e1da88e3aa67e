/**
 * The admin API's side of dynamic client registration: initial access tokens (create, list, revoke)
 * and the decision on a client that awaits approval, over real mTLS with an admin token.
 */
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { httpsJson } from '../../helpers/net.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
let s: TestServer;
let ops: AdminCaller;
let reader: AdminCaller;

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
  reader = await createAdminCaller(s, ['certbound:admin:read'], { clientId: 'auditor' });
});
afterAll(() => s?.close());

describe('admin API: registration tokens and approval', () => {
  it('creates a token (shown once), lists it without the token, revokes it; a reader cannot create one; a bad option names the member', async () => {
    const created = await ops.call('POST', '/admin/registration-tokens', {
      body: { expires_in: 600, max_uses: 2, scope: 'read', resources: [API], environments: ['prod'], approval: 'manual' },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ max_uses: 2, uses: 0, scope: 'read', approval: 'manual', environments: ['prod'] });
    const token = String(created.body.token);
    const listed = await reader.call('GET', '/admin/registration-tokens');
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(token);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: created.body.id, revoked_at: null })]);
    expect((await reader.call('POST', '/admin/registration-tokens', { body: {} })).status).toBe(403);
    const bad = await ops.call('POST', '/admin/registration-tokens', { body: { max_uses: 0 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('max_uses');
    const revoked = await ops.call('POST', `/admin/registration-tokens/${created.body.id}/revoke`);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    expect((await ops.call('POST', '/admin/registration-tokens/nope/revoke')).body.code).toBe('ERR_REGISTRATION_TOKEN_UNKNOWN');
    expect((await s.admin.listAudit({ target: `registration-token:${created.body.id}` })).map((a) => a.action)).toEqual(['registration_token.revoke', 'registration_token.create']);
  });

  it('adds, lists and removes a software statement issuer', async () => {
    const jwk = await exportJWK((await generateKeyPair('ES256')).publicKey);
    const created = await ops.call('POST', '/admin/software-issuers', { body: { name: 'https://directory.example.com', jwks: { keys: [jwk] }, scope: 'read' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ name: 'https://directory.example.com', scope: 'read', approval: 'auto', jwks_uri: null });
    expect((await ops.call('POST', '/admin/software-issuers', { body: { name: 'https://directory.example.com', jwks: { keys: [jwk] } } })).status).toBe(409);
    expect((await reader.call('GET', '/admin/software-issuers')).body.items).toEqual([expect.objectContaining({ name: 'https://directory.example.com' })]);
    expect((await ops.call('DELETE', `/admin/software-issuers/${encodeURIComponent('https://directory.example.com')}`)).status).toBe(204);
    expect((await ops.call('DELETE', `/admin/software-issuers/${encodeURIComponent('https://directory.example.com')}`)).status).toBe(404);
  });

  it("approves a pending client (it then gets a token) and rejects another (it is removed); a client that is not pending is refused with 409; the client JSON says pending, approved, or null for an administrator's client", async () => {
    const { token } = await s.admin.createRegistrationToken({ scopes: ['read'], resources: [API], approval: 'manual' }, 'test');
    const register = async (name: string) => {
      const cert = await s.pki.client({ subject: [{ CN: [name] }], san: [{ type: 'dns', value: `${name}.example.com` }] });
      const res = await httpsJson(`${s.mtlsUrl}/register`, {
        agent: s.agent(cert),
        method: 'POST',
        body: JSON.stringify({ tls_client_auth_san_dns: `${name}.example.com` }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      });
      expect(res.status, res.text).toBe(201);
      return { cert, clientId: String(res.body.client_id) };
    };
    const approved = await register('approved');
    const rejected = await register('rejected');
    expect((await s.token(approved.cert, { grant_type: 'client_credentials', client_id: approved.clientId })).status).toBe(401);
    expect((await reader.call('GET', `/admin/clients/${approved.clientId}`)).body.registration).toBe('pending');
    const res = await ops.call('POST', `/admin/clients/${approved.clientId}/approve`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.client_id).toBe(approved.clientId);
    expect(res.body.registration).toBe('approved');
    const states = Object.fromEntries(
      ((await reader.call('GET', '/admin/clients')).body.items as { client_id: string; registration: unknown }[]).map((c) => [c.client_id, c.registration]),
    );
    expect(states).toMatchObject({ [approved.clientId]: 'approved', [rejected.clientId]: 'pending', ops: null, auditor: null });
    expect((await s.token(approved.cert, { grant_type: 'client_credentials', client_id: approved.clientId })).status).toBe(200);
    expect((await ops.call('POST', `/admin/clients/${approved.clientId}/approve`)).status).toBe(409);
    expect((await ops.call('POST', `/admin/clients/${rejected.clientId}/reject`)).status).toBe(204);
    expect((await ops.call('GET', `/admin/clients/${rejected.clientId}`)).status).toBe(404);
  });
});
