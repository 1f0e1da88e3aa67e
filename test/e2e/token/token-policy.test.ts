/**
 * The token endpoint's resource and scope policy (RFC 8707 with RFC 6749 §3.3): a token names one
 * resource the client holds at least one scope on, and carries scopes; everything else is refused with
 * invalid_target or invalid_scope and issues nothing. Also the main listener's answer to clients that
 * did not use the mTLS aliases. Real TLS, certificates made now, a real database; plain undici as the
 * OAuth client (no OAuth client library is installed).
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson, type JsonResponse } from '../../helpers/net.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';
let s: TestServer;
let shop: Issued;
let elsewhere: Issued;

/** Opaque tokens of BILLING are rows: a refused request must add none. */
async function storedTokens(): Promise<number> {
  return (await s.database.db('oidc_payloads').where({ model: 'ClientCredentials' }).select('id')).length;
}

function expectRefused(res: JsonResponse, error: 'invalid_target' | 'invalid_scope') {
  expect(res.status, res.text).toBe(400);
  expect(res.body.error).toBe(error);
  expect(res.body.access_token).toBeUndefined();
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: ORDERS, scopes: ['orders.read', 'orders.write'] }, 'test');
  // Another team's API, with opaque tokens so that an issued token would leave a row.
  await s.admin.addResourceServer({ identifier: BILLING, scopes: ['billing.read'], tokenFormat: 'opaque' }, 'test');
  await s.admin.addClient({ clientId: 'shop', mapping: { kind: 'san_dns', value: 'shop.example.com' }, scopes: ['orders.read'], defaultResource: ORDERS }, 'test');
  // Its default resource is an API it holds no scope on.
  await s.admin.addClient({ clientId: 'elsewhere', mapping: { kind: 'san_dns', value: 'elsewhere.example.com' }, scopes: ['orders.read'], defaultResource: BILLING }, 'test');
  shop = await s.pki.client({ subject: [{ CN: ['shop'] }], san: [{ type: 'dns', value: 'shop.example.com' }] });
  elsewhere = await s.pki.client({ subject: [{ CN: ['elsewhere'] }], san: [{ type: 'dns', value: 'elsewhere.example.com' }] });
});
afterAll(() => s?.close());

describe('H15-1: a token only for a resource the client holds a scope on, with scopes', () => {
  it('H15-1: scope omitted → the token carries the scopes the client holds on the resource (RFC 6749 §3.3 default)', async () => {
    const res = await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: ORDERS });
    await expectIssuedToken(s, res, { clientId: 'shop', presented: shop, scopes: ['orders.read'], aud: ORDERS });
  });

  it('H15-1: scope= (sent without a value) is treated as omitted (RFC 6749 §3.2) → the held scopes', async () => {
    const res = await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: ORDERS, scope: '' });
    await expectIssuedToken(s, res, { clientId: 'shop', presented: shop, scopes: ['orders.read'], aud: ORDERS });
  });

  it('H15-1: another API the client holds no scope on, scope omitted → invalid_target naming what the client holds and the CLI/admin API grant; no token', async () => {
    const before = await storedTokens();
    const res = await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: BILLING });
    expectRefused(res, 'invalid_target');
    const description = String(res.body.error_description);
    expect(description).toContain(BILLING);
    expect(description).toContain('orders.read');
    expect(description).toContain('certbound client update shop --scope');
    expect(description).toContain('PATCH /admin/clients/shop');
    expect(await storedTokens()).toBe(before);
  });

  it('H15-1: the same with scope= (empty) → invalid_target; no token', async () => {
    const before = await storedTokens();
    expectRefused(await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: BILLING, scope: '' }), 'invalid_target');
    expect(await storedTokens()).toBe(before);
  });

  it('H15-1: scope=" " (blank, not RFC 6749 §3.3 syntax) → invalid_scope that says how to send scopes, at a held and at a foreign resource; no token', async () => {
    const before = await storedTokens();
    for (const resource of [ORDERS, BILLING]) {
      const res = await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource, scope: ' ' });
      expectRefused(res, 'invalid_scope');
      expect(String(res.body.error_description)).toMatch(/separated by single spaces.*omit/);
    }
    expect(await storedTokens()).toBe(before);
  });

  it('H15-1: a scope the client holds but the resource does not offer → invalid_scope; no token', async () => {
    const before = await storedTokens();
    const res = await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: BILLING, scope: 'orders.read' });
    expectRefused(res, 'invalid_scope');
    expect(res.body.scope).toBe('orders.read');
    expect(String(res.body.error_description)).toMatch(
      /not offered by https:\/\/billing\.example\.com: the client holds no scope there; an administrator grants one with certbound client update shop --scope 'orders.read <scope>'/,
    );
    expect(await storedTokens()).toBe(before);
  });

  it('H15-1: a scope the resource offers but the client does not hold → invalid_scope naming the scopes it may request there', async () => {
    const res = await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: ORDERS, scope: 'orders.read orders.write' });
    expectRefused(res, 'invalid_scope');
    expect(res.body.scope).toBe('orders.write');
    expect(String(res.body.error_description)).toMatch(/orders\.write is not allowed for this client: request only scopes the client holds there \(orders\.read\), or omit scope/);
  });

  it('H15-1: the default-resource path (no resource=) to an API the client holds no scope on → invalid_target; no token', async () => {
    const before = await storedTokens();
    for (const form of [{}, { scope: '' }] as Record<string, string>[]) {
      const res = await s.token(elsewhere, { grant_type: 'client_credentials', client_id: 'elsewhere', ...form });
      expectRefused(res, 'invalid_target');
      expect(String(res.body.error_description)).toContain(BILLING);
    }
    expect(await storedTokens()).toBe(before);
  });

  it('H15-1: the admin API resource without any admin scope → invalid_target, no admin token, whatever the scope parameter', async () => {
    for (const form of [{}, { scope: '' }] as Record<string, string>[]) {
      expectRefused(await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: s.config.adminResource, ...form }), 'invalid_target');
    }
    expectRefused(await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: s.config.adminResource, scope: ' ' }), 'invalid_scope');
    expectRefused(await s.token(shop, { grant_type: 'client_credentials', client_id: 'shop', resource: s.config.adminResource, scope: 'orders.read' }), 'invalid_scope');
  });

  it('H15-1: a grant applies on the very next request (cached lookups): once the client holds billing.read, its token carries it', async () => {
    await s.admin.updateClient('elsewhere', { scopes: ['orders.read', 'billing.read'] }, 'test');
    const res = await s.token(elsewhere, { grant_type: 'client_credentials', client_id: 'elsewhere' });
    await expectIssuedToken(s, res, { clientId: 'elsewhere', presented: elsewhere, scopes: ['billing.read'], aud: BILLING });
  });
});

describe('H15-7: the main listener (no client certificate requested) names the mTLS alias', () => {
  const routes = [
    ['token', '/token', { grant_type: 'client_credentials', client_id: 'shop' }],
    ['introspection', '/token/introspection', { token: 'x', client_id: 'shop' }],
    ['revocation', '/token/revocation', { token: 'x', client_id: 'shop' }],
  ] as const;
  for (const [name, path, form] of routes) {
    it(`H15-7/AL-3: ${name} on the main listener → invalid_client whose description names ${name} at the mTLS alias URL`, async () => {
      const res = await httpsJson(`${s.handle.mainUrl}${path}`, { agent: s.agent(shop), form });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      const description = String(res.body.error_description);
      expect(description).toContain(`${s.mtlsUrl}${path}`);
      expect(description).toContain('mtls_endpoint_aliases');
      expect(description).toMatch(/ref [0-9a-f]{8}/);
    });
  }

  it('H15-7/BT-2: a private_key_jwt client (bound tokens) authenticates on the main listener but gets no unbound token: invalid_grant naming the token endpoint alias', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'agent-1', alg: 'ES256', use: 'sig' }] };
    await s.admin.addClient({ clientId: 'agent', privateKeyJwtJwks: JSON.stringify(jwks), scopes: ['orders.read'], defaultResource: ORDERS }, 'test');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'agent-1' })
      .setIssuer('agent')
      .setSubject('agent')
      .setAudience(s.issuer)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    const res = await httpsJson(`${s.handle.mainUrl}/token`, {
      agent: s.agent(),
      form: { grant_type: 'client_credentials', client_id: 'agent', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(res.body.access_token).toBeUndefined();
    expect(String(res.body.error_description)).toContain(`${s.mtlsUrl}/token (mtls_endpoint_aliases.token_endpoint`);
  });

  it('H15-7: at the mTLS alias itself, a client without a certificate is told to present one, not sent elsewhere', async () => {
    const res = await s.token(undefined, { grant_type: 'client_credentials', client_id: 'shop' });
    expect(res.status).toBe(401);
    expect(String(res.body.error_description)).not.toContain('mtls_endpoint_aliases');
  });
});
