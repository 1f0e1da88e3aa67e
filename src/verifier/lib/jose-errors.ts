import type { VerifierErrorCode } from '../errors.js';

export interface JoseFailure {
  /** True when the failure is the authorization server's (JWKS unreachable), not the token's. */
  upstream: boolean;
  code: VerifierErrorCode;
  /** Fixed, client-safe sentence. */
  description: string;
  /** jose's own message, for logs only. */
  detail: string;
}

const TOKEN_FAULTS: Record<string, string> = {
  ERR_JOSE_ALG_NOT_ALLOWED: 'token algorithm not allowed',
  ERR_JOSE_NOT_SUPPORTED: 'token uses an unsupported feature',
  ERR_JWS_INVALID: 'token malformed',
  ERR_JWT_INVALID: 'token malformed',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'token signature invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'token signing key not found',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'token signing key ambiguous',
};

/** Maps a jose error to a decision: the token's fault (401 invalid_token) or the AS's (503). */
export function joseFailure(err: unknown): JoseFailure {
  const code = (err as { code?: unknown })?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'ERR_JWT_EXPIRED') return { upstream: false, code: 'ERR_VERIFIER_TOKEN_EXPIRED', description: 'token expired', detail };
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const claim = String((err as { claim?: unknown }).claim ?? 'a').replace(/[^A-Za-z0-9_#-]/g, '');
    return { upstream: false, code: 'ERR_VERIFIER_TOKEN_INVALID', description: `token ${claim} claim invalid`, detail };
  }
  if (typeof code === 'string' && code in TOKEN_FAULTS) {
    return { upstream: false, code: 'ERR_VERIFIER_TOKEN_INVALID', description: TOKEN_FAULTS[code]!, detail };
  }
  // ERR_JWKS_TIMEOUT, ERR_JWKS_INVALID, ERR_JOSE_GENERIC (non-200 JWKS), network errors.
  return { upstream: true, code: 'ERR_VERIFIER_UPSTREAM', description: 'authorization server unavailable', detail };
}
