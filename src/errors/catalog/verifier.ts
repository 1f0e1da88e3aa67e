/**
 * The reasons `certbound/verifier` refuses a request with (`VerifierError.code`). They are for logs and
 * tests; the caller sees only the RFC 6750 answer (`status` and `oauthError`). src/verifier imports
 * this file for its types only, so `certbound/verifier` loads none of the catalog.
 */
import type { CatalogEntry } from './entry.js';

function answer(status: number, oauthError: string | undefined, meaning: string, hint: string): CatalogEntry {
  return { status, ...(oauthError ? { oauthError } : {}), surfaces: ['verifier'], meaning, hint };
}

export const VERIFIER_CODES = {
  ERR_VERIFIER_TOKEN_MISSING: answer(
    401,
    undefined,
    'no access token (the answer is a bare `Bearer` challenge)',
    'Send the access token in the Authorization header: Bearer TOKEN.',
  ),
  ERR_VERIFIER_INVALID_REQUEST: answer(
    400,
    'invalid_request',
    'a malformed `Authorization` header or token (RFC 6750 rules)',
    'Send exactly one Authorization: Bearer header with the token as the authorization server issued it.',
  ),
  ERR_VERIFIER_FORWARDED_CERTIFICATE: answer(
    400,
    'invalid_request',
    'a forwarded-certificate header refused (untrusted peer, malformed, …)',
    "Check the proxy's client-certificate header and the verifier's trustedProxies (docs/proxies.md).",
  ),
  ERR_VERIFIER_TOKEN_INVALID: answer(401, 'invalid_token', 'signature, `iss`, `aud`, `typ` or another claim check failed', 'Get a new token from the issuer for this resource.'),
  ERR_VERIFIER_TOKEN_EXPIRED: answer(401, 'invalid_token', 'past `exp`', 'Get a new token.'),
  ERR_VERIFIER_TOKEN_INACTIVE: answer(
    401,
    'invalid_token',
    'introspection answered `active: false`',
    'Get a new token; this one was revoked, has expired, or is not for this resource.',
  ),
  ERR_VERIFIER_TOKEN_UNBOUND: answer(
    401,
    'invalid_token',
    'no `cnf` while bound tokens are required',
    'Get a certificate-bound token (request it over mTLS from a client registered for bound tokens).',
  ),
  ERR_VERIFIER_CNF_UNSUPPORTED: answer(
    401,
    'invalid_token',
    'a `cnf` that is not an object holding `x5t#S256` and nothing else (e.g. `jkt`)',
    'Use a token bound to a certificate (RFC 8705), from an issuer that binds with x5t#S256.',
  ),
  ERR_VERIFIER_THUMBPRINT_MALFORMED: answer(
    401,
    'invalid_token',
    'an `x5t#S256` that is not 43 base64url characters',
    'Get a new token from the issuer; this one carries a damaged binding.',
  ),
  ERR_VERIFIER_CERTIFICATE_REQUIRED: answer(
    401,
    'invalid_token',
    'a bound token without a client certificate on the connection',
    'Call the resource over mTLS with the certificate the token is bound to.',
  ),
  ERR_VERIFIER_CERTIFICATE_MISMATCH: answer(
    401,
    'invalid_token',
    'the certificate is not the one the token is bound to',
    'Present the certificate the token was issued to, or get a new token with the current certificate.',
  ),
  ERR_VERIFIER_INSUFFICIENT_SCOPE: answer(403, 'insufficient_scope', 'a required scope is missing', 'Request a token with the scopes named in the WWW-Authenticate challenge.'),
  ERR_VERIFIER_UPSTREAM: answer(
    503,
    'temporarily_unavailable',
    "the issuer's metadata, JWKS or introspection could not be reached",
    'Retry later; check that the resource server reaches the issuer (the log line has the detail).',
  ),
} as const satisfies Record<string, CatalogEntry>;

export type VerifierErrorCode = keyof typeof VERIFIER_CODES;
