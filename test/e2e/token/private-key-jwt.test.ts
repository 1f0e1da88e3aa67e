/**
 * BT-2: a private_key_jwt client (RFC 7523 client assertion) that connects over mTLS gets tokens bound
 * to the certificate of that connection. Real TLS, certificates and keys made at test time, a real
 * database; the assertion is refused with a reason the administrator can act on.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson } from '../../helpers/net.js';
import { selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let s: TestServer;
let signingKey: CryptoKey;
let publicJwk: JWK;

async function assertion(
  claims: { aud?: string | string[]; jti?: string; iss?: string; sub?: string; exp?: number; kid?: string } = {},
  key: CryptoKey = signingKey,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: claims.kid ?? 'agent-key-1' })
    .setIssuer(claims.iss ?? 'agent')
    .setSubject(claims.sub ?? 'agent')
    .setAudience(claims.aud ?? s.issuer)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 60)
    .sign(key);
}

const form = (clientAssertion: string) => ({ grant_type: 'client_credentials', client_id: 'agent', client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion });

async function accessTokenClaims(token: string) {
  const res = await httpsJson(`${s.handle.mainUrl}/jwks`, { agent: s.agent() });
  return (await jwtVerify(token, createLocalJWKSet(res.body as never), { issuer: s.issuer, audience: API, typ: 'at+jwt' })).payload;
}

async function eventually<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  for (let i = 0; i < 50; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

function refusals(): Record<string, unknown>[] {
  return s.logs.filter((l) => l.event === 'client_auth_refused');
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey as CryptoKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'agent-key-1', use: 'sig', alg: 'ES256' };
  await s.admin.addClient({ clientId: 'agent', privateKeyJwtJwks: JSON.stringify({ keys: [publicJwk] }), scopes: ['read'], defaultResource: API }, 'test');
});
afterAll(() => s?.close());

describe('private_key_jwt over mTLS (BT-2)', () => {
  it('BT-2/BT-8/SS-5: the client authenticates with its assertion and the token is bound to the certificate it connected with, even one no CA issued', async () => {
    const ephemeral = await selfSigned({ subject: [{ CN: ['agent instance 7'] }] });
    const res = await s.token(ephemeral, form(await assertion()), { chain: ephemeral.pem });
    expect(res.status).toBe(200);
    const claims = await accessTokenClaims(String(res.body.access_token));
    expect(claims.cnf).toEqual({ 'x5t#S256': x5tS256(ephemeral.der) });
    expect(claims).toMatchObject({ client_id: 'agent', scope: 'read' });
    // The first success of the client records its certificate as last seen (no mapping: CLI `certs expiring`).
    const seen = await eventually(() => s.database.db('certificate_last_seen').where({ client_id: 'agent' }).first());
    expect(seen).toMatchObject({ x5t_s256: x5tS256(ephemeral.der), mapping_id: null });
  });

  it('BT-2: with a certificate from the trusted CA the binding is the same: cnf is the thumbprint of the DER the client sent', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['agent'] }] });
    const res = await s.token(cert, form(await assertion()));
    const claims = await expectIssuedToken(s, res, { clientId: 'agent', presented: cert, scopes: ['read'], aud: API });
    expect(claims.cnf).toEqual({ 'x5t#S256': x5tS256(new X509Certificate(cert.pem).raw) });
  });

  it('the assertion audience may be the issuer identifier or the token endpoint, also its mTLS alias from discovery', async () => {
    const cert = await selfSigned({ subject: [{ CN: ['agent'] }] });
    const meta = await httpsJson(`${s.handle.mainUrl}/.well-known/oauth-authorization-server`, { agent: s.agent() });
    const aliases = meta.body.mtls_endpoint_aliases as Record<string, string>;
    for (const aud of [s.issuer, String(meta.body.token_endpoint), aliases.token_endpoint!]) {
      const res = await s.token(cert, form(await assertion({ aud })), { chain: cert.pem });
      await expectIssuedToken(s, res, { clientId: 'agent', presented: cert, scopes: ['read'], aud: API });
    }
  });

  it('an assertion minted for another server is refused even when the request claims that server as its Host (the accepted audiences come from the configuration)', async () => {
    const cert = await selfSigned({ subject: [{ CN: ['agent'] }] });
    // A raw request: an HTTP client would also use the Host for TLS server-name checks.
    const body = new URLSearchParams(form(await assertion({ aud: 'https://other-as.example.com/token' }))).toString();
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(new URL(s.mtlsUrl).port), servername: 'localhost', ca: s.pki.root.pem, cert: cert.pem, key: cert.keyPem });
    let raw = '';
    socket.on('data', (chunk) => {
      raw += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () =>
        socket.write(
          `POST /token HTTP/1.1\r\nHost: other-as.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      socket.once('end', resolve);
      socket.once('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 401 /);
    expect(raw).toContain('"error":"invalid_client"');
    expect(String(refusals().at(-1)?.msg)).toContain('aud');
  });

  it('MD-12/BT-7: a valid assertion without a client certificate gets an error and no token, bound or unbound', async () => {
    const res = await s.token(undefined, form(await assertion()));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(res.body.access_token).toBeUndefined();
  });

  it('IC-2/MD-11: the mTLS listener asks for a certificate without requiring one: a private_key_jwt client registered without bound tokens, connecting with none, gets an unbound token', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'agent-key-1' };
    await s.admin.addClient({ clientId: 'batch', privateKeyJwtJwks: JSON.stringify({ keys: [jwk] }), scopes: ['read'], defaultResource: API, boundTokens: false }, 'test');
    const res = await s.token(undefined, { ...form(await assertion({ iss: 'batch', sub: 'batch' }, pair.privateKey as CryptoKey)), client_id: 'batch' });
    await expectIssuedToken(s, res, { clientId: 'batch', presented: null, scopes: ['read'], aud: API });
  });

  it('a replayed assertion (same jti) is refused with invalid_client; the log line with the ref the client sees says why', async () => {
    const cert = await selfSigned({ subject: [{ CN: ['agent'] }] });
    const once = await assertion();
    await expectIssuedToken(s, await s.token(cert, form(once), { chain: cert.pem }), { clientId: 'agent', presented: cert, scopes: ['read'], aud: API });
    const again = await s.token(cert, form(once), { chain: cert.pem });
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
    const ref = /ref ([0-9a-f]{8})/.exec(String(again.body.error_description))?.[1];
    expect(ref).toBeDefined();
    const line = refusals().find((l) => l.ref === ref);
    expect(line).toMatchObject({ reason: 'CLIENT_ASSERTION_INVALID', client_id: 'agent' });
    expect(String(line?.msg)).toContain('only be used once');
    expect(line?.diagnosis).toBeUndefined();
  });

  it('the same assertion sent 6 times at once is accepted exactly once (replay detection is one atomic insert)', async () => {
    const cert = await selfSigned({ subject: [{ CN: ['agent'] }] });
    const once = await assertion();
    const results = await Promise.all(Array.from({ length: 6 }, () => s.token(cert, form(once), { chain: cert.pem })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    await expectIssuedToken(s, results.find((r) => r.status === 200)!, { clientId: 'agent', presented: cert, scopes: ['read'], aud: API });
  });

  it('an assertion for another audience, one signed with an unregistered key, and one naming another client are refused; each log line names the rule', async () => {
    const cert = await selfSigned({ subject: [{ CN: ['agent'] }] });
    const stranger = (await generateKeyPair('ES256')).privateKey as CryptoKey;
    const cases: [string, string][] = [
      [await assertion({ aud: 'https://other-as.example.com' }), 'aud'],
      [await assertion({}, stranger), 'signature'],
      [await assertion({ iss: 'billing' }), 'iss'],
    ];
    for (const [jwt, rule] of cases) {
      const before = refusals().length;
      const res = await s.token(cert, form(jwt), { chain: cert.pem });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.access_token).toBeUndefined();
      const line = refusals().slice(before).at(-1);
      expect(line).toMatchObject({ reason: 'CLIENT_ASSERTION_INVALID', client_id: 'agent' });
      expect(String(line?.msg)).toContain(rule);
    }
  });

  it('a private_key_jwt client cannot authenticate with its certificate alone (no assertion)', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['agent'] }] });
    const before = refusals().length;
    const res = await s.token(cert, { grant_type: 'client_credentials', client_id: 'agent' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.access_token).toBeUndefined();
    const line = refusals().slice(before).at(-1);
    expect(line).toMatchObject({ reason: 'CLIENT_ASSERTION_INVALID', client_id: 'agent' });
    expect(String(line?.msg)).toContain('the request carried no client assertion');
  });

  it('key rotation: after the keys are replaced (client update --jwks), an assertion signed with the old key is refused and the new key works at once', async () => {
    const oldPair = await generateKeyPair('ES256', { extractable: true });
    const newPair = await generateKeyPair('ES256', { extractable: true });
    const jwkOf = async (key: CryptoKey, kid: string) => ({ ...(await exportJWK(key)), kid });
    await s.admin.addClient(
      { clientId: 'rotor', privateKeyJwtJwks: JSON.stringify({ keys: [await jwkOf(oldPair.publicKey as CryptoKey, 'k2026')] }), scopes: ['read'], defaultResource: API },
      'test',
    );
    const cert = await selfSigned({ subject: [{ CN: ['rotor'] }] });
    const signed = async (key: CryptoKey, kid: string) => ({ ...form(await assertion({ iss: 'rotor', sub: 'rotor', kid }, key)), client_id: 'rotor' });
    await expectIssuedToken(s, await s.token(cert, await signed(oldPair.privateKey as CryptoKey, 'k2026'), { chain: cert.pem }), {
      clientId: 'rotor',
      presented: cert,
      scopes: ['read'],
      aud: API,
    });
    await s.admin.updateClient('rotor', { jwks: JSON.stringify({ keys: [await jwkOf(newPair.publicKey as CryptoKey, 'k2027')] }) }, 'test');
    const refused = await s.token(cert, await signed(oldPair.privateKey as CryptoKey, 'k2026'), { chain: cert.pem });
    expect(refused.status).toBe(401);
    expect(refusals().at(-1)).toMatchObject({ reason: 'CLIENT_ASSERTION_INVALID', client_id: 'rotor' });
    await expectIssuedToken(s, await s.token(cert, await signed(newPair.privateKey as CryptoKey, 'k2027'), { chain: cert.pem }), {
      clientId: 'rotor',
      presented: cert,
      scopes: ['read'],
      aud: API,
    });
  });

  it('SS-6: discovery offers private_key_jwt with asymmetric algorithms only (no client_secret_jwt)', async () => {
    const res = await httpsJson(`${s.handle.mainUrl}/.well-known/oauth-authorization-server`, { agent: s.agent() });
    expect(res.body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt']));
    const algs = res.body.token_endpoint_auth_signing_alg_values_supported as string[];
    expect(algs).toContain('ES256');
    expect(algs.some((a) => a.startsWith('HS'))).toBe(false);
  });
});
