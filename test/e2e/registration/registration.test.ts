/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592) over real mTLS, with
 * certificates made at test time and a real database: the initial access token's limits, the proof of
 * the certificate, the overlap check, manual approval, and the registration access token bound to the
 * registrant's certificate. Every refusal leaves the database as it was.
 */
import { X509Certificate } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwksFromCertificatePem } from '../../../src/jwks/self-signed.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson, type JsonResponse } from '../../helpers/net.js';
import { createTestPki, type Issued, selfSigned, type TestPki } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
let s: TestServer;
let staging: TestPki;

async function iat(options: Parameters<TestServer['admin']['createRegistrationToken']>[0] = {}): Promise<string> {
  const { token } = await s.admin.createRegistrationToken({ scopes: ['read'], resources: [API], environments: ['prod'], ...options }, 'test');
  return token;
}

function register(cert: Issued | undefined, token: string | undefined, metadata: Record<string, unknown>, chain?: string): Promise<JsonResponse> {
  return httpsJson(`${s.mtlsUrl}/register`, {
    agent: s.agent(cert, chain),
    method: 'POST',
    body: JSON.stringify(metadata),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

function manage(method: 'GET' | 'PUT' | 'DELETE', uri: string, cert: Issued, token: string, metadata?: Record<string, unknown>): Promise<JsonResponse> {
  return httpsJson(uri, {
    agent: s.agent(cert),
    method,
    ...(metadata ? { body: JSON.stringify(metadata) } : {}),
    headers: { authorization: `Bearer ${token}`, ...(metadata ? { 'content-type': 'application/json' } : {}) },
  });
}

/** What a refusal must leave unchanged: every client, mapping, registration, token use and audit row. */
async function snapshot(): Promise<unknown> {
  const db = s.database.db;
  const rows = async (table: string, order: string) => (await db(table).select('*').orderBy(order)).map((r: Record<string, unknown>) => JSON.stringify(r));
  return {
    clients: await rows('clients', 'client_id'),
    mappings: await rows('certificate_mappings', 'id'),
    registrations: await rows('client_registrations', 'client_id'),
    tokens: await rows('initial_access_tokens', 'id'),
    audit: (await db('audit_log').count({ n: '*' }))[0],
  };
}

async function expectRefusedUnchanged(attempt: () => Promise<JsonResponse>, expected: { status: number; error: string; member?: string }): Promise<JsonResponse> {
  const before = await snapshot();
  const res = await attempt();
  expect(res.status, res.text).toBe(expected.status);
  expect(res.body.error).toBe(expected.error);
  if (expected.member) expect(String(res.body.error_description)).toMatch(new RegExp(`^${expected.member}:`));
  expect(await snapshot()).toEqual(before);
  return res;
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  staging = await createTestPki('Staging');
  await s.admin.addTrustAnchor({ name: 'staging-root', pem: staging.root.pem, environment: 'staging' }, 'test');
  await s.handle.reload();
});
afterAll(() => s?.close());

describe('POST /register (RFC 7591)', () => {
  it('AL-2: discovery lists registration_endpoint on the mTLS listener, also in mtls_endpoint_aliases', async () => {
    const res = await httpsJson(`${s.handle.mainUrl}/.well-known/oauth-authorization-server`, { agent: s.agent() });
    expect(res.body.registration_endpoint).toBe(`${s.mtlsUrl}/register`);
    expect((res.body.mtls_endpoint_aliases as Record<string, string>).registration_endpoint).toBe(`${s.mtlsUrl}/register`);
  });

  it('AL-3: /register on the main listener → 404 invalid_request (RFC 7591 error shape) naming the mTLS alias; a registration client URI likewise', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-main'] }], san: [{ type: 'dns', value: 'main.example.com' }] });
    const token = await iat();
    const before = await snapshot();
    const res = await httpsJson(`${s.handle.mainUrl}/register`, {
      agent: s.agent(cert),
      method: 'POST',
      body: JSON.stringify({ tls_client_auth_san_dns: 'main.example.com' }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    expect(res.status, res.text).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description']);
    expect(res.body.error).toBe('invalid_request');
    expect(String(res.body.error_description)).toContain(`send the request with the client certificate to ${s.mtlsUrl}/register (mtls_endpoint_aliases.registration_endpoint`);
    expect(String(res.body.error_description)).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
    expect(await snapshot()).toEqual(before);
    const managed = await httpsJson(`${s.handle.mainUrl}/register/dcr-1`, { agent: s.agent(cert), headers: { authorization: 'Bearer x' } });
    expect(managed.status, managed.text).toBe(404);
    expect(managed.body.error).toBe('invalid_request');
    expect(String(managed.body.error_description)).toContain(`to ${s.mtlsUrl}/register/dcr-1 (the registration_client_uri`);
  });

  it('MD-4/MD-11: a tls_client_auth registration with an initial access token gets a client at once; the same certificate then gets a bound token', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-a'] }], san: [{ type: 'dns', value: 'partner-a.example.com' }] });
    const res = await register(cert, await iat(), {
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: 'partner-a.example.com',
      tls_client_certificate_bound_access_tokens: true,
      scope: 'read',
      client_name: 'Partner A',
      logo_uri: 'ignored',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const clientId = String(res.body.client_id);
    expect(res.body).toMatchObject({
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: 'partner-a.example.com',
      scope: 'read',
      grant_types: ['client_credentials'],
      tls_client_certificate_bound_access_tokens: true,
      client_name: 'Partner A',
    });
    expect(res.body.logo_uri).toBeUndefined();
    expect(res.body.registration_client_uri).toBe(`${s.mtlsUrl}/register/${clientId}`);
    expect(String(res.body.registration_access_token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await s.admin.showClient(clientId);
    expect(stored.mappings[0]).toMatchObject({ kind: 'san_dns', value: 'partner-a.example.com', trustAnchorName: 'test-root' });
    const token = await s.token(cert, { grant_type: 'client_credentials', client_id: clientId });
    await expectIssuedToken(s, token, { clientId, presented: cert, scopes: ['read'], aud: API });
    const audit = await s.admin.listAudit({ target: `client:${clientId}` });
    expect(audit.map((a) => a.action)).toContain('registration.add');
    // An administrator may still remove a registered client; its registration goes with it.
    await s.admin.removeClient(clientId, 'test');
    expect(await s.database.db('client_registrations').where({ client_id: clientId })).toEqual([]);
  });

  it('MD-11: tls_client_certificate_bound_access_tokens omitted is false; a non-boolean is invalid_client_metadata naming it', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-md11'] }], san: [{ type: 'dns', value: 'md11.example.com' }] });
    const ok = await register(cert, await iat(), { tls_client_auth_san_dns: 'md11.example.com' });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.tls_client_certificate_bound_access_tokens).toBe(false);
    const other = await s.pki.client({ subject: [{ CN: ['partner-md11b'] }], san: [{ type: 'dns', value: 'md11b.example.com' }] });
    const token = await iat();
    await expectRefusedUnchanged(() => register(other, token, { tls_client_auth_san_dns: 'md11b.example.com', tls_client_certificate_bound_access_tokens: 'yes' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_certificate_bound_access_tokens',
    });
  });

  it('MD-2: zero or two tls_client_auth_* members, and an invalid RFC 4514 DN, are invalid_client_metadata naming the member', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-md2'] }], san: [{ type: 'dns', value: 'md2.example.com' }] });
    const token = await iat();
    await expectRefusedUnchanged(() => register(cert, token, { token_endpoint_auth_method: 'tls_client_auth' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_subject_dn',
    });
    await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_san_dns: 'md2.example.com', tls_client_auth_san_email: 'a@example.com' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_san_email',
    });
    await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_subject_dn: '/CN=partner-md2' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_subject_dn',
    });
    await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_san_dns: 'md2.example.com', grant_types: ['authorization_code'] }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'grant_types',
    });
  });

  it('a registration whose subject DN does not match the presented certificate is refused, naming the member', async () => {
    const cert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['partner-b'] }] });
    const token = await iat();
    const res = await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_subject_dn: 'CN=partner-c,O=Acme' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_subject_dn',
    });
    expect(String(res.body.error_description)).toContain('does not prove');
    const ok = await register(cert, token, { tls_client_auth_subject_dn: 'CN=partner-b,O=Acme' });
    expect(ok.status, ok.text).toBe(201);
  });

  it('a staging certificate under a prod-only initial access token is refused', async () => {
    const cert = await staging.client({ subject: [{ CN: ['partner-staging'] }], san: [{ type: 'dns', value: 'staging-partner.example.com' }] });
    const token = await iat({ environments: ['prod'] });
    const res = await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_san_dns: 'staging-partner.example.com' }, staging.chainOf(cert)), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_san_dns',
    });
    expect(String(res.body.error_description)).toContain('environment staging');
    const allowed = await register(cert, await iat({ environments: ['staging'] }), { tls_client_auth_san_dns: 'staging-partner.example.com' }, staging.chainOf(cert));
    expect(allowed.status, allowed.text).toBe(201);
  });

  it('a registration whose mapping overlaps another client is refused, naming the member and not the other client', async () => {
    await s.admin.addClient({ clientId: 'incumbent', mapping: { kind: 'san_dns', value: 'shared.example.com' }, scopes: ['read'], defaultResource: API }, 'test');
    const cert = await s.pki.client({ subject: [{ CN: ['newcomer'] }], san: [{ type: 'dns', value: 'shared.example.com' }] });
    const token = await iat();
    const res = await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_san_dns: 'shared.example.com' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_san_dns',
    });
    expect(String(res.body.error_description)).not.toContain('incumbent');
  });

  it('an expired, used-up, revoked, unknown or missing initial access token is refused with invalid_token', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-iat'] }], san: [{ type: 'dns', value: 'iat.example.com' }] });
    const metadata = { tls_client_auth_san_dns: 'iat.example.com' };
    const expired = await s.admin.createRegistrationToken({ scopes: ['read'] }, 'test');
    await s.database
      .db('initial_access_tokens')
      .where({ id: expired.record.id })
      .update({ expires_at: Date.now() - 1000 });
    await expectRefusedUnchanged(() => register(cert, expired.token, metadata), { status: 401, error: 'invalid_token' });
    const revoked = await s.admin.createRegistrationToken({ scopes: ['read'] }, 'test');
    await s.admin.revokeRegistrationToken(revoked.record.id, 'test');
    await expectRefusedUnchanged(() => register(cert, revoked.token, metadata), { status: 401, error: 'invalid_token' });
    await expectRefusedUnchanged(() => register(cert, 'not-a-token', metadata), { status: 401, error: 'invalid_token' });
    const missing = await expectRefusedUnchanged(() => register(cert, undefined, metadata), { status: 401, error: 'invalid_token' });
    expect(missing.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const once = await iat({ maxUses: 1 });
    expect((await register(cert, once, metadata)).status).toBe(201);
    const second = await s.pki.client({ subject: [{ CN: ['partner-iat2'] }], san: [{ type: 'dns', value: 'iat2.example.com' }] });
    await expectRefusedUnchanged(() => register(second, once, { tls_client_auth_san_dns: 'iat2.example.com' }), { status: 401, error: 'invalid_token' });
  });

  it('a scope beyond what the initial access token allows is refused, naming scope', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-scope'] }], san: [{ type: 'dns', value: 'scope.example.com' }] });
    const token = await iat({ scopes: ['read'] });
    await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_san_dns: 'scope.example.com', scope: 'read write' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'scope',
    });
  });

  it('a request without a certificate, an unsigned software statement, a body that is not JSON or too large: refused, nothing stored', async () => {
    const token = await iat();
    await expectRefusedUnchanged(() => register(undefined, token, { tls_client_auth_san_dns: 'nocert.example.com' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_san_dns',
    });
    const cert = await s.pki.client({ subject: [{ CN: ['partner-ss'] }], san: [{ type: 'dns', value: 'ss.example.com' }] });
    await expectRefusedUnchanged(() => register(cert, token, { tls_client_auth_san_dns: 'ss.example.com', software_statement: 'eyJhbGciOiJub25lIn0.e30.' }), {
      status: 400,
      error: 'unapproved_software_statement',
    });
    const notJson = () =>
      httpsJson(`${s.mtlsUrl}/register`, { agent: s.agent(cert), method: 'POST', body: 'x', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    await expectRefusedUnchanged(notJson, { status: 400, error: 'invalid_client_metadata' });
    const large = () => register(cert, token, { tls_client_auth_san_dns: 'ss.example.com', client_uri: 'x'.repeat(70_000) });
    await expectRefusedUnchanged(large, { status: 413, error: 'invalid_client_metadata' });
  });

  it('SS-7: a self_signed_tls_client_auth registration must present one of the certificates of its jwks', async () => {
    const device = await selfSigned({ subject: [{ CN: ['device-reg'] }] });
    const other = await selfSigned({ subject: [{ CN: ['device-reg'] }] });
    const jwks = await jwksFromCertificatePem(device.pem);
    const token = await iat();
    await expectRefusedUnchanged(() => register(other, token, { token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks }, other.pem), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'jwks',
    });
    const res = await register(device, token, { token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks, tls_client_certificate_bound_access_tokens: true }, device.pem);
    expect(res.status, res.text).toBe(201);
    const issued = await s.token(device, { grant_type: 'client_credentials', client_id: String(res.body.client_id) }, { chain: device.pem });
    await expectIssuedToken(s, issued, { clientId: String(res.body.client_id), presented: device, chain: device.pem, scopes: ['read'], aud: API });
  });
});

describe('software statements (RFC 7591 §2.3)', () => {
  const DIRECTORY = 'https://directory.example.com';
  let signer: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signer = pair.privateKey as CryptoKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'dir-1' };
    await s.admin.addSoftwareIssuer({ name: DIRECTORY, jwks: JSON.stringify({ keys: [jwk] }), scopes: ['read'], resources: [API], environments: ['prod'] }, 'test');
  });

  const statement = (claims: Record<string, unknown>, options: { key?: CryptoKey; iss?: string; exp?: number } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'dir-1' })
      .setIssuer(options.iss ?? DIRECTORY)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(options.key ?? signer);

  it("a trusted issuer's statement registers without an initial access token, and its claims take precedence over the request's members", async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['sw-partner'] }], san: [{ type: 'dns', value: 'sw.example.com' }] });
    const software_statement = await statement({ tls_client_auth_san_dns: 'sw.example.com', client_name: 'From the directory', software_id: 'app-7' });
    const res = await register(cert, undefined, {
      software_statement,
      tls_client_auth_san_dns: 'claimed-by-request.example.com',
      client_name: 'From the request',
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ tls_client_auth_san_dns: 'sw.example.com', client_name: 'From the directory', scope: 'read' });
    const token = await s.token(cert, { grant_type: 'client_credentials', client_id: String(res.body.client_id) });
    await expectIssuedToken(s, token, { clientId: String(res.body.client_id), presented: cert, scopes: ['read'], aud: API });
    const [entry] = await s.admin.listAudit({ target: `client:${res.body.client_id}` });
    expect(entry).toMatchObject({ action: 'registration.add', actor: expect.stringMatching(/^registration:software:https:\/\/directory\.example\.com:/) });
  });

  it('an untrusted issuer, a statement signed with another key, and an expired statement are refused; nothing stored', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['sw-bad'] }], san: [{ type: 'dns', value: 'swbad.example.com' }] });
    const metadata = { tls_client_auth_san_dns: 'swbad.example.com' };
    const other = (await generateKeyPair('ES256')).privateKey as CryptoKey;
    await expectRefusedUnchanged(
      async () => register(cert, undefined, { ...metadata, software_statement: await statement({}, { iss: 'https://rogue.example.com', key: other }) }),
      {
        status: 400,
        error: 'unapproved_software_statement',
      },
    );
    await expectRefusedUnchanged(async () => register(cert, undefined, { ...metadata, software_statement: await statement({}, { key: other }) }), {
      status: 400,
      error: 'invalid_software_statement',
    });
    const expired = await statement({}, { exp: Math.floor(Date.now() / 1000) - 60 });
    const res = await expectRefusedUnchanged(() => register(cert, undefined, { ...metadata, software_statement: expired }), { status: 400, error: 'invalid_software_statement' });
    expect(String(res.body.error_description)).toContain('expired');
    await expectRefusedUnchanged(() => register(cert, undefined, { ...metadata, software_statement: 'not-a-jwt' }), { status: 400, error: 'invalid_software_statement' });
  });
});

describe('manual approval', () => {
  it('a client registered under a manual-approval token gets no token before approval (invalid_client, awaiting approval, a ref), and one after', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-manual'] }], san: [{ type: 'dns', value: 'manual.example.com' }] });
    const res = await register(cert, await iat({ approval: 'manual' }), { tls_client_auth_san_dns: 'manual.example.com', tls_client_certificate_bound_access_tokens: true });
    expect(res.status, res.text).toBe(201);
    expect(res.body.certbound_registration_status).toBe('pending');
    const clientId = String(res.body.client_id);
    const refused = await s.token(cert, { grant_type: 'client_credentials', client_id: clientId });
    expect(refused.status, refused.text).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(String(refused.body.error_description)).toMatch(/awaits an administrator's approval.*\(ref [0-9a-f]{8}\)$/);
    expect(refused.body.access_token).toBeUndefined();
    await s.admin.approveClient(clientId, 'test');
    const issued = await s.token(cert, { grant_type: 'client_credentials', client_id: clientId });
    await expectIssuedToken(s, issued, { clientId, presented: cert, scopes: ['read'], aud: API });
    await expect(s.admin.approveClient(clientId, 'test')).rejects.toMatchObject({ code: 'ERR_REGISTRATION_NOT_PENDING' });
  });

  it('a rejected registration removes the client', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-rejected'] }], san: [{ type: 'dns', value: 'rejected.example.com' }] });
    const res = await register(cert, await iat({ approval: 'manual' }), { tls_client_auth_san_dns: 'rejected.example.com' });
    const clientId = String(res.body.client_id);
    await s.admin.rejectClient(clientId, 'test');
    await expect(s.admin.showClient(clientId)).rejects.toMatchObject({ code: 'ERR_CLIENT_UNKNOWN' });
    expect((await s.admin.listAudit({ target: `client:${clientId}` })).map((a) => a.action)).toContain('registration.reject');
  });
});

describe('RFC 7592 management', () => {
  let cert: Issued;
  let stranger: Issued;
  let uri: string;
  let rat: string;
  let clientId: string;

  beforeAll(async () => {
    cert = await s.pki.client({ subject: [{ CN: ['partner-m'] }], san: [{ type: 'dns', value: 'managed.example.com' }] });
    stranger = await s.pki.client({ subject: [{ CN: ['stranger'] }], san: [{ type: 'dns', value: 'stranger.example.com' }] });
    const res = await register(cert, await iat({ scopes: ['read', 'write'] }), { tls_client_auth_san_dns: 'managed.example.com', scope: 'read' });
    expect(res.status, res.text).toBe(201);
    uri = String(res.body.registration_client_uri);
    rat = String(res.body.registration_access_token);
    clientId = String(res.body.client_id);
  });

  it('GET with the registrant certificate reads the registration; with another certificate or token it is refused', async () => {
    const res = await manage('GET', uri, cert, rat);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ client_id: clientId, tls_client_auth_san_dns: 'managed.example.com', scope: 'read', registration_client_uri: uri });
    expect(res.body.registration_access_token).toBeUndefined();
    await expectRefusedUnchanged(() => manage('GET', uri, stranger, rat), { status: 401, error: 'invalid_token' });
    await expectRefusedUnchanged(() => manage('GET', uri, cert, 'wrong'), { status: 401, error: 'invalid_token' });
  });

  it('PUT revalidates: a wider scope within the token is accepted, a subject the certificate cannot prove is refused; another certificate is refused', async () => {
    const metadata = { client_id: clientId, tls_client_auth_san_dns: 'managed.example.com', scope: 'read write' };
    await expectRefusedUnchanged(() => manage('PUT', uri, stranger, rat, metadata), { status: 401, error: 'invalid_token' });
    await expectRefusedUnchanged(() => manage('PUT', uri, cert, rat, { ...metadata, tls_client_auth_san_dns: 'other.example.com' }), {
      status: 400,
      error: 'invalid_client_metadata',
      member: 'tls_client_auth_san_dns',
    });
    await expectRefusedUnchanged(() => manage('PUT', uri, cert, rat, { ...metadata, scope: 'admin' }), { status: 400, error: 'invalid_client_metadata', member: 'scope' });
    const res = await manage('PUT', uri, cert, rat, metadata);
    expect(res.status, res.text).toBe(200);
    expect(res.body.scope).toBe('read write');
    expect((await s.admin.showClient(clientId)).scopes).toEqual(['read', 'write']);
  });

  it('DELETE with another certificate is refused; with the registrant certificate it removes the client', async () => {
    await expectRefusedUnchanged(() => manage('DELETE', uri, stranger, rat), { status: 401, error: 'invalid_token' });
    const res = await manage('DELETE', uri, cert, rat);
    expect(res.status, res.text).toBe(204);
    await expect(s.admin.showClient(clientId)).rejects.toMatchObject({ code: 'ERR_CLIENT_UNKNOWN' });
    expect((await manage('GET', uri, cert, rat)).status).toBe(401);
    expect((await s.token(cert, { grant_type: 'client_credentials', client_id: clientId })).status).toBe(401);
  });
});

describe('the registration access token', () => {
  it('is bound to the certificate: a rotated certificate the mapping accepts may manage the registration too', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['partner-rot'] }], san: [{ type: 'dns', value: 'rot.example.com' }] });
    const res = await register(cert, await iat(), { tls_client_auth_san_dns: 'rot.example.com' });
    const rotated = await s.pki.client({ subject: [{ CN: ['partner-rot'] }], san: [{ type: 'dns', value: 'rot.example.com' }] });
    expect(x5tS256(new X509Certificate(rotated.pem).raw)).not.toBe(x5tS256(new X509Certificate(cert.pem).raw));
    const read = await manage('GET', String(res.body.registration_client_uri), rotated, String(res.body.registration_access_token));
    expect(read.status, read.text).toBe(200);
  });
});
