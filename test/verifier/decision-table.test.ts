/**
 * Spec §3.3 decision table rows 1–11 through a real HTTPS resource server (requestCert, no CA check:
 * IC-7) with real client certificates presented by undici, plus BT-5/6/11/12, SC-2, IC-7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createVerifier, type Verifier } from '../../src/verifier/index.js';
import { selfSigned } from '../helpers/pki.js';
import { AUDIENCE, call, createTestPki, type Issued, startAs, startRs, type TestAs, type TestPki, type TestRs } from './harness.js';

let pki: TestPki;
let as: TestAs;
let alice: Issued;
let mallory: Issued;
let selfSignedClient: Issued;
let verifier: Verifier;
let bearerOk: Verifier;
let rs: TestRs;
let rsBearerOk: TestRs;
let rsScoped: TestRs;

const REALM = `realm="${AUDIENCE}"`;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const challenge = (error: string, description: string) => `Bearer ${REALM}, error="${error}", error_description="${description}"`;

beforeAll(async () => {
  pki = await createTestPki('RS');
  as = await startAs(pki);
  alice = await pki.client({ subject: [{ CN: ['alice'] }] });
  mallory = await pki.client({ subject: [{ CN: ['alice'] }] }); // same subject, different certificate
  selfSignedClient = await selfSigned({ subject: [{ CN: ['self-signed client'] }] });
  verifier = createVerifier({ issuer: as.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem } });
  bearerOk = createVerifier({ issuer: as.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem }, requireBoundTokens: false });
  rs = await startRs(pki, verifier);
  rsBearerOk = await startRs(pki, bearerOk);
  rsScoped = await startRs(pki, verifier, { scopes: ['read', 'admin'] });
});
afterAll(async () => {
  await Promise.all([rs.close(), rsBearerOk.close(), rsScoped.close()]);
  await Promise.all([verifier.close(), bearerOk.close()]);
  await as.close();
});

const boundTo = (cert: Issued) => ({ cnf: { 'x5t#S256': x5tS256(cert.der) } });

describe('§3.3 decision table over real HTTPS', () => {
  it('BT-5: same certificate as the binding → 200 with auth and Cache-Control: no-store', async () => {
    const res = await call(rs, pki, { token: await as.sign(boundTo(alice)), client: alice });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ clientId: 'client-1', scopes: ['read', 'write'], thumbprint: x5tS256(alice.der) });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('IC-7: a self-signed client certificate whose thumbprint matches cnf → 200 (no chain validation at the RS)', async () => {
    const res = await call(rs, pki, { token: await as.sign(boundTo(selfSignedClient)), client: selfSignedClient });
    expect(res.status).toBe(200);
    expect(res.body.thumbprint).toBe(x5tS256(selfSignedClient.der));
  });

  it('row 1: no Authorization header → 401 Bearer realm, no error', async () => {
    const res = await call(rs, pki, { client: alice });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer ${REALM}`);
    expect(res.body).toEqual({ error_description: 'an access token is required' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('row 1: another scheme (Basic) counts as no bearer token', async () => {
    const res = await call(rs, pki, { authorization: 'Basic dXNlcjpwYXNz', client: alice });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer ${REALM}`);
  });

  it.each([
    ['Bearer', 'malformed Authorization header'],
    ['Bearer  ', 'malformed Authorization header'],
    ['Bearer a b', 'malformed Authorization header'],
    ['Bearer realm="x"', 'malformed Authorization header'],
    ['Bearer abc"def', 'malformed Authorization header'],
  ])('row 2: malformed header %j → 400 invalid_request', async (authorization, description) => {
    const res = await call(rs, pki, { authorization, client: alice });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_request', description));
    expect(res.body).toEqual({ error: 'invalid_request', error_description: description });
  });

  it('row 2: token in the header and in the query → 400 invalid_request', async () => {
    const token = await as.sign(boundTo(alice));
    const res = await call(rs, pki, { token, client: alice, path: `/resource?access_token=${token}` });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_request', 'more than one access token'));
  });

  it('row 2: token only in the query → 400 invalid_request (header required)', async () => {
    const token = await as.sign(boundTo(alice));
    const res = await call(rs, pki, { client: alice, path: `/resource?access_token=${token}` });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'send the access token in the Authorization header' });
  });

  it('row 3: bad signature → 401 invalid_token', async () => {
    const token = await as.sign(boundTo(alice));
    const bad = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const res = await call(rs, pki, { token: bad, client: alice });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'token signature invalid'));
  });

  it('row 3: expired → 401 invalid_token "token expired"', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await call(rs, pki, { token: await as.sign({ ...boundTo(alice), exp: now - 60, iat: now - 120 }), client: alice });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'token expired'));
  });

  it('row 4 / BT-6: bound token, no client certificate → 401 invalid_token, never a 500', async () => {
    const res = await call(rs, pki, { token: await as.sign(boundTo(alice)) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'certificate-bound token requires mTLS'));
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('row 5 / BT-6: a different certificate (same subject, same CA) → 401 invalid_token; no thumbprint echoed', async () => {
    const res = await call(rs, pki, { token: await as.sign(boundTo(alice)), client: mallory });
    expect(res.status).toBe(401);
    const header = res.headers.get('www-authenticate')!;
    expect(header).toBe(challenge('invalid_token', 'certificate does not match the token'));
    expect(header).not.toContain(x5tS256(alice.der));
    expect(JSON.stringify(res.body)).not.toContain(x5tS256(mallory.der));
  });

  it('BT-11: a case-flipped thumbprint does not match (exact, case-sensitive comparison)', async () => {
    const x5t = x5tS256(alice.der);
    const flipped = x5t.replace(/[a-z]/, (c) => c.toUpperCase());
    expect(flipped).not.toBe(x5t);
    const res = await call(rs, pki, { token: await as.sign({ cnf: { 'x5t#S256': flipped } }), client: alice });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'certificate does not match the token'));
  });

  describe('row 6: malformed cnf.x5t#S256 → 401 invalid_token', () => {
    const good = () => x5tS256(alice.der);
    const cases: Array<[string, () => unknown]> = [
      ['padded', () => `${good()}=`],
      ['standard alphabet "+"', () => `+${good().slice(1)}`],
      ['standard alphabet "/"', () => `${good().slice(0, 20)}/${good().slice(21)}`],
      ['42 characters', () => good().slice(0, 42)],
      ['44 characters', () => `${good()}A`],
      // The next base64url character after a canonical last one carries stray low bits: same bytes for a lenient decoder.
      ['non-canonical last character', () => good().slice(0, 42) + B64URL[B64URL.indexOf(good()[42]!) + 1]],
      ['a number', () => 12345],
      ['an object', () => ({ value: good() })],
      ['hex SHA-256', () => Buffer.from(good(), 'base64url').toString('hex')],
      ['with whitespace', () => ` ${good().slice(1)}`],
    ];
    it.each(cases)('%s', async (_name, value) => {
      const res = await call(rs, pki, { token: await as.sign({ cnf: { 'x5t#S256': value() } }), client: alice });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'malformed certificate thumbprint'));
    });
  });

  describe('row 7 / SC-2 / BT-12: cnf without a supported member → 401 invalid_token', () => {
    const cases: Array<[string, () => Record<string, unknown>]> = [
      ['only jkt (DPoP)', () => ({ jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' })],
      ['only x5t (SHA-1) — never a substitute', () => ({ x5t: Buffer.alloc(20).toString('base64url') })],
      ['an unknown x5t#S512', () => ({ 'x5t#S512': Buffer.alloc(64).toString('base64url') })],
      ['empty', () => ({})],
      ['x5t#S256 plus jkt (a method this RS cannot check)', () => ({ 'x5t#S256': x5tS256(alice.der), jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' })],
    ];
    it.each(cases)('%s', async (_name, cnf) => {
      const res = await call(rs, pki, { token: await as.sign({ cnf: cnf() }), client: alice });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'unsupported confirmation method'));
    });
    it('cnf that is not an object', async () => {
      const res = await call(rs, pki, { token: await as.sign({ cnf: 'x5t#S256' }), client: alice });
      expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'unsupported confirmation method'));
    });
  });

  it('row 8: token without cnf, requireBoundTokens (default) → 401 "token is not certificate-bound"', async () => {
    const res = await call(rs, pki, { token: await as.sign(), client: alice });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'token is not certificate-bound'));
  });

  it('row 9: token without cnf, bearer allowed → 200 with or without a certificate; thumbprint undefined', async () => {
    const token = await as.sign();
    const withCert = await call(rsBearerOk, pki, { token, client: alice });
    expect(withCert.status).toBe(200);
    expect(withCert.body.thumbprint).toBeUndefined();
    const without = await call(rsBearerOk, pki, { token });
    expect(without.status).toBe(200);
    // A bound token still needs its certificate when unbound tokens are allowed.
    const bound = await call(rsBearerOk, pki, { token: await as.sign(boundTo(alice)) });
    expect(bound.status).toBe(401);
  });

  it('row 10: valid and bound, missing scope → 403 insufficient_scope with scope="…"', async () => {
    const res = await call(rsScoped, pki, { token: await as.sign({ ...boundTo(alice), scope: 'read' }), client: alice });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer ${REALM}, error="insufficient_scope", error_description="token lacks a required scope", scope="read admin"`);
    expect(res.body).toEqual({ error: 'insufficient_scope', error_description: 'token lacks a required scope' });
    const ok = await call(rsScoped, pki, { token: await as.sign({ ...boundTo(alice), scope: 'admin read' }), client: alice });
    expect(ok.status).toBe(200);
  });

  it('binding is checked before scope: wrong certificate and missing scope → 401, not 403', async () => {
    const res = await call(rsScoped, pki, { token: await as.sign({ ...boundTo(alice), scope: 'read' }), client: mallory });
    expect(res.status).toBe(401);
  });
});

describe('row 11 and forwarded certificates through real servers', () => {
  let trusted: TestRs;
  let untrusted: TestRs;
  let trustedVerifier: Verifier;
  let untrustedVerifier: Verifier;
  const rejected: string[] = [];
  beforeAll(async () => {
    const base = { issuer: as.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem } };
    trustedVerifier = createVerifier({ ...base, certificate: { from: 'forwarded', format: 'rfc9440', trustedProxies: ['127.0.0.1', '::1'] } });
    untrustedVerifier = createVerifier({
      ...base,
      certificate: { from: 'forwarded', format: 'rfc9440', trustedProxies: ['10.0.0.0/8'] },
      onReject: (err) => rejected.push(`${err.code} ${err.message}`),
    });
    trusted = await startRs(pki, trustedVerifier, { tls: false });
    untrusted = await startRs(pki, untrustedVerifier, { tls: false });
  });
  afterAll(async () => {
    await Promise.all([trusted.close(), untrusted.close(), trustedVerifier.close(), untrustedVerifier.close()]);
  });
  const clientCert = (cert: Issued) => ({ 'Client-Cert': `:${cert.der.toString('base64')}:` });

  it('Client-Cert from a trusted proxy with the bound certificate → 200', async () => {
    const res = await call(trusted, pki, { token: await as.sign(boundTo(alice)), headers: clientCert(alice) });
    expect(res.status).toBe(200);
    expect(res.body.thumbprint).toBe(x5tS256(alice.der));
  });
  it('Client-Cert from a trusted proxy with another certificate → 401 invalid_token', async () => {
    const res = await call(trusted, pki, { token: await as.sign(boundTo(alice)), headers: clientCert(mallory) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'certificate does not match the token'));
  });
  it('trusted proxy, no header → 401 certificate-bound token requires mTLS', async () => {
    const res = await call(trusted, pki, { token: await as.sign(boundTo(alice)) });
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', 'certificate-bound token requires mTLS'));
  });
  it('row 11: Client-Cert from an untrusted peer → 400 invalid_request, and reported to onReject', async () => {
    const res = await call(untrusted, pki, { token: await as.sign(boundTo(alice)), headers: clientCert(alice) });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_request', 'client certificate header refused'));
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(rejected.at(-1)).toMatch(/^ERR_VERIFIER_FORWARDED_CERTIFICATE client certificate header refused: ERR_FORWARDED_UNTRUSTED_PEER: Client-Cert received from 127\.0\.0\.1/);
  });
  it('a malformed forwarded header from a trusted proxy → 400 invalid_request', async () => {
    const res = await call(trusted, pki, { token: await as.sign(boundTo(alice)), headers: { 'Client-Cert': `:${alice.der.toString('base64url')}:` } });
    expect(res.status).toBe(400);
  });
  it('T-1: with the forwarded source, a TLS-less request never counts as mTLS without the header', async () => {
    const res = await call(untrusted, pki, { token: await as.sign(boundTo(alice)) });
    expect(res.status).toBe(401);
  });
});
