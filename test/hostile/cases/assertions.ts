/**
 * private_key_jwt client assertions (RFC 7523) at the mTLS token endpoint: the client `pkj` registered
 * with one ES256 key (kid `pkj-1`), `pkj-other` with another; every forged assertion is refused.
 */
import type { HostileCase } from '../lib/corpus.js';

export interface AssertionKit {
  /** The issuer identifier and the mTLS token endpoint (both valid audiences). */
  issuer: string;
  mtlsTokenEndpoint: string;
  now: number;
  /** A signed assertion: claims merged over valid ones (`null` drops one), header over `{alg: ES256, kid: pkj-1}`; key: whose. */
  assertion(claims?: Record<string, unknown | null>, header?: Record<string, unknown | null>, key?: 'pkj' | 'other-client' | 'stranger'): string;
  /** HS256 over a valid assertion keyed with the client's registered public key (JWK JSON / the x coordinate). */
  hmacWithPublicKey(form: 'jwk' | 'x'): string;
  unsecured(): string;
  /** A certbound access token (what a thief might replay as an assertion). */
  accessToken: string;
}

export interface AssertionCase extends HostileCase {
  /** The token request form (grant_type and client_id default to client_credentials / pkj). */
  form(k: AssertionKit): Record<string, string | string[]>;
  /** Sent first (and must succeed) before the case's request: the replay cases. */
  before?(k: AssertionKit): Record<string, string>;
  /** Present no client certificate. */
  noCertificate?: boolean;
}

const TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const A = (id: number) => `ASSERT-${String(id).padStart(2, '0')}`;
const with_ = (assertion: string, extra: Record<string, string | string[]> = {}) => ({ client_assertion_type: TYPE, client_assertion: assertion, ...extra });

export const assertionCases: AssertionCase[] = [
  { id: A(1), guards: ['BT-2'], title: 'a valid assertion → bound token', expect: 'accept', form: (k) => with_(k.assertion()) },
  { id: A(2), guards: ['BT-2'], title: 'aud the mTLS token endpoint → bound token', expect: 'accept', form: (k) => with_(k.assertion({ aud: k.mtlsTokenEndpoint })) },
  { id: A(3), guards: ['BT-2'], title: 'aud another server', expect: 'refuse', form: (k) => with_(k.assertion({ aud: 'https://other-as.example' })) },
  { id: A(4), guards: ['BT-2'], title: 'no aud', expect: 'refuse', form: (k) => with_(k.assertion({ aud: null })) },
  { id: A(5), guards: ['BT-2'], title: 'aud the issuer with a trailing slash', expect: 'refuse', form: (k) => with_(k.assertion({ aud: `${k.issuer}/` })) },
  { id: A(6), guards: ['J-1'], title: 'alg none', expect: 'refuse', form: (k) => with_(k.unsecured()) },
  { id: A(7), guards: ['J-2'], title: 'HS256 keyed with the registered public key (JWK JSON)', expect: 'refuse', form: (k) => with_(k.hmacWithPublicKey('jwk')) },
  { id: A(8), guards: ['J-2'], title: 'HS256 keyed with the registered public key (x coordinate)', expect: 'refuse', form: (k) => with_(k.hmacWithPublicKey('x')) },
  { id: A(9), guards: ['J-7'], title: 'expired two minutes ago', expect: 'refuse', form: (k) => with_(k.assertion({ exp: k.now - 120, iat: k.now - 180 })) },
  { id: A(10), guards: ['J-5'], title: 'no exp', expect: 'refuse', form: (k) => with_(k.assertion({ exp: null })) },
  { id: A(11), guards: ['J-8'], title: 'nbf five minutes ahead', expect: 'refuse', form: (k) => with_(k.assertion({ nbf: k.now + 300 })) },
  { id: A(12), guards: ['J-9'], title: 'exp as a string', expect: 'refuse', form: (k) => with_(k.assertion({ exp: String(k.now + 60) })) },
  {
    id: A(13),
    guards: ['BT-2'],
    title: 'a replayed assertion (same jti, accepted once before)',
    expect: 'refuse',
    before: (k) => with_(k.assertion({ jti: 'replay-13' })) as Record<string, string>,
    form: (k) => with_(k.assertion({ jti: 'replay-13' })),
  },
  {
    id: A(14),
    guards: ['BT-2'],
    title: 'the same jti with a different exp (replay with a fresh signature)',
    expect: 'refuse',
    before: (k) => with_(k.assertion({ jti: 'replay-14' })) as Record<string, string>,
    form: (k) => with_(k.assertion({ jti: 'replay-14', exp: k.now + 90 })),
  },
  { id: A(15), guards: ['BT-2'], title: 'no jti', expect: 'refuse', form: (k) => with_(k.assertion({ jti: null })) },
  { id: A(16), guards: ['BT-2', 'G-4'], title: 'iss another client', expect: 'refuse', form: (k) => with_(k.assertion({ iss: 'pkj-other' })) },
  { id: A(17), guards: ['BT-2', 'G-4'], title: 'sub another client', expect: 'refuse', form: (k) => with_(k.assertion({ sub: 'pkj-other' })) },
  { id: A(18), guards: ['J-19'], title: 'signed by an unregistered key under the registered kid', expect: 'refuse', form: (k) => with_(k.assertion({}, {}, 'stranger')) },
  {
    id: A(19),
    guards: ['J-13', 'G-4'],
    title: 'kid and key of another client, claims of this one',
    expect: 'refuse',
    form: (k) => with_(k.assertion({}, { kid: 'pkj-other-1' }, 'other-client')),
  },
  {
    id: A(20),
    guards: ['J-13'],
    title: 'kid with a path traversal (../../etc/passwd)',
    expect: 'refuse',
    form: (k) => with_(k.assertion({}, { kid: '../../../../etc/passwd' }, 'stranger')),
  },
  { id: A(21), guards: ['J-13'], title: "kid with SQL (' OR '1'='1)", expect: 'refuse', form: (k) => with_(k.assertion({}, { kid: "' OR '1'='1" }, 'stranger')) },
  {
    id: A(22),
    guards: ['J-14'],
    title: 'the header embeds the forger’s key (jwk)',
    expect: 'refuse',
    form: (k) => with_(k.assertion({}, { kid: 'forger', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } }, 'stranger')),
  },
  {
    id: A(23),
    guards: ['J-14'],
    title: 'the header points at a key set (jku) on loopback',
    expect: 'refuse',
    form: (k) => with_(k.assertion({}, { kid: 'forger', jku: 'https://127.0.0.1:9/jwks' }, 'stranger')),
  },
  { id: A(24), guards: ['J-16'], title: 'an unknown crit header parameter', expect: 'refuse', form: (k) => with_(k.assertion({}, { crit: ['x-hostile'], 'x-hostile': 1 })) },
  {
    id: A(25),
    guards: ['G-4'],
    title: 'a valid assertion of pkj sent with client_id pkj-other',
    expect: 'refuse',
    form: (k) => ({ ...with_(k.assertion()), client_id: 'pkj-other' }),
  },
  { id: A(26), guards: ['BT-2'], title: 'client_assertion twice', expect: 'refuse', form: (k) => with_(k.assertion(), { client_assertion: [k.assertion(), k.assertion()] }) },
  {
    id: A(27),
    guards: ['BT-2'],
    title: 'a wrong client_assertion_type',
    expect: 'refuse',
    form: (k) => ({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: k.assertion() }),
  },
  {
    id: A(28),
    guards: ['MD-12', 'BT-7'],
    title: 'a valid assertion without a client certificate (bound tokens on)',
    expect: 'refuse',
    noCertificate: true,
    form: (k) => with_(k.assertion()),
  },
  {
    id: A(29),
    guards: ['J-19'],
    title: 'the payload changed (sub), the signature kept',
    expect: 'refuse',
    form: (k) => {
      const [h, p, sig] = k.assertion().split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      return with_(`${h}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url')}.${sig}`);
    },
  },
  { id: A(30), guards: ['J-17'], title: 'a five-part (JWE-shaped) assertion', expect: 'refuse', form: () => with_('eyJhbGciOiJSU0EtT0FFUCJ9.AAAA.BBBB.CCCC.DDDD') },
  { id: A(31), guards: ['J-21'], title: 'a 300 KB assertion', expect: 'refuse', form: (k) => with_(k.assertion({ pad: 'x'.repeat(300_000) })) },
  { id: A(32), guards: ['J-20'], title: "certbound's own access token as the assertion", expect: 'refuse', form: (k) => with_(k.accessToken) },
  { id: A(33), guards: ['J-19'], title: 'the header says ES384 over an ES256 signature', expect: 'refuse', form: (k) => with_(k.assertion({}, { alg: 'ES384' })) },
  { id: A(35), guards: ['BT-2', 'G-4'], title: 'no client assertion at all (a certificate alone does not authenticate pkj)', expect: 'refuse', form: () => ({}) },
];
