import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson, rawHttpsGet } from '../../helpers/net.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const OPAQUE_API = 'https://opaque.example.com';
const JWT_API = 'https://jwt.example.com';
let s: TestServer;
let worker: Issued;
let gateway: Issued;

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: OPAQUE_API, scopes: ['orders'], tokenFormat: 'opaque', ttl: 120 }, 'test');
  await s.admin.addResourceServer({ identifier: JWT_API, scopes: ['orders'] }, 'test');
  await s.admin.addClient({ clientId: 'worker', mapping: { kind: 'san_uri', value: 'spiffe://acme/worker' }, scopes: ['orders'], defaultResource: OPAQUE_API }, 'test');
  // The resource server introspects as a registered client of its own.
  await s.admin.addClient({ clientId: 'orders-api', mapping: { kind: 'san_dns', value: 'orders-api.example.com' } }, 'test');
  await s.admin.addResourceServer({ identifier: OPAQUE_API, scopes: ['orders'], tokenFormat: 'opaque', ttl: 120, introspectionClients: ['orders-api'] }, 'test');
  worker = await s.pki.client({ subject: [{ CN: ['worker'] }], san: [{ type: 'url', value: 'spiffe://acme/worker' }] });
  gateway = await s.pki.client({ subject: [{ CN: ['orders-api'] }], san: [{ type: 'dns', value: 'orders-api.example.com' }] });
});
afterAll(() => s?.close());

describe('discovery', () => {
  it('PKI-7/SS-6/MD-10/AL-2: metadata lists both mTLS methods, bound tokens and mtls_endpoint_aliases on the mTLS URL', async () => {
    const res = await httpsJson(`${s.handle.mainUrl}/.well-known/oauth-authorization-server`, { agent: s.agent() });
    expect(res.status).toBe(200);
    const m = res.body;
    expect(m.issuer).toBe(s.issuer);
    expect(m.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    expect(m.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(m.mtls_endpoint_aliases).toEqual({
      token_endpoint: `${s.mtlsUrl}/token`,
      introspection_endpoint: `${s.mtlsUrl}/token/introspection`,
      revocation_endpoint: `${s.mtlsUrl}/token/revocation`,
      registration_endpoint: `${s.mtlsUrl}/register`,
      pushed_authorization_request_endpoint: `${s.mtlsUrl}/request`,
    });
    expect(m.registration_endpoint).toBe(`${s.mtlsUrl}/register`);
    expect(m.jwks_uri).toBe(`${s.issuer}/jwks`);
  });

  it('RFC 8414: the metadata lists what certbound serves (client_credentials, the code flow with PAR and PKCE S256, refresh) and nothing it does not (OpenID Connect, DPoP)', async () => {
    for (const doc of ['oauth-authorization-server', 'openid-configuration']) {
      const m = (await httpsJson(`${s.handle.mainUrl}/.well-known/${doc}`, { agent: s.agent() })).body as Record<string, unknown>;
      expect([...(m.grant_types_supported as string[])].sort(), doc).toEqual(['authorization_code', 'client_credentials', 'refresh_token']);
      expect(m.response_types_supported, doc).toEqual(['code']);
      expect(m.code_challenge_methods_supported, doc).toEqual(['S256']);
      expect(m.authorization_response_iss_parameter_supported, doc).toBe(true);
      expect(m.authorization_endpoint, doc).toBe(`${s.issuer}/auth`);
      expect(m.pushed_authorization_request_endpoint, doc).toBe(`${s.issuer}/request`);
      // Required per client (its registration), not by the server: the member is absent.
      expect(m, doc).not.toHaveProperty('require_pushed_authorization_requests');
      for (const member of [
        'userinfo_endpoint',
        'end_session_endpoint',
        'dpop_signing_alg_values_supported',
        'claims_supported',
        'id_token_signing_alg_values_supported',
        'request_parameter_supported',
        'subject_types_supported',
      ]) {
        expect(m, `${doc}: ${member}`).not.toHaveProperty(member);
      }
      expect(m.token_endpoint, doc).toBe(`${s.issuer}/token`);
      expect(m.introspection_endpoint, doc).toBe(`${s.issuer}/token/introspection`);
    }
    // the endpoints themselves are not served either
    for (const path of ['/me', '/session/end']) {
      expect((await httpsJson(`${s.handle.mainUrl}${path}`, { agent: s.agent(), method: 'POST', form: {} })).status, path).toBe(404);
    }
  });

  it("H15-8: neither discovery document claims scopes certbound does not serve (no openid) nor lists the registered APIs' scopes to unauthenticated callers", async () => {
    for (const doc of ['oauth-authorization-server', 'openid-configuration']) {
      const res = await httpsJson(`${s.handle.mainUrl}/.well-known/${doc}`, { agent: s.agent() });
      expect(res.status, doc).toBe(200);
      expect(res.body, doc).not.toHaveProperty('scopes_supported');
      expect(res.text, doc).not.toContain('"openid"');
    }
  });

  it('AL-4: endpoint URLs come from the configured issuer, never from the Host header', async () => {
    const res = await rawHttpsGet(`${s.handle.mainUrl}/.well-known/openid-configuration`, {
      ca: s.pki.root.pem,
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil2.example' },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).token_endpoint).toBe(`${s.issuer}/token`);
    expect(res.text).not.toContain('evil.example');
  });

  it('health: /healthz and /readyz (database reachable)', async () => {
    expect((await httpsJson(`${s.handle.mainUrl}/healthz`, { agent: s.agent() })).body).toEqual({ status: 'ok' });
    expect((await httpsJson(`${s.handle.mainUrl}/readyz`, { agent: s.agent() })).status).toBe(200);
  });
});

describe('opaque tokens, introspection and revocation', () => {
  it('BT-13/BT-15: introspection of an opaque bound token returns active, aud and a top-level cnf.x5t#S256', async () => {
    const t = await s.token(worker, { grant_type: 'client_credentials', client_id: 'worker' });
    expect(t.status).toBe(200);
    const token = String(t.body.access_token);
    expect(token.split('.').length).not.toBe(3);
    const intro = await httpsJson(`${s.handle.mtlsUrl}/token/introspection`, { agent: s.agent(gateway), form: { token, client_id: 'orders-api' } });
    expect(intro.status).toBe(200);
    expect(intro.body).toMatchObject({ active: true, client_id: 'worker', scope: 'orders', aud: OPAQUE_API, token_type: 'Bearer' });
    expect(intro.body.cnf).toEqual({ 'x5t#S256': x5tS256(worker.der) });
  });

  it('introspection callers must authenticate: no certificate → 401 invalid_client', async () => {
    const intro = await httpsJson(`${s.handle.mtlsUrl}/token/introspection`, { agent: s.agent(), form: { token: 'x', client_id: 'orders-api' } });
    expect(intro.status).toBe(401);
    expect(intro.body.error).toBe('invalid_client');
  });

  it('RFC 7009: a revoked opaque token introspects as inactive', async () => {
    const issued = await s.token(worker, { grant_type: 'client_credentials', client_id: 'worker' });
    await expectIssuedToken(s, issued, { clientId: 'worker', presented: worker, scopes: ['orders'], aud: OPAQUE_API });
    const token = String(issued.body.access_token);
    const rev = await httpsJson(`${s.handle.mtlsUrl}/token/revocation`, { agent: s.agent(worker), form: { token, client_id: 'worker' } });
    expect(rev.status).toBe(200);
    const intro = await httpsJson(`${s.handle.mtlsUrl}/token/introspection`, { agent: s.agent(gateway), form: { token, client_id: 'orders-api' } });
    expect(intro.body).toEqual({ active: false });
  });

  it('the opaque token lives in SQL (no in-memory adapter): its row exists with an expiry', async () => {
    const rows = await s.database.db('oidc_payloads').where({ model: 'ClientCredentials' }).select('expires_at');
    expect(rows.length).toBeGreaterThan(0);
    expect(Number(rows[0]!.expires_at)).toBeGreaterThan(Date.now());
  });
});

describe('signing keys', () => {
  it('keys rotate: the running server signs with the new key after reload; the old key stays in the JWKS until retired', async () => {
    const before = await s.admin.listKeys();
    const oldKid = before.find((k) => k.status === 'active')!.kid;
    const rotated = await s.admin.rotateKeys('test');
    await s.handle.reload();
    const jwksRes = await httpsJson(`${s.handle.mainUrl}/jwks`, { agent: s.agent() });
    const kids = (jwksRes.body.keys as { kid: string }[]).map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, rotated.kid]));
    const t = await s.token(worker, { grant_type: 'client_credentials', client_id: 'worker', resource: JWT_API });
    expect(t.status).toBe(200);
    expect(decodeProtectedHeader(String(t.body.access_token)).kid).toBe(rotated.kid);
    await jwtVerify(String(t.body.access_token), createLocalJWKSet(jwksRes.body as never), { issuer: s.issuer });
    await expectIssuedToken(s, t, { clientId: 'worker', presented: worker, scopes: ['orders'], aud: JWT_API });
    await s.admin.retireKey(oldKid, 'test');
    await s.handle.reload();
    const after = await httpsJson(`${s.handle.mainUrl}/jwks`, { agent: s.agent() });
    expect((after.body.keys as { kid: string }[]).map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it('private keys never appear in the JWKS', async () => {
    const res = await request(`${s.handle.mainUrl}/jwks`, { dispatcher: s.agent() });
    const text = await res.body.text();
    expect(text).not.toMatch(/"d"\s*:/);
  });
});
