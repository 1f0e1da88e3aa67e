/**
 * The verified-token cache: a reused token skips signature verification (jose's jwtVerify is counted),
 * while expiry and the certificate binding are checked on every request; bounded; never grown by
 * tokens that fail verification.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

const counters = vi.hoisted(() => ({ jwtVerify: 0 }));
vi.mock('jose', async (importOriginal) => {
  const jose = await importOriginal<typeof import('jose')>();
  return {
    ...jose,
    jwtVerify: (...args: Parameters<typeof jose.jwtVerify>) => {
      counters.jwtVerify++;
      return jose.jwtVerify(...args);
    },
  };
});

import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/verifier/index.js';
import { expectRefusal, invalidToken } from './expect.js';
import { AUDIENCE, createTestPki, fakeRequest, type Issued, startAs, type TestAs, type TestPki } from './harness.js';

let pki: TestPki;
let as: TestAs;
let alice: Issued;
let bob: Issued;
let clock: number;
const verifiers: Verifier[] = [];

function make(options: Partial<VerifierOptions> = {}): Verifier {
  const v = createVerifier({ issuer: as.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem }, now: () => clock, ...options });
  verifiers.push(v);
  return v;
}
const request = (token: string, cert?: Buffer) => fakeRequest({ authorization: `Bearer ${token}`, cert });
const nowSeconds = () => Math.floor(clock / 1000);

beforeAll(async () => {
  pki = await createTestPki('Cache');
  as = await startAs(pki);
  alice = await pki.client({ subject: [{ CN: ['alice'] }] });
  bob = await pki.client({ subject: [{ CN: ['bob'] }] });
});
beforeEach(() => {
  clock = Date.now();
  counters.jwtVerify = 0;
});
afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await as.close();
});

describe('verified-token cache', () => {
  it('a token reused for many calls is verified once (jwtVerify counted)', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    for (let i = 0; i < 10; i++) await expect(v.verify(request(token, alice.der))).resolves.toMatchObject({ clientId: 'client-1' });
    expect(counters.jwtVerify).toBe(1);
  });

  it('the certificate binding is still checked on every request (BT-5 with a cached token)', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(token, alice.der));
    await expectRefusal(v.verify(request(token, bob.der)), invalidToken('certificate does not match the token', 'ERR_VERIFIER_CERTIFICATE_MISMATCH'));
    await expectRefusal(v.verify(request(token)), invalidToken('certificate-bound token requires mTLS', 'ERR_VERIFIER_CERTIFICATE_REQUIRED'));
    await expect(v.verify(request(token, alice.der))).resolves.toBeDefined();
    expect(counters.jwtVerify).toBe(1);
  });

  it('expiry is enforced on a cached token with an advancing clock (tolerance included)', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 60 });
    await v.verify(request(token, alice.der));
    clock += 85_000; // exp + 25 s: within the 30 s tolerance
    await expect(v.verify(request(token, alice.der))).resolves.toBeDefined();
    clock += 10_000; // exp + 35 s
    await expectRefusal(v.verify(request(token, alice.der)), invalidToken('token expired', 'ERR_VERIFIER_TOKEN_EXPIRED'));
    expect(counters.jwtVerify).toBe(1);
  });

  it('scopes are checked per call on a cached token', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, scope: 'read', iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(token, alice.der), { scopes: ['read'] });
    await expectRefusal(v.verify(request(token, alice.der), { scopes: ['write'] }), { status: 403, code: 'ERR_VERIFIER_INSUFFICIENT_SCOPE', error: 'insufficient_scope' });
    expect(counters.jwtVerify).toBe(1);
  });

  it('is bounded: with maxEntries 3, the least recently used token is evicted and verified again', async () => {
    const v = make({ tokenCache: { maxEntries: 3 } });
    const tokens = await Promise.all(
      [0, 1, 2, 3].map(() => as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 })),
    );
    for (const t of tokens) await v.verify(request(t, alice.der));
    expect(counters.jwtVerify).toBe(4);
    await v.verify(request(tokens[3]!, alice.der)); // cached
    await v.verify(request(tokens[1]!, alice.der)); // cached
    expect(counters.jwtVerify).toBe(4);
    await v.verify(request(tokens[0]!, alice.der)); // evicted → verified again
    expect(counters.jwtVerify).toBe(5);
  });

  it('random tokens that fail verification are never cached and cannot evict a good one', async () => {
    const v = make({ tokenCache: { maxEntries: 2 } });
    const good = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(good, alice.der));
    const [h, p] = good.split('.');
    for (let i = 0; i < 50; i++) {
      const forged = `${h}.${p}.${Buffer.from(`bad-signature-${i}`).toString('base64url')}`;
      await expectRefusal(v.verify(request(forged, alice.der)), invalidToken('token signature invalid'));
    }
    expect(counters.jwtVerify).toBe(51);
    await v.verify(request(good, alice.der));
    expect(counters.jwtVerify).toBe(51); // still cached
    // And the same bad token is verified (and refused) again each time: no negative cache for JWTs.
    const forged = `${h}.${p}.${Buffer.from('bad').toString('base64url')}`;
    await expectRefusal(v.verify(request(forged, alice.der)), invalidToken('token signature invalid'));
    await expectRefusal(v.verify(request(forged, alice.der)), invalidToken('token signature invalid'));
    expect(counters.jwtVerify).toBe(53);
  });

  it('tokenCache: false verifies every time', async () => {
    const v = make({ tokenCache: false });
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(token, alice.der));
    await v.verify(request(token, alice.der));
    expect(counters.jwtVerify).toBe(2);
  });
});
