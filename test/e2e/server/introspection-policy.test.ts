/**
 * RFC 7662 introspection over real mTLS: who may read a token (its own client, or a client a resource
 * server names in introspection_clients for its audience), and introspection of certbound's own JWT
 * access tokens (RFC 9068) with their cnf (RFC 8705 §3.2). Certificates made now, a real database;
 * plain undici as the OAuth client (no OAuth client library is installed).
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { signingKeys } from '../../../src/store/index.js';
import { createAdminCaller } from '../../helpers/admin.js';
import { runCliCaptured } from '../../helpers/cli.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson, type JsonResponse } from '../../helpers/net.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ORDERS = 'https://orders.example.com';
const REPORTS = 'https://reports.example.com';
let s: TestServer;
const certs: Record<string, Issued> = {};

function introspect(as: string, token: string, extra: Record<string, string> = {}): Promise<JsonResponse> {
  return httpsJson(`${s.handle.mtlsUrl}/token/introspection`, { agent: s.agent(certs[as]), form: { token, client_id: as, ...extra } });
}

/** The scope each resource offers (and every client here that may use it holds). */
const SCOPE_OF: Record<string, string> = { [ORDERS]: 'orders', [REPORTS]: 'reports' };

async function tokenOf(clientId: string, resource: string): Promise<string> {
  const res = await s.token(certs[clientId], { grant_type: 'client_credentials', client_id: clientId, resource });
  await expectIssuedToken(s, res, { clientId, presented: certs[clientId]!, scopes: [SCOPE_OF[resource]!], aud: resource });
  return String(res.body.access_token);
}

async function addClient(clientId: string, scopes: string[] = []): Promise<void> {
  await s.admin.addClient({ clientId, mapping: { kind: 'san_dns', value: `${clientId}.example.com` }, scopes }, 'test');
  certs[clientId] = await s.pki.client({ subject: [{ CN: [clientId] }], san: [{ type: 'dns', value: `${clientId}.example.com` }] });
}

/** An at+jwt signed with the server's own active key (from the store), with `claims` over valid defaults. */
async function signedByServer(claims: Record<string, unknown>): Promise<string> {
  const key = (await signingKeys.list(s.database.db, s.config.keyEncryptionKey)).find((k) => k.status === 'active')!;
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: s.issuer, sub: 'worker', client_id: 'worker', aud: REPORTS, scope: 'reports', iat: now, exp: now + 300, jti: randomUUID(), ...claims };
  return new SignJWT(body).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(await importJWK(key.privateJwk, key.alg));
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: ORDERS, scopes: ['orders'], tokenFormat: 'opaque' }, 'test');
  await s.admin.addResourceServer({ identifier: REPORTS, scopes: ['reports'] }, 'test');
  await addClient('worker', ['orders', 'reports']);
  // The resource servers' own identities, and a client that is neither.
  await addClient('orders-rs');
  await addClient('reports-rs');
  await addClient('nosy', ['orders']);
  await s.admin.addResourceServer({ identifier: ORDERS, scopes: ['orders'], tokenFormat: 'opaque', introspectionClients: ['orders-rs'] }, 'test');
  await s.admin.addResourceServer({ identifier: REPORTS, scopes: ['reports'], introspectionClients: ['reports-rs'] }, 'test');
});
afterAll(() => s?.close());

describe('H15-2: only the token client or an introspection client of its audience may introspect', () => {
  it('H15-2/BT-13: an opaque token introspects as active with cnf for its own client and for the resource server named in introspection_clients', async () => {
    const token = await tokenOf('worker', ORDERS);
    for (const caller of ['worker', 'orders-rs']) {
      const res = await introspect(caller, token);
      expect(res.status).toBe(200);
      expect(res.body, caller).toMatchObject({ active: true, client_id: 'worker', aud: ORDERS, scope: 'orders', cnf: { 'x5t#S256': x5tS256(certs.worker!.der) } });
    }
  });

  it('H15-2: any other authenticated client, also the introspection client of another audience, gets exactly {"active": false} (RFC 7662 §2.2); the token stays active', async () => {
    const token = await tokenOf('worker', ORDERS);
    for (const caller of ['nosy', 'reports-rs']) {
      const res = await introspect(caller, token);
      expect(res.status, caller).toBe(200);
      expect(res.body, caller).toEqual({ active: false });
    }
    expect((await introspect('orders-rs', token)).body.active).toBe(true);
  });

  it('H15-2: a change to introspection_clients applies on the next request, without a restart (granted, then withdrawn with [])', async () => {
    const token = await tokenOf('worker', ORDERS);
    await s.admin.addResourceServer({ identifier: ORDERS, scopes: ['orders'], tokenFormat: 'opaque', introspectionClients: ['orders-rs', 'nosy'] }, 'test');
    expect((await introspect('nosy', token)).body.active).toBe(true);
    // a later update that does not name them keeps them
    await s.admin.addResourceServer({ identifier: ORDERS, scopes: ['orders'], tokenFormat: 'opaque' }, 'test');
    expect((await introspect('nosy', token)).body.active).toBe(true);
    await s.admin.addResourceServer({ identifier: ORDERS, scopes: ['orders'], tokenFormat: 'opaque', introspectionClients: ['orders-rs'] }, 'test');
    expect((await introspect('nosy', token)).body).toEqual({ active: false });
  });

  it('H15-2: removing a client removes it from introspection_clients, so a new client under the same id cannot introspect (audited)', async () => {
    await addClient('departed');
    await s.admin.addResourceServer({ identifier: ORDERS, scopes: ['orders'], tokenFormat: 'opaque', introspectionClients: ['orders-rs', 'departed'] }, 'test');
    const token = await tokenOf('worker', ORDERS);
    expect((await introspect('departed', token)).body.active).toBe(true);
    await s.admin.removeClient('departed', 'test');
    expect((await s.admin.listResourceServers()).find((rs) => rs.identifier === ORDERS)?.introspectionClients).toEqual(['orders-rs']);
    await addClient('departed');
    expect((await introspect('departed', token)).body).toEqual({ active: false });
    expect((await introspect('orders-rs', token)).body.active).toBe(true);
    const audit = await s.database
      .db('audit_log')
      .where({ action: 'resource.update', target: `resource:${ORDERS}` })
      .orderBy('id', 'desc')
      .first();
    expect(JSON.parse(String(audit.after)).introspectionClients).toEqual(['orders-rs']);
  });

  it('H15-2: the admin API sets introspection_clients (POST/PUT), shows it, refuses an unknown client id with the field named and changes nothing; the OpenAPI document has the member', async () => {
    const admin = await createAdminCaller(s, ['certbound:admin']);
    const created = await admin.call('POST', '/admin/resource-servers', { body: { identifier: 'https://audit.example.com', scope: 'audit', introspection_clients: ['nosy'] } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.introspection_clients).toEqual(['nosy']);
    const path = `/admin/resource-servers/${encodeURIComponent('https://audit.example.com')}`;
    const unknown = await admin.call('PUT', path, { body: { scope: 'audit', introspection_clients: ['nosy', 'ghost'] } });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'ERR_CLIENT_UNKNOWN', details: { field: 'introspection_clients' } });
    expect(String(unknown.body.message)).toContain('ghost');
    expect((await admin.call('GET', path)).body.introspection_clients).toEqual(['nosy']);
    const malformed = await admin.call('PUT', path, { body: { scope: 'audit', introspection_clients: ['has space'] } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('ERR_VALIDATION');
    const cleared = await admin.call('PUT', path, { body: { scope: 'audit', introspection_clients: [] } });
    expect(cleared.body.introspection_clients).toEqual([]);
    const openapi = await admin.call('GET', '/admin/openapi.json');
    const schemas = (openapi.body.components as { schemas: Record<string, { properties: Record<string, unknown> }> }).schemas;
    for (const name of ['ResourceServer', 'CreateResourceServerRequest', 'UpdateResourceServerRequest'])
      expect(schemas[name]!.properties, name).toHaveProperty('introspection_clients');
  });
  it('H15-2: the CLI sets them with resource add --introspection-clients, lists them, refuses an unknown client naming it (nothing written), and "" removes them', async () => {
    const env = { CERTBOUND_DATABASE_URL: s.database.url };
    const id = 'https://ledger.example.com';
    const add = await runCliCaptured(env, 'resource', 'add', '--id', id, '--scope', 'ledger', '--introspection-clients', 'reports-rs orders-rs');
    expect(add, add.err).toMatchObject({ code: 0, out: expect.stringContaining('introspected by reports-rs orders-rs') });
    const refused = await runCliCaptured(env, 'resource', 'add', '--id', id, '--scope', 'ledger', '--introspection-clients', 'ghost');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('"ghost"');
    expect(refused.err).toContain('certbound client add');
    const list = JSON.parse((await runCliCaptured(env, 'resource', 'list', '--json')).out) as { identifier: string; introspection_clients: string[] }[];
    expect(list.find((r) => r.identifier === id)?.introspection_clients).toEqual(['reports-rs', 'orders-rs']);
    expect((await runCliCaptured(env, 'resource', 'add', '--id', id, '--scope', 'ledger', '--introspection-clients', '')).code).toBe(0);
    expect((await s.admin.showResourceServer(id)).introspectionClients).toEqual([]);
  });
});

describe('H15-3: certbound JWT access tokens can be introspected', () => {
  it('H15-3/BT-13: a JWT access token introspects as active with its claims and the top-level cnf, for its client and its resource server', async () => {
    const token = await tokenOf('worker', REPORTS);
    expect(token.split('.')).toHaveLength(3);
    for (const caller of ['worker', 'reports-rs']) {
      const res = await introspect(caller, token, { token_type_hint: 'access_token' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({
        active: true,
        client_id: 'worker',
        aud: REPORTS,
        scope: 'reports',
        iss: s.issuer,
        token_type: 'Bearer',
        cnf: { 'x5t#S256': x5tS256(certs.worker!.der) },
      });
      expect(Number(res.body.exp)).toBeGreaterThan(Date.now() / 1000);
    }
  });

  it('H15-2/H15-3: the same JWT for a client that is neither its client nor an introspection client of its audience → {"active": false}', async () => {
    const token = await tokenOf('worker', REPORTS);
    for (const caller of ['nosy', 'orders-rs']) expect((await introspect(caller, token)).body, caller).toEqual({ active: false });
  });

  it('H15-3: forged (another key), tampered (claims changed), foreign-issuer and expired JWTs → 200 {"active": false}; the same construction when valid is active', async () => {
    const now = Math.floor(Date.now() / 1000);
    // control: signed with the server's key and valid claims, so the refusals below are about what they change
    expect((await introspect('reports-rs', await signedByServer({}))).body.active).toBe(true);
    const { privateKey } = await generateKeyPair('ES256');
    const real = await tokenOf('worker', REPORTS);
    const [header, , signature] = real.split('.');
    const claims = JSON.parse(Buffer.from(real.split('.')[1]!, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'reports admin' })).toString('base64url')}.${signature}`;
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: JSON.parse(Buffer.from(header!, 'base64url').toString()).kid, typ: 'at+jwt' })
      .sign(privateKey);
    const cases = {
      forged,
      tampered,
      foreignIssuer: await signedByServer({ iss: 'https://other-as.example.com' }),
      expired: await signedByServer({ iat: now - 600, exp: now - 60 }),
      notAnAccessToken: await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey),
      garbage: 'eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln',
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await introspect('reports-rs', token);
      expect(res.status, name).toBe(200);
      expect(res.body, name).toEqual({ active: false });
    }
  });

  it('H15-3: a JWT of a client that was removed since → {"active": false}', async () => {
    await addClient('temp', ['reports']);
    const token = await tokenOf('temp', REPORTS);
    expect((await introspect('reports-rs', token)).body.active).toBe(true);
    await s.admin.removeClient('temp', 'test');
    expect((await introspect('reports-rs', token)).body).toEqual({ active: false });
  });

  it('H15-3/RFC 7009: revocation of a JWT access token stays 400 unsupported_token_type, saying why and what to use; the token is still active', async () => {
    const token = await tokenOf('worker', REPORTS);
    const res = await httpsJson(`${s.handle.mtlsUrl}/token/revocation`, { agent: s.agent(certs.worker), form: { token, client_id: 'worker' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_token_type');
    expect(String(res.body.error_description)).toMatch(/cannot be revoked.*--format opaque/);
    expect((await introspect('worker', token)).body.active).toBe(true);
  });
});
