/** Opaque tokens through RFC 7662 introspection (BT-13/BT-14), metadata discovery (RFC 8414, AL-3) and configuration checks. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/verifier/index.js';
import { expectRefusal, invalidToken } from './expect.js';
import { AUDIENCE, createTestPki, fakeRequest, type Issued, startAs, type TestAs, type TestPki } from './harness.js';
import { expectBoundToken } from '../helpers/bound-token.js';

let pki: TestPki;
let as: TestAs;
let alice: Issued;
let bob: Issued;
let rsClient: Issued;
let clock: number;
const verifiers: Verifier[] = [];

const nowSeconds = () => Math.floor(clock / 1000);
const request = (token: string, cert?: Buffer) => fakeRequest({ authorization: `Bearer ${token}`, cert });
const hits = (path: string) => as.hits.get(path) ?? 0;

function mtlsVerifier(options: Partial<VerifierOptions> = {}): Verifier {
  const v = createVerifier({
    issuer: as.issuer,
    audience: AUDIENCE,
    tls: { ca: pki.root.pem },
    introspection: { clientId: 'rs-1', tls: { cert: rsClient.pem, key: rsClient.keyPem } },
    now: () => clock,
    ...options,
  });
  verifiers.push(v);
  return v;
}

function active(token: string, members: Record<string, unknown> = {}): void {
  as.introspection.set(token, {
    active: true,
    iss: as.issuer,
    aud: AUDIENCE,
    client_id: 'client-1',
    sub: 'user-1',
    scope: 'read',
    token_type: 'Bearer',
    exp: nowSeconds() + 3600,
    cnf: { 'x5t#S256': x5tS256(alice.der) },
    ...members,
  });
}

beforeAll(async () => {
  pki = await createTestPki('Introspection');
  as = await startAs(pki);
  alice = await pki.client({ subject: [{ CN: ['alice'] }] });
  bob = await pki.client({ subject: [{ CN: ['bob'] }] });
  rsClient = await pki.client({ subject: [{ CN: ['resource server rs-1'] }] });
});
beforeEach(() => {
  clock = Date.now();
});
afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await as.close();
});

describe('opaque tokens: RFC 7662 introspection', () => {
  it('BT-13/AL-3: introspects at the mTLS alias with the RS client certificate and client_id; cnf checked → 200', async () => {
    active('opaque-1');
    const result = await mtlsVerifier().verify(request('opaque-1', alice.der));
    expect(result).toMatchObject({ clientId: 'client-1', scopes: ['read'], thumbprint: x5tS256(alice.der) });
    expect(as.lastIntrospection).toMatchObject({ path: '/mtls/introspect', peerX5t: x5tS256(rsClient.der), authorization: undefined });
    expect(Object.fromEntries(as.lastIntrospection!.body)).toEqual({ token: 'opaque-1', token_type_hint: 'access_token', client_id: 'rs-1' });
  });

  it('BT-14: the introspected cnf against another certificate → 401 invalid_token; none → 401', async () => {
    active('opaque-2');
    const v = mtlsVerifier();
    await expectRefusal(v.verify(request('opaque-2', bob.der)), invalidToken('certificate does not match the token', 'ERR_VERIFIER_CERTIFICATE_MISMATCH'));
    await expectRefusal(v.verify(request('opaque-2')), invalidToken('certificate-bound token requires mTLS', 'ERR_VERIFIER_CERTIFICATE_REQUIRED'));
  });

  it('client_secret_basic: form-encoded id and secret in Basic, at the regular endpoint', async () => {
    active('opaque-3');
    const v = createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      tls: { ca: pki.root.pem },
      introspection: { clientId: 'rs:1', clientSecret: 'se cret+/' },
    });
    verifiers.push(v);
    await expectBoundToken(v.verify(request('opaque-3', alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read'] });
    expect(as.lastIntrospection?.path).toBe('/introspect');
    expect(as.lastIntrospection?.authorization).toBe(`Basic ${Buffer.from('rs%3A1:se+cret%2B%2F').toString('base64')}`);
    expect(as.lastIntrospection?.body.get('client_id')).toBeNull();
  });

  it('active results are cached (bounded by cacheMaxAge), binding still checked per request', async () => {
    active('opaque-4');
    const v = mtlsVerifier({ introspection: { clientId: 'rs-1', tls: { cert: rsClient.pem, key: rsClient.keyPem }, cacheMaxAge: 60_000 } });
    const before = hits('/mtls/introspect');
    for (let i = 0; i < 5; i++) await v.verify(request('opaque-4', alice.der));
    await expectRefusal(v.verify(request('opaque-4', bob.der)), invalidToken('certificate does not match the token', 'ERR_VERIFIER_CERTIFICATE_MISMATCH'));
    expect(hits('/mtls/introspect') - before).toBe(1);
    clock += 61_000;
    await v.verify(request('opaque-4', alice.der));
    expect(hits('/mtls/introspect') - before).toBe(2);
  });

  it('an active result is never reused beyond the token exp', async () => {
    active('opaque-5', { exp: nowSeconds() + 10 });
    const v = mtlsVerifier();
    const before = hits('/mtls/introspect');
    await v.verify(request('opaque-5', alice.der));
    clock += 11_000;
    as.introspection.delete('opaque-5'); // the AS now says inactive
    await expectRefusal(v.verify(request('opaque-5', alice.der)), invalidToken('token is not active', 'ERR_VERIFIER_TOKEN_INACTIVE'));
    expect(hits('/mtls/introspect') - before).toBe(2);
  });

  it('row 3: inactive → 401 invalid_token, remembered only briefly', async () => {
    const v = mtlsVerifier({ introspection: { clientId: 'rs-1', tls: { cert: rsClient.pem, key: rsClient.keyPem }, inactiveCacheMaxAge: 5000 } });
    const before = hits('/mtls/introspect');
    await expectRefusal(v.verify(request('nope', alice.der)), invalidToken('token is not active', 'ERR_VERIFIER_TOKEN_INACTIVE'));
    await expectRefusal(v.verify(request('nope', alice.der)), invalidToken('token is not active', 'ERR_VERIFIER_TOKEN_INACTIVE'));
    expect(hits('/mtls/introspect') - before).toBe(1);
    clock += 5001;
    active('nope');
    await expectBoundToken(v.verify(request('nope', alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read'] });
    expect(hits('/mtls/introspect') - before).toBe(2);
  });

  it.each([
    ['aud of another resource', { aud: 'https://other.example.com' }, 'token aud claim invalid', 'ERR_VERIFIER_TOKEN_INVALID'],
    ['iss of another issuer', { iss: 'https://evil.example.com' }, 'token iss claim invalid', 'ERR_VERIFIER_TOKEN_INVALID'],
    ['exp in the past', { exp: Math.floor(Date.now() / 1000) - 120 }, 'token expired', 'ERR_VERIFIER_TOKEN_EXPIRED'],
    ['a refresh token', { token_type: 'refresh_token' }, 'token token_type claim invalid', 'ERR_VERIFIER_TOKEN_INVALID'],
    ['only a jkt confirmation (SC-2)', { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }, 'unsupported confirmation method', 'ERR_VERIFIER_CNF_UNSUPPORTED'],
    ['no cnf (row 8)', { cnf: undefined }, 'token is not certificate-bound', 'ERR_VERIFIER_TOKEN_UNBOUND'],
    ['a padded thumbprint (row 6)', { cnf: { 'x5t#S256': 'x'.repeat(43) + '=' } }, 'malformed certificate thumbprint', 'ERR_VERIFIER_THUMBPRINT_MALFORMED'],
  ])('introspection result with %s → 401', async (_name, members, description, code) => {
    const token = `opaque-${_name.replace(/\W/g, '')}`;
    active(token, members);
    await expectRefusal(mtlsVerifier().verify(request(token, alice.der)), invalidToken(description, code));
  });

  it('aud is optional in the introspection response', async () => {
    active('opaque-no-aud', { aud: undefined });
    await expectBoundToken(mtlsVerifier().verify(request('opaque-no-aud', alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read'] });
  });

  it('the AS failing → 503 temporarily_unavailable without a WWW-Authenticate challenge', async () => {
    active('opaque-down');
    as.failing.set('/mtls/introspect', 500);
    try {
      const err = await expectRefusal(mtlsVerifier().verify(request('opaque-down', alice.der)), {
        status: 503,
        code: 'ERR_VERIFIER_UPSTREAM',
        error: 'temporarily_unavailable',
      });
      expect(err.wwwAuthenticate).toBeUndefined();
    } finally {
      as.failing.delete('/mtls/introspect');
    }
  });

  it('without introspection configured, an opaque token → 401 "token format not supported"', async () => {
    const v = createVerifier({ issuer: as.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem } });
    verifiers.push(v);
    await expectRefusal(v.verify(request('opaque-1', alice.der)), invalidToken('token format not supported'));
  });
});

describe('metadata discovery (RFC 8414)', () => {
  it('an issuer with a path uses the inserted well-known URL', async () => {
    const tenant = await startAs(pki, { path: '/tenant-a' });
    try {
      const v = createVerifier({ issuer: tenant.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem } });
      verifiers.push(v);
      const token = await tenant.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } });
      await expectBoundToken(v.verify(request(token, alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read', 'write'] });
      expect(tenant.hits.get('/.well-known/oauth-authorization-server/tenant-a')).toBe(1);
      expect(tenant.hits.get('/tenant-a/jwks')).toBe(1);
    } finally {
      await tenant.close();
    }
  });

  it('falls back to openid-configuration when oauth-authorization-server is missing', async () => {
    const other = await startAs(pki);
    other.failing.set('/.well-known/oauth-authorization-server', 404);
    try {
      const v = createVerifier({ issuer: other.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem } });
      verifiers.push(v);
      await expectBoundToken(v.verify(request(await other.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } }), alice.der)), {
        clientId: 'client-1',
        certificate: alice.der,
        scopes: ['read', 'write'],
      });
      expect(other.hits.get('/.well-known/openid-configuration')).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('metadata naming another issuer is refused (503, nothing trusted), and not refetched for 10 s', async () => {
    const other = await startAs(pki);
    other.metadata.issuer = 'https://evil.example.com';
    try {
      const v = createVerifier({ issuer: other.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem }, now: () => clock });
      verifiers.push(v);
      const token = await other.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } });
      await expectRefusal(v.verify(request(token, alice.der)), { status: 503, code: 'ERR_VERIFIER_UPSTREAM', error: 'temporarily_unavailable' });
      await expectRefusal(v.verify(request(token, alice.der)), { status: 503, code: 'ERR_VERIFIER_UPSTREAM' });
      expect(other.hits.get('/.well-known/oauth-authorization-server')).toBe(1);
      expect(other.hits.get('/jwks')).toBeUndefined();
      other.metadata = {};
      clock += 10_001;
      await expectBoundToken(v.verify(request(token, alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read', 'write'] });
    } finally {
      await other.close();
    }
  });

  it('the AS certificate must chain to the configured CA (no tls.ca → 503)', async () => {
    const v = createVerifier({ issuer: as.issuer, audience: AUDIENCE });
    verifiers.push(v);
    await expectRefusal(v.verify(request(await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } }), alice.der)), { status: 503, code: 'ERR_VERIFIER_UPSTREAM' });
  });

  it('explicit jwksUri and introspectionEndpoint skip discovery', async () => {
    const other = await startAs(pki);
    try {
      active('opaque-explicit');
      other.introspection = as.introspection;
      const v = createVerifier({
        issuer: other.issuer,
        audience: AUDIENCE,
        tls: { ca: pki.root.pem },
        jwksUri: `${other.issuer}/jwks`,
        introspectionEndpoint: `${other.issuer}/introspect`,
        introspection: { clientId: 'rs-1', tls: { cert: rsClient.pem, key: rsClient.keyPem } },
      });
      verifiers.push(v);
      await expectBoundToken(v.verify(request(await other.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } }), alice.der)), {
        clientId: 'client-1',
        certificate: alice.der,
        scopes: ['read', 'write'],
      });
      other.introspection.set('opaque-explicit', { ...other.introspection.get('opaque-explicit'), iss: other.issuer });
      await expectBoundToken(v.verify(request('opaque-explicit', alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read'] });
      expect(other.hits.get('/.well-known/oauth-authorization-server')).toBeUndefined();
      expect(other.lastIntrospection?.path).toBe('/introspect');
    } finally {
      await other.close();
    }
  });
});

describe('createVerifier configuration is validated once (TypeError)', () => {
  const base = { issuer: 'https://as.example.com', audience: AUDIENCE };
  it.each([
    ['http issuer', { issuer: 'http://as.example.com' }],
    ['issuer with query', { issuer: 'https://as.example.com/?x=1' }],
    ['not a URL', { issuer: 'as.example.com' }],
    ['empty audience', { audience: '' }],
    ['empty audience list', { audience: [] }],
    ['HS256 algorithm', { algorithms: ['HS256'] }],
    ['negative tolerance', { clockTolerance: -1 }],
    ['introspection with both tls and secret', { introspection: { clientId: 'x', clientSecret: 's', tls: { cert: 'c', key: 'k' } } }],
    ['introspection with neither', { introspection: { clientId: 'x' } }],
    ['unknown certificate source', { certificate: { from: 'header' } }],
    ['forwarded without a valid format', { certificate: { from: 'forwarded', format: 'apache', trustedProxies: [] } }],
    ['forwarded with a bad proxy entry', { certificate: { from: 'forwarded', format: 'nginx', trustedProxies: ['10.0.0.0/40'] } }],
    ['scope with a quote', { requiredScopes: ['a"b'] }],
    ['http jwksUri', { jwksUri: 'http://as.example.com/jwks' }],
  ])('%s', (_name, options) => {
    expect(() => createVerifier({ ...base, ...(options as object) } as VerifierOptions)).toThrow(TypeError);
  });
});
