import { createPublicKey } from 'node:crypto';
import { exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwksFromCertificatePem, validateSelfSignedJwks } from '../../src/jwks/self-signed.js';
import { CertboundError } from '../../src/errors/index.js';
import { type Issued, selfSigned } from '../helpers/pki.js';

async function jwkOf(cert: Issued) {
  const jwk = await exportJWK(createPublicKey(cert.pem));
  return { ...jwk, x5c: [cert.der.toString('base64')] };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CertboundError);
    return `${(err as CertboundError).code}: ${(err as Error).message}`;
  }
  throw new Error('expected an error');
}

describe('self_signed_tls_client_auth registration (RFC 8705 §2.2.2)', () => {
  it('SS-7: a certificate PEM becomes a JWKS whose x5c[0] is the DER and whose key members come from it', async () => {
    const c = await selfSigned({ subject: [{ CN: ['dev'] }] });
    const jwks = await jwksFromCertificatePem(c.pem);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', x5c: [c.der.toString('base64')] });
    expect(() => validateSelfSignedJwks(JSON.stringify(jwks))).not.toThrow();
  });

  it('SS-1/SS-3: a JWKS with two certificates (rotation) is accepted as given', async () => {
    const a = await selfSigned({ subject: [{ CN: ['a'] }] });
    const b = await selfSigned({ subject: [{ CN: ['b'] }] });
    const jwks = validateSelfSignedJwks(JSON.stringify({ keys: [await jwkOf(a), await jwkOf(b)] }));
    expect(jwks.keys.map((k) => (k.x5c as string[])[0])).toEqual([a.der.toString('base64'), b.der.toString('base64')]);
  });

  it('SS-8: a JWK with only kty and x5c is refused (key members are still required)', async () => {
    const a = await selfSigned({ subject: [{ CN: ['a'] }] });
    expect(codeOf(() => validateSelfSignedJwks(JSON.stringify({ keys: [{ kty: 'EC', x5c: [a.der.toString('base64')] }] })))).toMatch(/^ERR_JWKS_INVALID: .*crv, x, y are missing/);
  });

  it('SS-9: a key that differs from the public key of x5c[0] is refused', async () => {
    const a = await selfSigned({ subject: [{ CN: ['a'] }] });
    const b = await selfSigned({ subject: [{ CN: ['b'] }] });
    const mixed = { ...(await jwkOf(a)), x5c: [b.der.toString('base64')] };
    expect(codeOf(() => validateSelfSignedJwks(JSON.stringify({ keys: [mixed] })))).toMatch(/does not match the public key of its x5c\[0\]/);
  });

  it('SS-10: x5c in base64url (or PEM) is refused: it must be standard base64 DER', async () => {
    let a = await selfSigned({ subject: [{ CN: ['a'] }] });
    // find a certificate whose base64 has + or / so that base64url really differs
    while (!/[+/]/.test(a.der.toString('base64'))) a = await selfSigned({ subject: [{ CN: ['a'] }] });
    const url = { ...(await jwkOf(a)), x5c: [a.der.toString('base64url')] };
    expect(codeOf(() => validateSelfSignedJwks(JSON.stringify({ keys: [url] })))).toMatch(/not standard base64 DER/);
    const pem = { ...(await jwkOf(a)), x5c: [a.pem] };
    expect(codeOf(() => validateSelfSignedJwks(JSON.stringify({ keys: [pem] })))).toMatch(/not standard base64 DER/);
  });

  it('SS-11: jwks and jwks_uri together are refused; private key material is refused', async () => {
    const a = await selfSigned({ subject: [{ CN: ['a'] }] });
    const jwk = await jwkOf(a);
    expect(codeOf(() => validateSelfSignedJwks(JSON.stringify({ keys: [jwk], jwks_uri: 'https://x.example/jwks' })))).toMatch(/jwks_uri/);
    expect(codeOf(() => validateSelfSignedJwks(JSON.stringify({ keys: [{ ...jwk, d: 'secret' }] })))).toMatch(/private key material/);
    expect(codeOf(() => validateSelfSignedJwks('{"keys": []}'))).toMatch(/1 to 10 keys/);
    expect(codeOf(() => validateSelfSignedJwks('not json'))).toMatch(/not valid JSON/);
  });
});
