import { KeyObject, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { CompactEncrypt, generateKeyPair, exportSPKI, jwtVerify, SignJWT, UnsecuredJWT, createLocalJWKSet, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/verifier/index.js';
import { expectRefusal, invalidToken } from './expect.js';
import { expectBoundToken } from '../helpers/bound-token.js';
import { AUDIENCE, createSigningKey, createTestPki, fakeRequest, startAs, type TestAs, type TestPki, type Issued } from './harness.js';

let pki: TestPki;
let as: TestAs;
let client: Issued;
let cnf: { 'x5t#S256': string };
const verifiers: Verifier[] = [];

function make(options: Partial<VerifierOptions> = {}): Verifier {
  const v = createVerifier({ issuer: as.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem }, tokenCache: false, ...options });
  verifiers.push(v);
  return v;
}

beforeAll(async () => {
  pki = await createTestPki('JWT');
  as = await startAs(pki);
  client = await pki.client({ subject: [{ CN: ['client-1'] }] });
  cnf = { 'x5t#S256': x5tS256(client.der) };
});
afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await as.close();
});

const now = () => Math.floor(Date.now() / 1000);
const verifyToken = (v: Verifier, token: string) => v.verify(fakeRequest({ authorization: `Bearer ${token}`, cert: client.der }));

describe('RFC 9068 JWT access tokens (J-1 … J-22)', () => {
  it('accepts a well-formed bound token (baseline)', async () => {
    const result = await verifyToken(make(), await as.sign({ cnf }));
    expect(result).toMatchObject({ clientId: 'client-1', scopes: ['read', 'write'], thumbprint: cnf['x5t#S256'] });
    expect(result.claims.sub).toBe('user-1');
  });

  it('J-1: alg none is refused', async () => {
    const token = new UnsecuredJWT({ iss: as.issuer, aud: AUDIENCE, exp: now() + 60, iat: now(), sub: 's', client_id: 'c', jti: 'j', cnf })
      .encode()
      .replace(/^[^.]+/, Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url'));
    await expectRefusal(verifyToken(make(), token), invalidToken('token algorithm not allowed'));
  });

  it('J-2: HS256 signed with the AS public key (SPKI PEM) as HMAC secret is refused; HS* cannot be configured', async () => {
    const spki = await exportSPKI((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const token = await new SignJWT({ iss: as.issuer, aud: AUDIENCE, exp: now() + 60, iat: now(), sub: 's', client_id: 'c', jti: 'j', cnf })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: as.key.kid })
      .sign(new TextEncoder().encode(spki));
    await expectRefusal(verifyToken(make(), token), invalidToken('token algorithm not allowed'));
    expect(() => make({ algorithms: ['ES256', 'HS256'] })).toThrow(TypeError);
    expect(() => make({ algorithms: ['none'] })).toThrow(TypeError);
  });

  it('J-3: typ JWT is refused when at+jwt is required', async () => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf }, { typ: 'JWT' })), invalidToken('token typ claim invalid'));
    await expectRefusal(verifyToken(make(), await as.sign({ cnf }, { typ: null })), invalidToken('token typ claim invalid'));
  });

  it('J-4: typ application/at+jwt is accepted', async () => {
    await expect(verifyToken(make(), await as.sign({ cnf }, { typ: 'application/at+jwt' }))).resolves.toMatchObject({ clientId: 'client-1' });
  });

  it('J-5: a token without exp is refused', async () => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, exp: null })), invalidToken('token exp claim invalid'));
  });

  it('J-6: exp 20 s ago is accepted with the 30 s tolerance', async () => {
    await expectBoundToken(verifyToken(make(), await as.sign({ cnf, exp: now() - 20, iat: now() - 100 })), {
      clientId: 'client-1',
      certificate: client.der,
      scopes: ['read', 'write'],
    });
  });

  it('J-7: exp 40 s ago is refused as expired', async () => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, exp: now() - 40, iat: now() - 100 })), invalidToken('token expired', 'ERR_VERIFIER_TOKEN_EXPIRED'));
  });

  it('J-8: nbf 40 s in the future is refused', async () => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, nbf: now() + 40 })), invalidToken('token nbf claim invalid'));
  });

  it('J-9: exp as a string is refused', async () => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, exp: String(now() + 60) })), invalidToken('token exp claim invalid'));
  });

  it('J-10: aud as an array containing the RS identifier is accepted; without it refused', async () => {
    await expectBoundToken(verifyToken(make(), await as.sign({ cnf, aud: ['https://other.example.com', AUDIENCE] })), {
      clientId: 'client-1',
      certificate: client.der,
      scopes: ['read', 'write'],
    });
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, aud: ['https://other.example.com'] })), invalidToken('token aud claim invalid'));
  });

  it('J-11: iss differing only by a trailing slash is refused', async () => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, iss: `${as.issuer}/` })), invalidToken('token iss claim invalid'));
  });

  it("J-12: issuer mix-up — a token claiming issuer B but signed with A's key is refused by B's verifier", async () => {
    const asB = await startAs(pki);
    try {
      const forged = await as.sign({ cnf, iss: asB.issuer }); // A's key, kid as-key-1 — B's key has the same kid, different key material
      await expectRefusal(verifyToken(make({ issuer: asB.issuer }), forged), invalidToken('token signature invalid'));
      // and A's verifier refuses it on iss
      await expectRefusal(verifyToken(make(), forged), invalidToken('token iss claim invalid'));
    } finally {
      await asB.close();
    }
  });

  it('J-13: a flood of unknown kids causes no JWKS refetch within the cooldown; after it, one refetch picks up a rotated key', async () => {
    // jose times the cooldown with Date.now(): a fake clock steps past it, so the flood stays inside it however slow the machine.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const cooldownDuration = 30_000;
      const v = make({ jwks: { cooldownDuration } });
      await verifyToken(v, await as.sign({ cnf }));
      const before = as.hits.get('/jwks') ?? 0;
      const stranger = await createSigningKey('unknown-kid');
      for (let i = 0; i < 20; i++) {
        const forged = await as.sign({ cnf }, { kid: `random-${i}` }, stranger);
        await expectRefusal(verifyToken(v, forged), invalidToken('token signing key not found'));
      }
      expect((as.hits.get('/jwks') ?? 0) - before).toBe(0);
      // Rotation: the AS publishes a new key; within the cooldown it is not fetched, after it one refetch finds it.
      const rotated = await createSigningKey('as-key-2');
      as.jwks.push(rotated.publicJwk);
      vi.advanceTimersByTime(cooldownDuration - 1000);
      await expectRefusal(verifyToken(v, await as.sign({ cnf }, {}, rotated)), invalidToken('token signing key not found'));
      expect((as.hits.get('/jwks') ?? 0) - before).toBe(0);
      vi.advanceTimersByTime(1001);
      await expectBoundToken(verifyToken(v, await as.sign({ cnf }, {}, rotated)), { clientId: 'client-1', certificate: client.der, scopes: ['read', 'write'] });
      expect((as.hits.get('/jwks') ?? 0) - before).toBe(1);
    } finally {
      vi.useRealTimers();
      as.jwks.pop();
    }
  });

  it('J-14: embedded jwk / jku / x5u / x5c header keys are never used', async () => {
    const attacker = await createSigningKey('attacker');
    let jkuHits = 0;
    const jku = createServer((_req, res) => {
      jkuHits++;
      res.end(JSON.stringify({ keys: [attacker.publicJwk] }));
    }).listen(0, '127.0.0.1');
    await once(jku, 'listening');
    const jkuUrl = `http://127.0.0.1:${(jku.address() as { port: number }).port}/jwks`;
    try {
      const v = make();
      const { kid: _k, alg: _a, use: _u, ...bareJwk } = attacker.publicJwk;
      const withJwk = await as.sign({ cnf }, { kid: null, jwk: bareJwk }, attacker);
      await expectRefusal(verifyToken(v, withJwk), invalidToken('token signature invalid'));
      const withJku = await as.sign({ cnf }, { kid: 'attacker', jku: jkuUrl }, attacker);
      await expectRefusal(verifyToken(v, withJku), invalidToken('token signing key not found'));
      const sameKid = await as.sign({ cnf }, { x5u: jkuUrl, x5c: [client.der.toString('base64')] }, { ...attacker, kid: as.key.kid });
      await expectRefusal(verifyToken(v, sameKid), invalidToken('token signature invalid'));
      expect(jkuHits).toBe(0);
    } finally {
      jku.close();
    }
  });

  it('J-15 [MEM confirmed]: a JWKS key with use "enc" or key_ops without "verify" is not used for signatures', async () => {
    const encKey = await createSigningKey('enc-key', 'ES256', { use: 'enc' });
    const opsKey = await createSigningKey('ops-key', 'ES256', { use: undefined, key_ops: ['encrypt'] });
    const okOps = await createSigningKey('ok-ops', 'ES256', { use: undefined, key_ops: ['verify'] });
    as.jwks.push(encKey.publicJwk, opsKey.publicJwk, okOps.publicJwk);
    try {
      const v = make();
      await expectRefusal(verifyToken(v, await as.sign({ cnf }, {}, encKey)), invalidToken('token signing key not found'));
      await expectRefusal(verifyToken(v, await as.sign({ cnf }, {}, opsKey)), invalidToken('token signing key not found'));
      await expectBoundToken(verifyToken(v, await as.sign({ cnf }, {}, okOps)), { clientId: 'client-1', certificate: client.der, scopes: ['read', 'write'] });
    } finally {
      as.jwks.splice(1);
    }
  });

  it('J-16 [MEM confirmed]: an unknown crit header parameter is refused', async () => {
    // jose refuses to *sign* with an unknown crit, so this JWS is assembled by hand.
    const header = { alg: 'ES256', typ: 'at+jwt', kid: as.key.kid, crit: ['urn:example:unknown'], 'urn:example:unknown': true };
    const payload = { iss: as.issuer, aud: AUDIENCE, exp: now() + 60, iat: now(), sub: 's', client_id: 'c', jti: 'j', cnf };
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(input), { key: KeyObject.from(as.key.privateKey), dsaEncoding: 'ieee-p1363' });
    const token = `${input}.${signature.toString('base64url')}`;
    // Control: the same construction without crit verifies.
    const plainHeader = { alg: 'ES256', typ: 'at+jwt', kid: as.key.kid };
    const plainInput = `${Buffer.from(JSON.stringify(plainHeader)).toString('base64url')}.${input.split('.')[1]}`;
    const plainSig = sign('sha256', Buffer.from(plainInput), { key: KeyObject.from(as.key.privateKey), dsaEncoding: 'ieee-p1363' });
    await expectBoundToken(verifyToken(make(), `${plainInput}.${plainSig.toString('base64url')}`), { clientId: 'c', certificate: client.der, scopes: [] });
    await expectRefusal(verifyToken(make(), token), invalidToken('token uses an unsupported feature'));
  });

  it('J-17 [MEM confirmed]: a JWE (5-part) access token is refused — by jose, and by the verifier', async () => {
    const { publicKey } = await generateKeyPair('ECDH-ES', { extractable: true });
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{"sub":"x"}')).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A128GCM' }).encrypt(publicKey);
    expect(jwe.split('.')).toHaveLength(5);
    const jwks = createLocalJWKSet({ keys: [await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)] });
    await expect(jwtVerify(jwe, jwks)).rejects.toMatchObject({ code: 'ERR_JWS_INVALID' });
    await expectRefusal(verifyToken(make(), jwe), invalidToken('token format not supported'));
  });

  it.each(['iss', 'aud', 'exp', 'iat', 'sub', 'client_id', 'jti'])('J-18: a token without %s is refused', async (claim) => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, [claim]: null })), invalidToken(`token ${claim} claim invalid`));
  });

  it('J-18: client_id, sub and jti must be strings; scope a string', async () => {
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, client_id: 42 })), invalidToken('token client_id claim invalid'));
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, scope: ['read'] })), invalidToken('token scope claim invalid'));
  });

  it('J-19: RS duties — key from the jwks_uri of the issuer metadata, iss exact, aud, typ, time', async () => {
    const v = make();
    const fetchedBefore = as.hits.get('/.well-known/oauth-authorization-server') ?? 0;
    await expectBoundToken(verifyToken(v, await as.sign({ cnf })), { clientId: 'client-1', certificate: client.der, scopes: ['read', 'write'] });
    expect((as.hits.get('/.well-known/oauth-authorization-server') ?? 0) - fetchedBefore).toBe(1);
    // A signature by a key not in the issuer's JWKS, with the issuer's kid, fails.
    const other = await createSigningKey(as.key.kid);
    await expectRefusal(verifyToken(v, await as.sign({ cnf }, {}, other)), invalidToken('token signature invalid'));
  });

  it('J-20: an ID token replayed as an access token is refused (typ, aud, client_id)', async () => {
    const idToken = await as.sign({ cnf, aud: 'client-1', client_id: null, nonce: 'n' }, { typ: 'JWT' });
    await expectRefusal(verifyToken(make(), idToken), invalidToken('token typ claim invalid'));
    // Even with typ at+jwt, an ID token lacks client_id and names the client as audience.
    const idTokenTyped = await as.sign({ aud: 'client-1', client_id: null });
    await expectRefusal(verifyToken(make(), idTokenTyped), invalidToken('token client_id claim invalid'));
    const idTokenWithClientId = await as.sign({ aud: 'client-1' });
    await expectRefusal(verifyToken(make(), idTokenWithClientId), invalidToken('token aud claim invalid'));
  });

  it('J-21: a 100 KB Authorization header is refused early (400) without touching the JWKS', async () => {
    const v = make();
    const before = as.hits.get('/jwks') ?? 0;
    const huge = `Bearer ${'a'.repeat(100 * 1024)}`;
    await expectRefusal(v.verify(fakeRequest({ authorization: huge, cert: client.der })), {
      status: 400,
      code: 'ERR_VERIFIER_INVALID_REQUEST',
      error: 'invalid_request',
      description: 'Authorization header too large',
    });
    expect(as.hits.get('/jwks') ?? 0).toBe(before);
  });

  it('J-22: iat 20 s ahead is tolerated, iat 120 s ahead is refused', async () => {
    await expectBoundToken(verifyToken(make(), await as.sign({ cnf, iat: now() + 20 })), { clientId: 'client-1', certificate: client.der, scopes: ['read', 'write'] });
    await expectRefusal(verifyToken(make(), await as.sign({ cnf, iat: now() + 120 })), invalidToken('token issued in the future'));
  });

  it('a signature over a modified payload is refused', async () => {
    const token = await as.sign({ cnf });
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.scope = 'admin';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await expectRefusal(verifyToken(make(), tampered), invalidToken('token signature invalid'));
  });

  it('J-19 (found by test/fuzz/verifier.fuzz.test.ts): a signature whose last base64url character differs only in its unused bits is refused', async () => {
    // 64 signature bytes take 86 characters; the last one carries 2 bits and 4 unused ones, which
    // jose's decoder ignores: without the check, 15 other spellings of every token verified.
    const token = await as.sign({ cnf });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    expect(token.split('.')[2]).toHaveLength(86);
    const v = make();
    expect((await verifyToken(v, token)).thumbprint).toBe(cnf['x5t#S256']);
    for (const unused of [1, 2, 4, 8]) {
      const respelled = `${token.slice(0, -1)}${alphabet[last ^ unused]}`;
      await expectRefusal(verifyToken(v, respelled), invalidToken('token malformed'));
    }
  });
});
