/**
 * `keySet`: the issuer's keys given directly (no discovery, no JWKS fetch), as certbound's own admin API
 * uses the verifier in the authorization server's process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/verifier/index.js';
import { expectRefusal, invalidToken } from './expect.js';
import { AUDIENCE, createSigningKey, createTestPki, fakeRequest, startAs, type Issued, type TestAs, type TestPki } from './harness.js';

let pki: TestPki;
let as: TestAs;
let client: Issued;
let cnf: { 'x5t#S256': string };
const verifiers: Verifier[] = [];

beforeAll(async () => {
  pki = await createTestPki('KeySet');
  as = await startAs(pki);
  client = await pki.client({ subject: [{ CN: ['client-1'] }] });
  cnf = { 'x5t#S256': x5tS256(client.der) };
});
afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await as.close();
});

function make(keySet: NonNullable<VerifierOptions['keySet']>): Verifier {
  // The issuer is reachable, but must never be contacted: the hit counter proves it.
  const v = createVerifier({ issuer: as.issuer, audience: AUDIENCE, keySet, tokenCache: false, tls: { ca: pki.root.pem } });
  verifiers.push(v);
  return v;
}

const verifyToken = (v: Verifier, token: string) => v.verify(fakeRequest({ authorization: `Bearer ${token}`, cert: client.der }));

describe('verifier keySet option', () => {
  it('verifies with a given JWK Set without discovery or a JWKS request', async () => {
    const result = await verifyToken(make({ keys: [as.key.publicJwk] }), await as.sign({ cnf }));
    expect(result.thumbprint).toBe(cnf['x5t#S256']);
    expect([...as.hits.keys()]).toEqual([]);
  });

  it('a function is read again for each new token, so a rotated key is accepted once the function returns it', async () => {
    const next = await createSigningKey('as-key-2');
    let current = { keys: [as.key.publicJwk] };
    const v = make(() => current);
    const token = await as.sign({ cnf }, {}, next);
    await expectRefusal(verifyToken(v, token), invalidToken('token signing key not found'));
    current = { keys: [as.key.publicJwk, next.publicJwk] };
    await expect(verifyToken(v, token)).resolves.toMatchObject({ clientId: 'client-1' });
    expect([...as.hits.keys()]).toEqual([]);
  });

  it('the binding is still checked: another certificate is refused', async () => {
    const other = await pki.client({ subject: [{ CN: ['client-2'] }] });
    const token = await as.sign({ cnf });
    await expectRefusal(
      make({ keys: [as.key.publicJwk] }).verify(fakeRequest({ authorization: `Bearer ${token}`, cert: other.der })),
      invalidToken('certificate does not match the token', 'ERR_VERIFIER_CERTIFICATE_MISMATCH'),
    );
  });

  it('keySet with jwksUri, or a keySet that is not a JWK Set, is a TypeError', () => {
    expect(() => createVerifier({ issuer: as.issuer, audience: AUDIENCE, keySet: { keys: [] }, jwksUri: `${as.issuer}/jwks` })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: as.issuer, audience: AUDIENCE, keySet: {} as NonNullable<VerifierOptions['keySet']> })).toThrow(TypeError);
  });
});
