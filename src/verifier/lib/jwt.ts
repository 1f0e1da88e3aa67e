/** JWT access tokens (RFC 9068): the signature with the issuer's keys, and the claims the verifier relies on. */
import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { TokenFacts } from './cache.js';
import { joseFailure } from './jose-errors.js';
import type { IssuerKeys } from './key-set.js';
import type { Refusals } from './refusals.js';

/** What a JWT is checked against, fixed when the verifier is created. */
export interface JwtChecks {
  issuer: string;
  audience: string | string[];
  algorithms: string[];
  clockTolerance: number;
  keys: IssuerKeys;
  refusals: Refusals;
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'sub', 'client_id', 'jti'];
/** A JWS in compact serialization; anything else is an opaque token (introspection). */
export const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether a base64url segment is the one canonical spelling of its bytes: jose decodes a final character
 * whose unused low bits are set to the same bytes, so without this check every token would have other
 * spellings that verify (a token is matched, cached and replay-checked as a string).
 */
function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const unusedBits = rest === 2 ? 0b1111 : 0b11;
  return (BASE64URL.indexOf(segment[segment.length - 1]!) & unusedBits) === 0;
}

/** Verifies a JWT access token at `t` (the request's time, ms, read once per request). */
export async function verifyJwt(token: string, t: number, checks: JwtChecks): Promise<TokenFacts> {
  const { issuer, audience, algorithms, clockTolerance, keys: issuerKeys, refusals } = checks;
  // The header and payload are covered by the signature as text; only the signature can be respelled.
  if (!isCanonicalBase64url(token.slice(token.lastIndexOf('.') + 1))) {
    throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token malformed', { detail: 'the signature is not canonical base64url' });
  }
  let keys: JWTVerifyGetKey;
  try {
    keys = issuerKeys.local ? issuerKeys.local() : await issuerKeys.remote();
  } catch (cause) {
    throw refusals.upstream(`JWKS unavailable: ${(cause as Error).message}`, cause);
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms,
      typ: 'at+jwt',
      requiredClaims: REQUIRED_CLAIMS,
      clockTolerance,
      currentDate: new Date(t),
    }));
  } catch (cause) {
    const failure = joseFailure(cause);
    if (failure.upstream) throw refusals.upstream(failure.detail, cause);
    throw refusals.invalidToken(failure.code, failure.description, { detail: failure.detail, cause });
  }
  const nowSeconds = Math.floor(t / 1000);
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + clockTolerance) {
    throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token issued in the future', { detail: `iat ${payload.iat} > now ${nowSeconds}` });
  }
  for (const claim of ['sub', 'client_id', 'jti'] as const) {
    if (typeof payload[claim] !== 'string') throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INVALID', `token ${claim} claim invalid`);
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string') throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token scope claim invalid');
  // Read after the signature check: a JWKS fetched during it is the set the key came from.
  return { claims: payload as TokenFacts['claims'], exp: payload.exp, keyGeneration: issuerKeys.generation };
}
