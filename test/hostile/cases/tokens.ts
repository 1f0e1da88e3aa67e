/**
 * Access tokens presented to certbound/verifier in a real resource server over mTLS (checklist §3.3 and
 * §4), and to certbound's introspection endpoint. Real tokens come from certbound; forged ones are signed
 * with certbound's own signing key (read from its database) so that only the forged part is wrong.
 */
import type { HostileCase } from '../lib/corpus.js';

export interface TokenKit {
  /** A real certbound JWT access token bound to the client certificate. */
  real: string;
  /** Its claims and protected header. */
  claims: Record<string, unknown>;
  header: Record<string, unknown>;
  /** x5t#S256 of the client certificate and of the other certificate. */
  x5t: string;
  otherX5t: string;
  /** Signs `payload` as a JWS with certbound's active key (header merged over the real one; `null` drops a member). */
  sign(claims?: Record<string, unknown | null>, header?: Record<string, unknown | null>): Promise<string>;
  /** The same with a key certbound does not publish (same kid unless the header says otherwise). */
  signWithStranger(claims?: Record<string, unknown | null>, header?: Record<string, unknown | null>): Promise<string>;
  /** HS256 over the header and claims, keyed with certbound's public key (as published, JSON and PEM). */
  hmacWithPublicKey(form: 'jwk' | 'pem'): string;
  /** An unsecured JWT (alg none) with the real claims. */
  unsecured(): string;
  /** An embedded-key token: the header carries the stranger's public key / a jku / an x5c. */
  embedded(kind: 'jwk' | 'jku' | 'x5c'): Promise<string>;
  now: number;
}

export interface RsTokenCase extends HostileCase {
  /** Certificate the request presents over TLS. */
  cert: 'client' | 'other' | 'none';
  /** The Authorization header value; undefined: none. */
  authorization(t: TokenKit): Promise<string | undefined> | string | undefined;
  /** Query string appended to the resource path. */
  query?(t: TokenKit): string;
}

const T = (id: number) => `TOK-${String(id).padStart(2, '0')}`;
const bearer = (token: string) => `Bearer ${token}`;
const signed =
  (claims: Record<string, unknown | null>, header: Record<string, unknown | null> = {}) =>
  async (t: TokenKit) =>
    bearer(await t.sign(claims, header));

export const rsTokenCases: RsTokenCase[] = [
  { id: T(1), guards: ['BT-4', 'BT-5'], title: 'the real token with its certificate → verified', expect: 'accept', cert: 'client', authorization: (t) => bearer(t.real) },
  {
    id: T(2),
    guards: ['BT-5', 'J-19'],
    title: 'the real claims re-signed with certbound’s key → verified (the forger’s baseline)',
    expect: 'accept',
    cert: 'client',
    authorization: signed({}),
  },
  { id: T(3), guards: ['BT-6', 'IC-8'], title: 'the real token with another certificate', expect: 'refuse', cert: 'other', authorization: (t) => bearer(t.real) },
  { id: T(4), guards: ['BT-6'], title: 'the real token without a client certificate', expect: 'refuse', cert: 'none', authorization: (t) => bearer(t.real) },
  { id: T(5), guards: ['J-1'], title: 'alg none', expect: 'refuse', cert: 'client', authorization: (t) => bearer(t.unsecured()) },
  {
    id: T(6),
    guards: ['J-2'],
    title: 'HS256 keyed with the published public key (JWK JSON)',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => bearer(t.hmacWithPublicKey('jwk')),
  },
  {
    id: T(7),
    guards: ['J-2'],
    title: 'HS256 keyed with the published public key (PEM)',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => bearer(t.hmacWithPublicKey('pem')),
  },
  { id: T(8), guards: ['J-19'], title: 'the signature stripped', expect: 'refuse', cert: 'client', authorization: (t) => bearer(`${t.real.split('.').slice(0, 2).join('.')}.`) },
  {
    id: T(9),
    guards: ['J-19'],
    title: 'the payload changed (scope), the signature kept',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => {
      const [h, , sig] = t.real.split('.');
      return bearer(`${h}.${Buffer.from(JSON.stringify({ ...t.claims, scope: 'read write' })).toString('base64url')}.${sig}`);
    },
  },
  {
    id: T(10),
    guards: ['J-19'],
    title: 'signed by a key certbound does not publish, under its kid',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.signWithStranger()),
  },
  {
    id: T(11),
    guards: ['J-13'],
    title: 'signed by an unknown key with an unknown kid',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.signWithStranger({}, { kid: 'no-such-kid' })),
  },
  {
    id: T(12),
    guards: ['J-7'],
    title: 'expired 40 s ago (tolerance 30 s)',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ exp: t.now - 40, iat: t.now - 700 })),
  },
  {
    id: T(13),
    guards: ['J-6'],
    title: 'expired 10 s ago, inside the 30 s tolerance → verified',
    expect: 'accept',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ exp: t.now - 10, iat: t.now - 600 })),
  },
  { id: T(14), guards: ['J-8'], title: 'nbf 60 s in the future', expect: 'refuse', cert: 'client', authorization: async (t) => bearer(await t.sign({ nbf: t.now + 60 })) },
  { id: T(15), guards: ['J-9'], title: 'exp as a string', expect: 'refuse', cert: 'client', authorization: async (t) => bearer(await t.sign({ exp: String(t.now + 600) })) },
  { id: T(16), guards: ['J-5'], title: 'no exp', expect: 'refuse', cert: 'client', authorization: signed({ exp: null }) },
  { id: T(17), guards: ['J-18'], title: 'no jti', expect: 'refuse', cert: 'client', authorization: signed({ jti: null }) },
  { id: T(18), guards: ['J-18'], title: 'no client_id', expect: 'refuse', cert: 'client', authorization: signed({ client_id: null }) },
  { id: T(19), guards: ['J-18'], title: 'no sub', expect: 'refuse', cert: 'client', authorization: signed({ sub: null }) },
  { id: T(20), guards: ['J-18'], title: 'no iat', expect: 'refuse', cert: 'client', authorization: signed({ iat: null }) },
  { id: T(21), guards: ['J-3'], title: 'typ JWT instead of at+jwt', expect: 'refuse', cert: 'client', authorization: signed({}, { typ: 'JWT' }) },
  { id: T(22), guards: ['J-3'], title: 'no typ', expect: 'refuse', cert: 'client', authorization: signed({}, { typ: null }) },
  { id: T(23), guards: ['J-4'], title: 'typ application/at+jwt → verified', expect: 'accept', cert: 'client', authorization: signed({}, { typ: 'application/at+jwt' }) },
  {
    id: T(24),
    guards: ['J-11'],
    title: 'iss with a trailing slash',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ iss: `${t.claims.iss}/` })),
  },
  { id: T(25), guards: ['J-12'], title: 'another issuer, signed with certbound’s key', expect: 'refuse', cert: 'client', authorization: signed({ iss: 'https://evil.example' }) },
  { id: T(26), guards: ['J-19'], title: 'aud of another resource server', expect: 'refuse', cert: 'client', authorization: signed({ aud: 'https://other.hostile.example' }) },
  {
    id: T(27),
    guards: ['J-10'],
    title: 'aud an array that contains this resource server → verified',
    expect: 'accept',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ aud: ['https://other.hostile.example', t.claims.aud] })),
  },
  {
    id: T(28),
    guards: ['BT-11'],
    title: 'cnf.x5t#S256 with its letter case flipped',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ cnf: { 'x5t#S256': t.x5t.replace(/[a-zA-Z]/g, (ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())) } })),
  },
  {
    id: T(29),
    guards: ['BT-10'],
    title: 'cnf.x5t#S256 padded with =',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ cnf: { 'x5t#S256': `${t.x5t}=` } })),
  },
  {
    id: T(30),
    guards: ['BT-11'],
    title: 'cnf.x5t#S256 with a non-canonical last character (same 32 bytes)',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => {
      const last = t.x5t.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return bearer(await t.sign({ cnf: { 'x5t#S256': t.x5t.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1] } }));
    },
  },
  {
    id: T(31),
    guards: ['BT-11'],
    title: 'cnf.x5t#S256 in the standard base64 alphabet with padding',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ cnf: { 'x5t#S256': Buffer.from(t.x5t, 'base64url').toString('base64') } })),
  },
  { id: T(32), guards: ['BT-11'], title: 'cnf.x5t#S256 a number', expect: 'refuse', cert: 'client', authorization: signed({ cnf: { 'x5t#S256': 12345 } }) },
  {
    id: T(33),
    guards: ['BT-11'],
    title: 'cnf.x5t#S256 an array holding the right value',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ cnf: { 'x5t#S256': [t.x5t] } })),
  },
  { id: T(34), guards: ['SC-2'], title: 'cnf with only x5t (SHA-1)', expect: 'refuse', cert: 'client', authorization: signed({ cnf: { x5t: 'A'.repeat(27) } }) },
  { id: T(35), guards: ['SC-2', 'BT-12'], title: 'cnf with only jkt (DPoP)', expect: 'refuse', cert: 'client', authorization: signed({ cnf: { jkt: 'A'.repeat(43) } }) },
  { id: T(36), guards: ['SC-2'], title: 'cnf an empty object', expect: 'refuse', cert: 'client', authorization: signed({ cnf: {} }) },
  { id: T(37), guards: ['BT-11'], title: 'cnf a string', expect: 'refuse', cert: 'client', authorization: async (t) => bearer(await t.sign({ cnf: t.x5t })) },
  { id: T(38), guards: ['BT-6'], title: 'no cnf (the resource server requires bound tokens)', expect: 'refuse', cert: 'client', authorization: signed({ cnf: null }) },
  {
    id: T(39),
    guards: ['BT-6'],
    title: 'cnf of the other certificate, presented with the client certificate',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ cnf: { 'x5t#S256': t.otherX5t } })),
  },
  {
    id: T(40),
    guards: ['BT-5'],
    title: 'cnf of the other certificate, presented with the other certificate (a token certbound never issued)',
    expect: 'accept',
    cert: 'other',
    authorization: async (t) => bearer(await t.sign({ cnf: { 'x5t#S256': t.otherX5t } })),
  },
  { id: T(41), guards: ['J-14'], title: 'the header embeds the forger’s key (jwk)', expect: 'refuse', cert: 'client', authorization: async (t) => bearer(await t.embedded('jwk')) },
  {
    id: T(42),
    guards: ['J-14'],
    title: 'the header points at the forger’s key set (jku)',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.embedded('jku')),
  },
  {
    id: T(43),
    guards: ['J-14'],
    title: 'the header embeds the forger’s certificate (x5c)',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.embedded('x5c')),
  },
  {
    id: T(44),
    guards: ['J-16'],
    title: 'an unknown crit header parameter',
    expect: 'refuse',
    cert: 'client',
    authorization: signed({}, { crit: ['x-hostile'], 'x-hostile': true }),
  },
  {
    id: T(45),
    guards: ['J-17'],
    title: 'a five-part (JWE-shaped) token',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => bearer(`${t.real.split('.')[0]}.AAAA.BBBB.CCCC.DDDD`),
  },
  { id: T(46), guards: ['J-21'], title: 'a 100 KB token', expect: 'refuse', cert: 'client', authorization: async (t) => bearer(await t.sign({ pad: 'x'.repeat(100_000) })) },
  {
    id: T(47),
    guards: ['J-20'],
    title: 'an ID-token-shaped JWT (typ JWT, aud the client)',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ aud: t.claims.client_id, nonce: 'n' }, { typ: 'JWT' })),
  },
  {
    id: T(48),
    guards: ['J-19'],
    title: 'the header alg says ES384, the signature is ES256',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => bearer(`${Buffer.from(JSON.stringify({ ...t.header, alg: 'ES384' })).toString('base64url')}.${t.real.split('.').slice(1).join('.')}`),
  },
  { id: T(49), guards: ['J-19'], title: 'a scope the resource does not accept (insufficient_scope)', expect: 'refuse', cert: 'client', authorization: signed({ scope: 'write' }) },
  {
    id: T(50),
    guards: ['J-19'],
    title: 'the token in the header and in the query',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => bearer(t.real),
    query: (t) => `access_token=${t.real}`,
  },
  {
    id: T(51),
    guards: ['J-19'],
    title: 'Basic instead of Bearer',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => `Basic ${Buffer.from(`x:${t.real}`).toString('base64')}`,
  },
  { id: T(52), guards: ['J-19'], title: 'Bearer with two tokens', expect: 'refuse', cert: 'client', authorization: (t) => `Bearer ${t.real} ${t.real}` },
  { id: T(53), guards: ['J-19'], title: 'Bearer with nothing after it', expect: 'refuse', cert: 'client', authorization: () => 'Bearer ' },
  { id: T(54), guards: ['J-19'], title: 'no Authorization header', expect: 'refuse', cert: 'client', authorization: () => undefined },
  {
    id: T(55),
    guards: ['J-22'],
    title: 'iat a day in the future',
    expect: 'refuse',
    cert: 'client',
    authorization: async (t) => bearer(await t.sign({ iat: t.now + 86_400, exp: t.now + 86_400 + 600 })),
  },
  {
    id: T(56),
    guards: ['J-19'],
    title: 'the real token with a character of the signature changed',
    expect: 'refuse',
    cert: 'client',
    authorization: (t) => bearer(t.real.slice(0, -2) + (t.real.at(-2) === 'A' ? 'B' : 'A') + t.real.at(-1)),
  },
];

export interface IntrospectionCase extends HostileCase {
  /** Who introspects: the client the token was issued to, or a registered client that has nothing to do with it. */
  caller: 'owner' | 'stranger';
  token(t: TokenKit & { opaque: string }): Promise<string> | string;
}

const I = (id: number) => `INTRO-${String(id).padStart(2, '0')}`;
export const introspectionCases: IntrospectionCase[] = [
  {
    id: I(1),
    guards: ['H15-3', 'BT-13'],
    finding: 'H15-3',
    title: 'the owner introspects its own JWT access token → active with cnf',
    expect: 'accept',
    caller: 'owner',
    token: (t) => t.real,
  },
  {
    id: I(2),
    guards: ['H15-2'],
    finding: 'H15-2',
    title: 'a stranger introspects the JWT access token of another client',
    expect: 'refuse',
    caller: 'stranger',
    token: (t) => t.real,
  },
  { id: I(3), guards: ['H15-2', 'BT-13'], title: 'the owner introspects its own opaque token → active', expect: 'accept', caller: 'owner', token: (t) => t.opaque },
  {
    id: I(4),
    guards: ['H15-2'],
    finding: 'H15-2',
    title: 'a stranger introspects the opaque token of another client',
    expect: 'refuse',
    caller: 'stranger',
    token: (t) => t.opaque,
  },
  { id: I(5), finding: 'H15-3', guards: ['H15-3', 'J-1'], title: 'an alg-none JWT', expect: 'refuse', caller: 'owner', token: (t) => t.unsecured() },
  {
    id: I(6),
    finding: 'H15-3',
    guards: ['H15-3', 'J-7'],
    title: 'an expired JWT signed with certbound’s key',
    expect: 'refuse',
    caller: 'owner',
    token: (t) => t.sign({ exp: t.now - 3600, iat: t.now - 4200 }),
  },
  {
    id: I(7),
    finding: 'H15-3',
    guards: ['H15-3'],
    title: 'a JWT signed by a key certbound does not publish',
    expect: 'refuse',
    caller: 'owner',
    token: (t) => t.signWithStranger(),
  },
  { id: I(8), guards: ['H15-3'], title: 'an unknown opaque value', expect: 'refuse', caller: 'owner', token: () => 'x'.repeat(43) },
  {
    id: I(9),
    finding: 'H15-3',
    guards: ['H15-3', 'J-2'],
    title: 'an HS256 JWT keyed with the public key',
    expect: 'refuse',
    caller: 'owner',
    token: (t) => t.hmacWithPublicKey('jwk'),
  },
];
