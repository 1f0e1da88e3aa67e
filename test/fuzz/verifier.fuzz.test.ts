/**
 * Property-based tests of the resource-server verifier (BT-5, BT-6, BT-10, BT-11, SC-2, J-1..J-22): real
 * ES256 tokens signed with jose, bound to the x5t#S256 of a real certificate from a test PKI; random
 * mutations of the token text, its claims, its header, its `cnf` and the presented certificate never
 * verify. Most cases call `verify()` with the request shape Node gives it; a sample goes through a real
 * HTTPS resource server with a real client certificate.
 */
import fc from 'fast-check';
import { type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createVerifier, type Verifier, VerifierError } from '../../src/verifier/index.js';
import { AUDIENCE, call, createSigningKey, fakeRequest, type Issued, type SigningKey, startRs, type TestPki, type TestRs } from '../verifier/harness.js';
import { createTestPki } from '../helpers/pki.js';
import { fuzzFile } from './fuzz.js';

const fuzz = fuzzFile('verifier.fuzz.test.ts');

const ISSUER = 'https://as.example.com';
/** The verifier's clock, fixed: tokens are built around it, no test waits. */
const NOW = 1_750_000_000;
const TOLERANCE = 30;

let pki: TestPki;
let client: Issued;
let other: Issued;
let key: SigningKey;
let stranger: SigningKey;
let thumbprint: string;
let verifier: Verifier;
let rs: TestRs;

function baseClaims(): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    exp: NOW + 300,
    iat: NOW - 10,
    nbf: NOW - 10,
    sub: 'client-1',
    client_id: 'client-1',
    jti: 'jti-1',
    scope: 'read write',
    cnf: { 'x5t#S256': thumbprint },
  };
}

async function sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}, signer: SigningKey = key): Promise<string> {
  const protectedHeader = { alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header };
  for (const [k, v] of Object.entries(protectedHeader)) if (v === undefined) delete (protectedHeader as Record<string, unknown>)[k];
  return new SignJWT(claims).setProtectedHeader(protectedHeader as { alg: string }).sign(signer.privateKey);
}

/** `cert`: the TLS peer certificate, `null` for a request without one. */
const request = (token: string, cert: Buffer | null = client.der) => fakeRequest({ authorization: `Bearer ${token}`, ...(cert ? { cert } : {}) });

/** Expects a refusal with the verifier's typed error: 401 invalid_token, or 400 invalid_request for a malformed header. */
async function expectRefused(token: string, cert: Buffer | null = client.der): Promise<void> {
  const err = await verifier.verify(request(token, cert)).then(
    (result) => new Error(`verified: ${JSON.stringify(result.claims)} for ${token}`),
    (e: unknown) => e,
  );
  if (!(err instanceof VerifierError)) throw err;
  expect([401, 400]).toContain(err.status);
  expect(err.error).toBe(err.status === 401 ? 'invalid_token' : 'invalid_request');
}

beforeAll(async () => {
  pki = await createTestPki('Verifier fuzz');
  client = await pki.client({ subject: [{ CN: ['fuzz client'] }] });
  other = await pki.client({ subject: [{ CN: ['fuzz client'] }] });
  key = await createSigningKey('key-1');
  stranger = await createSigningKey('key-1');
  thumbprint = x5tS256(client.der);
  verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keySet: { keys: [key.publicJwk as JWK] },
    clockTolerance: TOLERANCE,
    now: () => NOW * 1000,
  });
  rs = await startRs(pki, verifier);
});

afterAll(async () => {
  await rs?.close();
  await verifier?.close();
});

/** Mutations of the claims or header that each make a token invalid (the oracle: none may verify). */
const thumbprintMutationArb = fc.oneof(
  fc.tuple(fc.nat({ max: 42 }), fc.constantFrom(...'ABCabc019-_+/=')).map(
    ([i, c]) =>
      (t: string) =>
        `${t.slice(0, i)}${c}${t.slice(i + 1)}`,
  ),
  fc.nat({ max: 42 }).map((i) => (t: string) => `${t.slice(0, i)}${t[i] === t[i]!.toUpperCase() ? t[i]!.toLowerCase() : t[i]!.toUpperCase()}${t.slice(i + 1)}`),
  fc.constantFrom(
    (t: string) => `${t}=`,
    (t: string) => t.slice(0, -1),
    (t: string) => ` ${t}`,
    (t: string) => Buffer.from(t, 'base64url').toString('base64'),
    (t: string) => Buffer.from(t, 'base64url').toString('hex'),
    () => x5tS256(other.der),
  ),
);

type Change = { claims?: Record<string, unknown>; header?: Record<string, unknown>; signer?: 'stranger' };
const changeArb: fc.Arbitrary<Change> = fc.oneof(
  thumbprintMutationArb.map((m) => ({ claims: { cnf: { 'x5t#S256': m(thumbprint) } } })),
  // Factories: the thumbprint exists only once beforeAll has run.
  fc
    .constantFrom<() => unknown>(
      () => undefined,
      () => null,
      () => thumbprint,
      () => [],
      () => ({}),
      () => ({ x5t: thumbprint }),
      () => ({ 'x5t#S256': thumbprint, jkt: 'abc' }),
      () => ({ 'X5T#S256': thumbprint }),
      () => ({ 'x5t#s256': thumbprint }),
      () => ({ 'x5t#S256': 42 }),
      () => ({ 'x5t#S256': [thumbprint] }),
      () => ({ 'x5t#S256': null }),
      () => [{ 'x5t#S256': thumbprint }],
    )
    .map((cnf) => ({ claims: { cnf: cnf() } })),
  fc
    .constantFrom<unknown>(undefined, 'https://other.example.com', `${AUDIENCE}/`, AUDIENCE.toUpperCase(), [], ['https://other.example.com'], 42, [42])
    .map((aud) => ({ claims: { aud } })),
  fc.constantFrom<unknown>(undefined, `${ISSUER}/`, 'https://AS.example.com', 'http://as.example.com', 'https://evil.example.com', 1).map((iss) => ({ claims: { iss } })),
  fc.integer({ min: TOLERANCE + 1, max: 10_000_000 }).map((age) => ({ claims: { exp: NOW - age } })),
  fc.constantFrom<unknown>(undefined, String(NOW + 300), null).map((exp) => ({ claims: { exp } })),
  fc.integer({ min: TOLERANCE + 1, max: 10_000_000 }).map((ahead) => ({ claims: { nbf: NOW + ahead } })),
  fc.integer({ min: TOLERANCE + 1, max: 10_000_000 }).map((ahead) => ({ claims: { iat: NOW + ahead } })),
  fc.constantFrom('sub', 'client_id', 'jti').chain((claim) => fc.constantFrom<unknown>(undefined, 42, null, ['x']).map((v) => ({ claims: { [claim]: v } }))),
  fc.constantFrom<unknown>(undefined, String(NOW), null, ['x']).map((iat) => ({ claims: { iat } })),
  fc.constantFrom<unknown>(42, ['read'], { read: true }).map((scope) => ({ claims: { scope } })),
  fc.constantFrom<unknown>(undefined, 'JWT', 'jwt', 'at+jwt2', 'application/jwt', 'at+jwt; x', 'JOSE').map((typ) => ({ header: { typ } })),
  fc.constantFrom('key-2', '', 'KEY-1', 'key-1 ').map((kid) => ({ header: { kid } })),
  fc.constant({ signer: 'stranger' as const }),
);

function applyChanges(changes: Change[]): { claims: Record<string, unknown>; header: Record<string, unknown>; signer: SigningKey } {
  const claims = baseClaims();
  const header: Record<string, unknown> = {};
  let signer = key;
  for (const change of changes) {
    for (const [k, v] of Object.entries(change.claims ?? {})) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    Object.assign(header, change.header);
    if (change.signer) signer = stranger;
  }
  return { claims, header, signer };
}

/** Character edits of the compact serialization, anchored anywhere or around the dots and the end. */
const tokenEditArb = fc.record({
  op: fc.constantFrom('replace', 'insert', 'delete', 'swapSegments'),
  anchor: fc.constantFrom('start', 'firstDot', 'lastDot', 'end', 'anywhere'),
  at: fc.nat(),
  offset: fc.integer({ min: -3, max: 3 }),
  char: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ '),
});
type TokenEdit = typeof tokenEditArb extends fc.Arbitrary<infer T> ? T : never;

function editToken(token: string, e: TokenEdit): string {
  if (e.op === 'swapSegments') {
    const [h, p, s] = token.split('.');
    return [p, h, s].join('.');
  }
  const base = { start: 0, firstDot: token.indexOf('.'), lastDot: token.lastIndexOf('.'), end: token.length - 1, anywhere: e.at % token.length }[e.anchor];
  const i = Math.min(token.length - 1, Math.max(0, base + (e.anchor === 'anywhere' ? 0 : e.offset)));
  if (e.op === 'insert') return token.slice(0, i) + e.char + token.slice(i);
  if (e.op === 'delete') return token.slice(0, i) + token.slice(i + 1);
  return token.slice(0, i) + e.char + token.slice(i + 1);
}

describe('verifier properties (BT-5, BT-6, BT-11, J-1..J-22)', () => {
  it('BT-5: the unmutated token verifies with its own certificate (the properties below can fail)', async () => {
    const result = await verifier.verify(request(await sign(baseClaims())));
    expect(result.thumbprint).toBe(thumbprint);
    expect(result.clientId).toBe('client-1');
    expect(result.scopes).toEqual(['read', 'write']);
  });

  it('J-1..J-22: any edit of the signed token text never verifies', async () => {
    const token = await sign(baseClaims());
    await fc.assert(
      fc.asyncProperty(fc.array(tokenEditArb, { minLength: 1, maxLength: 3 }), async (edits) => {
        const mutated = edits.reduce(editToken, token);
        // RFC 6750 §2.1 allows several spaces after "Bearer": leading spaces are not an edit of the token.
        fc.pre(mutated.replace(/^ +/, '') !== token);
        await expectRefused(mutated);
      }),
      fuzz.params(600),
    );
  });

  it('BT-6/BT-11/SC-2/J-3/J-5/J-11: re-signed tokens with a mutated cnf, aud, iss, exp, nbf, iat, typ, kid or key never verify', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(changeArb, { minLength: 1, maxLength: 3 }), async (changes) => {
        const { claims, header, signer } = applyChanges(changes);
        // A thumbprint edit that writes the character already there changes nothing.
        fc.pre(signer !== key || JSON.stringify([claims, header]) !== JSON.stringify([baseClaims(), {}]));
        await expectRefused(await sign(claims, header, signer));
      }),
      fuzz.params(300),
    );
  });

  it('BT-5/BT-6: a valid bound token never verifies with another certificate, or with none', async () => {
    const token = await sign(baseClaims());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('other', 'none', 'mutated'), fc.nat(), async (which, at) => {
        let cert: Buffer | null = null;
        if (which === 'other') cert = other.der;
        if (which === 'mutated') {
          cert = Buffer.from(client.der);
          const i = at % cert.length;
          cert[i] = cert[i]! ^ (1 << (at % 8));
        }
        await expectRefused(token, cert);
      }),
      fuzz.params(100),
    );
  });

  it('BT-6 over HTTPS: mutated tokens presented with the real client certificate get 401 invalid_token (or 400), never 200 or 500', async () => {
    const token = await sign(baseClaims());
    const ok = await call(rs, pki, { token, client });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ clientId: 'client-1', thumbprint, scopes: ['read', 'write'] });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.array(tokenEditArb, { minLength: 1, maxLength: 2 }).map((edits) => ({ edits })),
          changeArb.map((change) => ({ change })),
        ),
        async (c) => {
          let mutated: string;
          if ('edits' in c) mutated = c.edits.reduce(editToken, token);
          else {
            const { claims, header, signer } = applyChanges([c.change]);
            fc.pre(signer !== key || JSON.stringify([claims, header]) !== JSON.stringify([baseClaims(), {}]));
            mutated = await sign(claims, header, signer);
          }
          fc.pre(mutated.replace(/^ +/, '') !== token);
          const response = await call(rs, pki, { authorization: `Bearer ${mutated}`, client });
          expect([400, 401]).toContain(response.status);
          expect(response.headers.get('www-authenticate')).toMatch(response.status === 401 ? /error="invalid_token"/ : /error="invalid_request"/);
        },
      ),
      fuzz.params(15),
    );
  });
});
