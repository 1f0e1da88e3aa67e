/**
 * The admin API for the authorization code flow, over real mTLS with certificate-bound admin tokens and a
 * real database: clients with grant types, redirect URIs, PAR and public clients; the upstream provider
 * (the secret and the private key never shown); end users' consents and refresh tokens. Refusals name
 * the request member and change nothing; reads need certbound:admin:read, writes certbound:admin.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consents, createOidcAdapter } from '../../../src/store/index.js';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const CALLBACK = 'https://app.example.com/callback';
const SECRET = 'the-upstream-secret-9c1e';
let s: TestServer;
let ops: AdminCaller;
let reader: AdminCaller;

const handleOf = (id: string) => createHash('sha256').update(id).digest('base64url').slice(0, 16);

async function counts() {
  const n = async (t: string) => Number((await s.database.db(t).count({ n: '*' }))[0]!.n);
  return {
    clients: await n('clients'),
    audit: await n('audit_log'),
    upstream: await n('upstream_providers'),
    consents: await n('user_consents'),
    payloads: await n('oidc_payloads'),
  };
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
  reader = await createAdminCaller(s, ['certbound:admin:read'], { clientId: 'auditor' });
});
afterAll(() => s?.close());

describe('clients of the authorization code flow', () => {
  it('POST a confidential client with grant types, redirect URIs and PAR; GET shows them; the audit row has them', async () => {
    const body = {
      client_id: 'web',
      mapping: { kind: 'san_dns', value: 'web.example.com' },
      scope: 'read',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [CALLBACK],
    };
    const created = await ops.call('POST', '/admin/clients', { body });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      token_endpoint_auth_method: 'tls_client_auth',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [CALLBACK],
      require_pushed_authorization_requests: true,
    });
    expect((await reader.call('GET', '/admin/clients/web')).body).toMatchObject({ grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [CALLBACK] });
    const audit = await reader.call('GET', '/admin/audit?target=client:web');
    expect(audit.body.items?.[0]).toMatchObject({ action: 'client.add', actor: expect.stringMatching(/^admin:ops:/) });
  });

  it('PUB-1: POST a public client (token_endpoint_auth_method none) without mapping or keys', async () => {
    const created = await ops.call('POST', '/admin/clients', {
      body: {
        client_id: 'mobile',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['http://127.0.0.1:7000/cb'],
        require_pushed_authorization_requests: false,
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      token_endpoint_auth_method: 'none',
      mappings: [],
      jwks: null,
      tls_client_certificate_bound_access_tokens: true,
      require_pushed_authorization_requests: false,
    });
  });

  it('existing client_credentials clients list as before, with grant_types client_credentials', async () => {
    const list = await reader.call('GET', '/admin/clients');
    expect(list.body.items?.find((c) => c.client_id === 'ops')).toMatchObject({
      grant_types: ['client_credentials'],
      redirect_uris: [],
      require_pushed_authorization_requests: true,
    });
  });

  it('PATCH grant types, redirect URIs and PAR', async () => {
    const patched = await ops.call('PATCH', '/admin/clients/web', {
      body: { redirect_uris: [CALLBACK, 'https://app.example.com/cb2'], require_pushed_authorization_requests: false },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({
      redirect_uris: [CALLBACK, 'https://app.example.com/cb2'],
      require_pushed_authorization_requests: false,
      grant_types: ['authorization_code', 'refresh_token'],
    });
  });

  it.each([
    [
      'authorization_code without a redirect URI',
      'POST',
      '/admin/clients',
      { client_id: 'x1', mapping: { kind: 'san_dns', value: 'x1.example.com' }, grant_types: ['authorization_code'] },
      'ERR_GRANT_TYPES_INCONSISTENT',
      'redirect_uris',
    ],
    [
      'refresh_token without authorization_code',
      'POST',
      '/admin/clients',
      { client_id: 'x2', mapping: { kind: 'san_dns', value: 'x2.example.com' }, grant_types: ['refresh_token'] },
      'ERR_GRANT_TYPES_INCONSISTENT',
      'grant_types',
    ],
    [
      'a public client with client_credentials',
      'POST',
      '/admin/clients',
      { client_id: 'x3', token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
      'ERR_PUBLIC_CLIENT',
      'grant_types',
    ],
    [
      'a public client with a mapping',
      'POST',
      '/admin/clients',
      {
        client_id: 'x4',
        token_endpoint_auth_method: 'none',
        mapping: { kind: 'san_dns', value: 'x4.example.com' },
        grant_types: ['authorization_code'],
        redirect_uris: [CALLBACK],
      },
      'ERR_PUBLIC_CLIENT',
      'mapping',
    ],
    [
      'a redirect URI with a fragment',
      'POST',
      '/admin/clients',
      { client_id: 'x5', mapping: { kind: 'san_dns', value: 'x5.example.com' }, grant_types: ['authorization_code'], redirect_uris: ['https://a.example.com/#f'] },
      'ERR_REDIRECT_URI_INVALID',
      'redirect_uris',
    ],
    ['a relative redirect URI', 'PATCH', '/admin/clients/web', { redirect_uris: ['/cb'] }, 'ERR_REDIRECT_URI_INVALID', 'redirect_uris'],
    ['a duplicated redirect URI', 'PATCH', '/admin/clients/web', { redirect_uris: [CALLBACK, CALLBACK] }, 'ERR_REDIRECT_URI_INVALID', 'redirect_uris'],
    [
      'an unknown grant type',
      'POST',
      '/admin/clients',
      { client_id: 'x6', mapping: { kind: 'san_dns', value: 'x6.example.com' }, grant_types: ['implicit'] },
      'ERR_VALIDATION',
      'grant_types[0]',
    ],
    ['removing every redirect URI of a code client', 'PATCH', '/admin/clients/web', { redirect_uris: [] }, 'ERR_GRANT_TYPES_INCONSISTENT', 'redirect_uris'],
    ['bound tokens off for a public client', 'PATCH', '/admin/clients/mobile', { bound_tokens: false }, 'ERR_PUBLIC_CLIENT', 'bound_tokens'],
  ])('refuses %s: 400, the member named, nothing changed', async (_title, method, path, body, code, field) => {
    const before = { counts: await counts(), web: (await reader.call('GET', '/admin/clients/web')).body };
    const res = await ops.call(method, path, { body });
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ code });
    expect((res.body.details as Record<string, unknown>).field ?? (res.body.details as { issues?: { path: string }[] }).issues?.[0]?.path).toBe(field);
    expect({ counts: await counts(), web: (await reader.call('GET', '/admin/clients/web')).body }).toEqual(before);
  });

  it('the last administrator cannot lose client_credentials (409), which its admin tokens come from', async () => {
    const solo = await startTestServer();
    try {
      const admin = await createAdminCaller(solo, ['certbound:admin'], { clientId: 'solo' });
      const res = await admin.call('PATCH', '/admin/clients/solo', { body: { grant_types: ['authorization_code'], redirect_uris: [CALLBACK] } });
      expect(res.status, res.text).toBe(409);
      expect(res.body).toMatchObject({ code: 'ERR_ADMIN_LAST', details: { field: 'grant_types' } });
      expect((await solo.admin.showClient('solo')).grantTypes).toEqual(['client_credentials']);
    } finally {
      await solo.close();
    }
  });
});

describe('the upstream provider', () => {
  it('GET before PUT: 404 with the route that configures it', async () => {
    const res = await reader.call('GET', '/admin/upstream');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'ERR_UPSTREAM_UNKNOWN', hint: 'Configure one: PUT /admin/upstream.' });
  });

  it('PUT with client_secret_basic: the secret is stored, never in a response or the audit log', async () => {
    const put = await ops.call('PUT', '/admin/upstream', {
      body: {
        issuer: 'https://login.example.com/realms/staff',
        client_id: 'certbound',
        token_endpoint_auth_method: 'client_secret_basic',
        client_secret: SECRET,
        scope: 'openid email',
        subject_claim: 'email',
      },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ issuer: 'https://login.example.com/realms/staff', client_secret_set: true, private_key: null, scope: 'openid email', subject_claim: 'email' });
    const got = await reader.call('GET', '/admin/upstream');
    expect(got.body).toMatchObject({ client_secret_set: true });
    const audit = await reader.call('GET', '/admin/audit?target=upstream:default');
    expect(audit.body.items?.[0]).toMatchObject({ action: 'upstream.set', actor: expect.stringMatching(/^admin:ops:/) });
    for (const text of [put.text, got.text, audit.text]) expect(text).not.toContain(SECRET);
  });

  it('PUT with private_key_jwt and a JWK object: shown by its public thumbprint only', async () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
    const put = await ops.call('PUT', '/admin/upstream', {
      body: { issuer: 'https://login.example.com', client_id: 'certbound', token_endpoint_auth_method: 'private_key_jwt', private_key: jwk },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      client_secret_set: false,
      private_key: { kty: 'EC', alg: 'ES384', jwk_thumbprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
    });
    const got = await reader.call('GET', '/admin/upstream');
    expect(got.text).not.toContain(String(jwk.d));
  });

  it.each([
    [{ issuer: 'http://login.example.com', client_id: 'c', token_endpoint_auth_method: 'client_secret_basic', client_secret: 'x' }, 'ERR_UPSTREAM_INVALID', 'issuer'],
    [
      { issuer: 'https://login.example.com', client_id: 'c', token_endpoint_auth_method: 'client_secret_basic', client_secret: 'x', scope: 'email' },
      'ERR_UPSTREAM_INVALID',
      'scope',
    ],
    [{ issuer: 'https://login.example.com', client_id: 'c', token_endpoint_auth_method: 'private_key_jwt', client_secret: 'x' }, 'ERR_UPSTREAM_CREDENTIALS', 'client_secret'],
    [{ issuer: 'https://login.example.com', client_id: 'c', token_endpoint_auth_method: 'private_key_jwt', private_key: 'not a key' }, 'ERR_UPSTREAM_CREDENTIALS', 'private_key'],
    [{ issuer: 'https://login.example.com', client_id: 'c', token_endpoint_auth_method: 'client_secret_basic' }, 'ERR_UPSTREAM_CREDENTIALS', 'client_secret'],
  ])('PUT refuses %j: 400 naming the member, the provider unchanged', async (body, code, field) => {
    const before = { counts: await counts(), got: (await reader.call('GET', '/admin/upstream')).body };
    const res = await ops.call('PUT', '/admin/upstream', { body });
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ code, details: expect.objectContaining({ field }) });
    expect(String(res.body.message)).toMatch(new RegExp(`^${field}: `));
    expect({ counts: await counts(), got: (await reader.call('GET', '/admin/upstream')).body }).toEqual(before);
  });

  it('PUT and DELETE need certbound:admin (403 for a reader, nothing changed)', async () => {
    const before = await counts();
    expect((await reader.call('DELETE', '/admin/upstream')).status).toBe(403);
    expect(
      (
        await reader.call('PUT', '/admin/upstream', {
          body: { issuer: 'https://x.example.com', client_id: 'c', token_endpoint_auth_method: 'client_secret_basic', client_secret: 'x' },
        })
      ).status,
    ).toBe(403);
    expect(await counts()).toEqual(before);
  });

  it('DELETE: removed (204), audited; a second DELETE is 404', async () => {
    expect((await ops.call('DELETE', '/admin/upstream')).status).toBe(204);
    expect((await reader.call('GET', '/admin/upstream')).status).toBe(404);
    expect((await ops.call('DELETE', '/admin/upstream')).body).toMatchObject({ code: 'ERR_UPSTREAM_UNKNOWN' });
  });
});

describe("end users' consents and refresh tokens", () => {
  beforeAll(async () => {
    const Adapter = createOidcAdapter(s.database.db, async () => undefined);
    const now = new Date();
    for (const accountId of ['alice', 'bob@example.com']) {
      await consents.save(s.database.db, { accountId, clientId: 'mobile', scopes: ['openid', 'read'], resources: [API], grantedAt: now, updatedAt: now });
      const grantId = `grant-${accountId}`;
      const common = { grantId, clientId: 'mobile', accountId, iat: Math.floor(Date.now() / 1000), 'x5t#S256': 'X'.repeat(43) };
      await new Adapter('AccessToken').upsert(`at-${accountId}`, { ...common, scope: 'openid read' }, 600);
      await new Adapter('RefreshToken').upsert(`rt-${accountId}`, { ...common, scope: 'openid read' }, 86_400);
    }
  });

  it('GET /admin/consents: all, and filtered by client and user', async () => {
    const all = await reader.call('GET', '/admin/consents');
    expect(all.status, all.text).toBe(200);
    expect(all.body.items?.map((c) => c.user)).toEqual(['alice', 'bob@example.com']);
    expect((await reader.call('GET', `/admin/consents?client_id=mobile&user=${encodeURIComponent('bob@example.com')}`)).body.items).toEqual([
      expect.objectContaining({ client_id: 'mobile', user: 'bob@example.com', scope: 'openid read', resources: [API] }),
    ]);
    expect((await reader.call('GET', '/admin/consents?client_id=web')).body.items).toEqual([]);
    expect((await reader.call('GET', '/admin/consents?nonsense=1')).status).toBe(400);
  });

  it('GET /admin/refresh-tokens: handles, never the tokens, with the bound thumbprint', async () => {
    const list = await reader.call('GET', '/admin/refresh-tokens?client_id=mobile');
    expect(list.status, list.text).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ handle: handleOf('rt-alice'), user: 'alice', 'x5t#S256': 'X'.repeat(43), scope: 'openid read', consumed: false }),
      expect.objectContaining({ handle: handleOf('rt-bob@example.com'), user: 'bob@example.com' }),
    ]);
    expect(list.text).not.toContain('rt-alice');
  });

  it("DELETE /admin/consents/{client_id}/{user}: the consent and that user's tokens at the client go; the response says how many", async () => {
    const res = await ops.call('DELETE', `/admin/consents/mobile/${encodeURIComponent('bob@example.com')}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ revoked: { client_id: 'mobile', user: 'bob@example.com' }, revoked_tokens: 2 });
    expect((await reader.call('GET', '/admin/refresh-tokens')).body.items?.map((t) => t.user)).toEqual(['alice']);
    const again = await ops.call('DELETE', `/admin/consents/mobile/${encodeURIComponent('bob@example.com')}`);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ code: 'ERR_CONSENT_UNKNOWN' });
  });

  it('DELETE /admin/refresh-tokens/{handle}: the token and its grant go; an unknown handle is 404 and changes nothing; a reader gets 403', async () => {
    const before = await counts();
    expect((await ops.call('DELETE', '/admin/refresh-tokens/AAAAAAAAAAAAAAAA')).body).toMatchObject({ code: 'ERR_REFRESH_TOKEN_UNKNOWN' });
    expect((await reader.call('DELETE', `/admin/refresh-tokens/${handleOf('rt-alice')}`)).status).toBe(403);
    expect(await counts()).toEqual(before);
    const res = await ops.call('DELETE', `/admin/refresh-tokens/${handleOf('rt-alice')}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ revoked: { handle: handleOf('rt-alice'), client_id: 'mobile', user: 'alice' }, revoked_tokens: 2 });
    expect((await reader.call('GET', '/admin/refresh-tokens')).body.items).toEqual([]);
    const audit = await reader.call('GET', `/admin/audit?target=${encodeURIComponent(`refresh_token:${handleOf('rt-alice')}`)}`);
    expect(audit.body.items?.[0]).toMatchObject({ action: 'refresh_token.revoke' });
  });
});
