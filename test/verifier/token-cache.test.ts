/**
 * The verified-token cache: a reused token skips signature verification (jose's jwtVerify is counted),
 * while expiry and the certificate binding are checked on every request; bounded; never grown by
 * tokens that fail verification; a JWT enters it on its second use (the doorkeeper), so tokens used
 * once never push reused ones out.
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
import { Agent, request as undiciRequest } from 'undici';
import { peerCertificateOf } from '../../src/verifier/lib/peer-certificate.js';
import { AUDIENCE, createSigningKey, createTestPki, fakeRequest, type Issued, startAs, startRs, type TestAs, type TestPki } from './harness.js';
import { expectBoundToken } from '../helpers/bound-token.js';

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
  it('a token reused for many calls is verified twice: its first use marks it, its second caches it (jwtVerify counted)', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    for (let i = 0; i < 10; i++) await expect(v.verify(request(token, alice.der))).resolves.toMatchObject({ clientId: 'client-1' });
    expect(counters.jwtVerify).toBe(2);
  });

  it('tokens used once never enter the cache, so they cannot push out a reused one', async () => {
    const v = make({ tokenCache: { maxEntries: 2 } });
    const reused = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(reused, alice.der));
    await v.verify(request(reused, alice.der));
    expect(counters.jwtVerify).toBe(2);
    for (let i = 0; i < 20; i++) {
      const once = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
      await v.verify(request(once, alice.der));
    }
    expect(counters.jwtVerify).toBe(22);
    await v.verify(request(reused, alice.der));
    expect(counters.jwtVerify).toBe(22); // still cached
  });

  it('the certificate binding is still checked on every request (BT-5 with a cached token)', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(token, alice.der));
    await v.verify(request(token, alice.der)); // now cached
    await expectRefusal(v.verify(request(token, bob.der)), invalidToken('certificate does not match the token', 'ERR_VERIFIER_CERTIFICATE_MISMATCH'));
    await expectRefusal(v.verify(request(token)), invalidToken('certificate-bound token requires mTLS', 'ERR_VERIFIER_CERTIFICATE_REQUIRED'));
    await expectBoundToken(v.verify(request(token, alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read', 'write'] });
    expect(counters.jwtVerify).toBe(2);
  });

  it('expiry is enforced on a cached token with an advancing clock (tolerance included)', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 60 });
    await v.verify(request(token, alice.der));
    await v.verify(request(token, alice.der)); // now cached
    clock += 85_000; // exp + 25 s: within the 30 s tolerance
    await expectBoundToken(v.verify(request(token, alice.der)), { clientId: 'client-1', certificate: alice.der, scopes: ['read', 'write'] });
    clock += 10_000; // exp + 35 s
    await expectRefusal(v.verify(request(token, alice.der)), invalidToken('token expired', 'ERR_VERIFIER_TOKEN_EXPIRED'));
    expect(counters.jwtVerify).toBe(2);
  });

  it('scopes are checked per call on a cached token', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, scope: 'read', iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(token, alice.der), { scopes: ['read'] });
    await v.verify(request(token, alice.der), { scopes: ['read'] }); // now cached
    await expectRefusal(v.verify(request(token, alice.der), { scopes: ['write'] }), { status: 403, code: 'ERR_VERIFIER_INSUFFICIENT_SCOPE', error: 'insufficient_scope' });
    expect(counters.jwtVerify).toBe(2);
  });

  it('is bounded: with maxEntries 3, the least recently used token is evicted and verified again', async () => {
    const v = make({ tokenCache: { maxEntries: 3 } });
    const tokens = await Promise.all([0, 1, 2, 3].map(() => as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 })));
    for (const t of tokens) {
      await v.verify(request(t, alice.der));
      await v.verify(request(t, alice.der)); // second use: cached
    }
    expect(counters.jwtVerify).toBe(8);
    await v.verify(request(tokens[3]!, alice.der)); // cached
    await v.verify(request(tokens[1]!, alice.der)); // cached
    expect(counters.jwtVerify).toBe(8);
    await v.verify(request(tokens[0]!, alice.der)); // evicted → verified again
    expect(counters.jwtVerify).toBe(9);
  });

  it('random tokens that fail verification are never cached and cannot evict a good one', async () => {
    const v = make({ tokenCache: { maxEntries: 2 } });
    const good = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(good, alice.der));
    await v.verify(request(good, alice.der)); // now cached
    const [h, p] = good.split('.');
    for (let i = 0; i < 50; i++) {
      const forged = `${h}.${p}.${Buffer.from(`bad-signature-${i}`).toString('base64url')}`;
      await expectRefusal(v.verify(request(forged, alice.der)), invalidToken('token signature invalid'));
    }
    expect(counters.jwtVerify).toBe(52);
    await v.verify(request(good, alice.der));
    expect(counters.jwtVerify).toBe(52); // still cached
    // And the same bad token is verified (and refused) again each time: no negative cache for JWTs.
    const forged = `${h}.${p}.${Buffer.from('bad').toString('base64url')}`;
    await expectRefusal(v.verify(request(forged, alice.der)), invalidToken('token signature invalid'));
    await expectRefusal(v.verify(request(forged, alice.der)), invalidToken('token signature invalid'));
    expect(counters.jwtVerify).toBe(54);
  });

  it('row 3 with a cached token: a token with the signature of a cached one but another payload is verified on its own and refused; the cached one still answers from the cache', async () => {
    const v = make();
    const good = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(good, alice.der));
    await v.verify(request(good, alice.der)); // now cached
    const [h, , sig] = good.split('.');
    // Same last characters as the cached token (its whole signature), other claims: must not hit the cache.
    const otherPayload = Buffer.from(
      JSON.stringify({
        iss: as.issuer,
        aud: AUDIENCE,
        sub: 'mallory',
        client_id: 'mallory',
        jti: 'x',
        iat: nowSeconds(),
        exp: nowSeconds() + 300,
        cnf: { 'x5t#S256': x5tS256(bob.der) },
      }),
    ).toString('base64url');
    const forged = `${h}.${otherPayload}.${sig}`;
    for (let i = 0; i < 3; i++) await expectRefusal(v.verify(request(forged, bob.der)), invalidToken('token signature invalid'));
    expect(counters.jwtVerify).toBe(5);
    await expect(v.verify(request(good, alice.der))).resolves.toMatchObject({ clientId: 'client-1' });
    expect(counters.jwtVerify).toBe(5); // still cached
  });

  it('a token in use stays cached when new tokens enter a full cache; one not used since it entered goes first', async () => {
    const v = make({ tokenCache: { maxEntries: 2 } });
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 })));
    for (const t of [a!, b!]) {
      await v.verify(request(t, alice.der));
      await v.verify(request(t, alice.der)); // second use: cached
    }
    await v.verify(request(a!, alice.der)); // a in use (cache hit)
    expect(counters.jwtVerify).toBe(4);
    await v.verify(request(c!, alice.der));
    await v.verify(request(c!, alice.der)); // c enters the full cache: b (unused since) is evicted, not a
    expect(counters.jwtVerify).toBe(6);
    await v.verify(request(a!, alice.der));
    await v.verify(request(c!, alice.der));
    expect(counters.jwtVerify).toBe(6);
    await v.verify(request(b!, alice.der));
    expect(counters.jwtVerify).toBe(7);
  });

  it('the b64token check is not skipped for a token that is not cached, and a cached token with spaces before it is still found', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(token, alice.der));
    await v.verify(request(token, alice.der)); // now cached
    await expectRefusal(v.verify(fakeRequest({ authorization: `Bearer ${token}"`, cert: alice.der })), {
      status: 400,
      code: 'ERR_VERIFIER_INVALID_REQUEST',
      error: 'invalid_request',
    });
    await expect(v.verify(fakeRequest({ authorization: `bearer   ${token}`, cert: alice.der }))).resolves.toMatchObject({ clientId: 'client-1' });
    expect(counters.jwtVerify).toBe(2);
  });

  it('the doorkeeper remembers the tokens of the last 2–4 × maxEntries verifications: a reused token is cached on its second use within them, and only marked again after them', async () => {
    const v = make({ tokenCache: { maxEntries: 2 } }); // generations of 8 marks
    const sign = () => as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    const once = async (n: number) => {
      for (let i = 0; i < n; i++) await v.verify(request(await sign(), alice.der));
    };
    const x = await sign();
    await v.verify(request(x, alice.der)); // marked
    await once(7); // 8 marks: the generation is full and becomes the old one
    await v.verify(request(x, alice.der)); // found in the old generation: cached
    await v.verify(request(x, alice.der));
    expect(counters.jwtVerify).toBe(9);

    const y = await sign();
    await v.verify(request(y, alice.der)); // marked
    await once(16); // two more generations: y's mark is gone
    expect(counters.jwtVerify).toBe(26);
    await v.verify(request(y, alice.der)); // marked again, not cached
    await v.verify(request(y, alice.der)); // cached now
    await v.verify(request(y, alice.der));
    expect(counters.jwtVerify).toBe(28);
    await v.verify(request(x, alice.der)); // x is still cached
    expect(counters.jwtVerify).toBe(28);
  });

  it('tokenCache: false verifies every time', async () => {
    const v = make({ tokenCache: false });
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    await v.verify(request(token, alice.der));
    await v.verify(request(token, alice.der));
    expect(counters.jwtVerify).toBe(2);
  });

  it('a token longer than the cache key limit (4096 characters) is cached too (keyed by its hash)', async () => {
    const v = make();
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, note: 'x'.repeat(5000), iat: nowSeconds(), exp: nowSeconds() + 300 });
    expect(token.length).toBeGreaterThan(4096);
    for (let i = 0; i < 3; i++) await v.verify(request(token, alice.der));
    expect(counters.jwtVerify).toBe(2);
    await expectRefusal(v.verify(request(token, bob.der)), invalidToken('certificate does not match the token', 'ERR_VERIFIER_CERTIFICATE_MISMATCH'));
  });
});

describe('client certificate per connection (BT-5 on keep-alive connections)', () => {
  it("a TLS 1.3 connection's certificate is read once; under TLS 1.2 (renegotiation possible) on every request", () => {
    const der = alice.der;
    for (const [protocol, reads] of [
      ['TLSv1.3', 1],
      ['TLSv1.2', 3],
    ] as const) {
      let calls = 0;
      const socket = {
        getProtocol: () => protocol,
        getPeerX509Certificate: () => {
          calls++;
          return { raw: der };
        },
      };
      const results = [0, 1, 2].map(() => peerCertificateOf({ socket }));
      expect(calls, protocol).toBe(reads);
      for (const r of results) expect(r?.x5t).toBe(x5tS256(der));
    }
  });

  it("over real TLS 1.3 and 1.2 keep-alive connections, every request is checked against its own connection's certificate", async () => {
    const v = make({ now: Date.now });
    const rs = await startRs(pki, v);
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, iat: nowSeconds(), exp: nowSeconds() + 300 });
    try {
      for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
        for (const [client, expected] of [
          [alice, 200],
          [bob, 401],
        ] as const) {
          const agent = new Agent({ connections: 1, connect: { ca: pki.root.pem, cert: client.pem, key: client.keyPem, maxVersion } });
          let connections = 0;
          agent.on('connect', () => connections++);
          try {
            for (let i = 0; i < 3; i++) {
              const res = await undiciRequest(`${rs.url}/resource`, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent });
              await res.body.dump();
              expect(res.statusCode, `${maxVersion} ${client === alice ? 'alice' : 'bob'} request ${i}`).toBe(expected);
            }
            expect(connections, 'one keep-alive connection').toBe(1);
          } finally {
            await agent.close();
          }
        }
      }
      expect(counters.jwtVerify).toBe(2);
    } finally {
      await rs.close();
    }
  });
});

describe("a cached token follows the issuer's key set and is verified again after tokenCache.maxAge", () => {
  const bound = () => ({ cnf: { 'x5t#S256': x5tS256(alice.der) } });

  it('key rotation: a token signed by a key that left the keySet is refused on the next request, cached or not', async () => {
    const retired = await createSigningKey('as-key-retired');
    let current = { keys: [as.key.publicJwk, retired.publicJwk] };
    const v = make({ keySet: () => current });
    // a far-away exp: the cache must not keep it alive
    const now = Math.floor(clock / 1000);
    const token = await as.sign({ ...bound(), iat: now, exp: now + 10 * 365 * 86400 }, {}, retired);
    await v.verify(request(token, alice.der)); // marked
    await v.verify(request(token, alice.der)); // cached
    const before = counters.jwtVerify;
    await v.verify(request(token, alice.der)); // served from the cache while the key is in the set
    expect(counters.jwtVerify).toBe(before);
    current = { keys: [as.key.publicJwk] };
    await expectRefusal(v.verify(request(token, alice.der)), invalidToken('token signing key not found'));
    // a token of the remaining key is unaffected
    const kept = await as.sign(bound());
    await v.verify(request(kept, alice.der));
  });

  it('with a JWKS fetched from the issuer: a fetch that no longer lists the key refuses the tokens cached under it', async () => {
    const retiring = await createSigningKey('as-key-retiring');
    as.jwks.push(retiring.publicJwk);
    try {
      const v = make({ jwks: { cooldownDuration: 0 } });
      const token = await as.sign(bound(), {}, retiring);
      await v.verify(request(token, alice.der));
      await v.verify(request(token, alice.der)); // cached
      // The issuer retires the key and signs with a new one: the verifier fetches the JWKS for the new kid.
      as.jwks.splice(as.jwks.indexOf(retiring.publicJwk), 1);
      const next = await createSigningKey('as-key-next');
      as.jwks.push(next.publicJwk);
      await v.verify(request(await as.sign(bound(), {}, next), alice.der));
      await expectRefusal(v.verify(request(token, alice.der)), invalidToken('token signing key not found'));
    } finally {
      as.jwks.splice(0, as.jwks.length, as.key.publicJwk);
    }
  });

  it('tokenCache.maxAge: a cached token is verified again (signature included) once maxAge has passed', async () => {
    const v = make({ keySet: { keys: [as.key.publicJwk] }, tokenCache: { maxAge: 60_000 } });
    const token = await as.sign(bound());
    await v.verify(request(token, alice.der));
    await v.verify(request(token, alice.der)); // cached at `clock`
    let before = counters.jwtVerify;
    clock += 59_000;
    await v.verify(request(token, alice.der));
    expect(counters.jwtVerify).toBe(before);
    clock += 2_000;
    await v.verify(request(token, alice.der));
    expect(counters.jwtVerify).toBe(before + 1);
    await v.verify(request(token, alice.der)); // enters the cache again (the doorkeeper admits it)
    before = counters.jwtVerify;
    await v.verify(request(token, alice.der));
    expect(counters.jwtVerify).toBe(before);
    expect(() => make({ tokenCache: { maxAge: -1 } })).toThrow(/tokenCache\.maxAge/);
  });

  it('J-22: a cached token is refused from exactly exp + clockTolerance on, as an uncached one is', async () => {
    const exp = Math.floor(clock / 1000) + 60;
    const token = await as.sign({ ...bound(), iat: exp - 60, exp });
    clock = (exp - 30) * 1000;
    const cached = make({ keySet: { keys: [as.key.publicJwk] } });
    const uncached = make({ keySet: { keys: [as.key.publicJwk] }, tokenCache: false });
    await cached.verify(request(token, alice.der));
    await cached.verify(request(token, alice.der)); // cached
    clock = (exp + 29) * 1000;
    await cached.verify(request(token, alice.der));
    await uncached.verify(request(token, alice.der));
    clock = (exp + 30) * 1000; // exactly exp + the default 30 s tolerance
    await expectRefusal(uncached.verify(request(token, alice.der)), invalidToken('token expired', 'ERR_VERIFIER_TOKEN_EXPIRED'));
    await expectRefusal(cached.verify(request(token, alice.der)), invalidToken('token expired', 'ERR_VERIFIER_TOKEN_EXPIRED'));
  });
});
