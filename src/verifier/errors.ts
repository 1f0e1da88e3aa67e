import { CertboundError } from '../errors/index.js';
import type { VerifierErrorCode } from '../errors/catalog/verifier.js';
import { bearerChallenge } from './lib/challenge.js';

/** The RFC 6750 §3.1 error codes the verifier answers with (plus `temporarily_unavailable` for 503). */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/**
 * Stable machine-readable reasons, for logs and tests; the client only sees the {@link BearerError}.
 * Defined, with their meaning and hint, in the error catalog (src/errors/catalog/verifier.ts), imported
 * for the type only so that the verifier loads nothing of the catalog.
 */
export type { VerifierErrorCode };

export interface VerifierErrorInit {
  status: number;
  /** OAuth error code; absent for a request without any token (RFC 6750 §3.1: no error code then). */
  error?: BearerError | undefined;
  /** Client-safe, fixed sentence: no thumbprints, no token content. */
  description: string;
  realm?: string | undefined;
  /** `insufficient_scope`: the scopes the resource needs. */
  scope?: string | undefined;
  /** Internal detail for logs (never sent to the client). */
  detail?: string | undefined;
  cause?: unknown;
}

/**
 * Why a request was refused, with everything needed to answer it: `status`, the OAuth `error`, a
 * client-safe `description`, and the ready `wwwAuthenticate` header value (RFC 6750 §3). `code` is the
 * stable internal reason (`ERR_VERIFIER_CERTIFICATE_MISMATCH`, …); `message` may carry internal detail
 * for logs. `toOAuthBody()` from `src/errors` serializes it via `error`/`error_description`.
 *
 * @example
 * try {
 *   await verifier.verify(req);
 * } catch (err) {
 *   if (!(err instanceof VerifierError)) throw err;
 *   res.writeHead(err.status, { 'www-authenticate': err.wwwAuthenticate ?? 'Bearer', 'cache-control': 'no-store' });
 *   res.end(JSON.stringify({ error: err.error, error_description: err.description }));
 * }
 */
export class VerifierError extends CertboundError {
  declare readonly code: VerifierErrorCode;
  readonly error: BearerError | undefined;
  readonly description: string;
  readonly wwwAuthenticate: string | undefined;
  readonly scope: string | undefined;

  constructor(code: VerifierErrorCode, init: VerifierErrorInit) {
    super(code, init.detail ? `${init.description}: ${init.detail}` : init.description, {
      status: init.status,
      expose: true,
      cause: init.cause,
    });
    this.error = init.error;
    this.description = init.description;
    this.scope = init.scope;
    this.wwwAuthenticate =
      init.status === 503 ? undefined : bearerChallenge({ realm: init.realm, error: init.error, description: init.error ? init.description : undefined, scope: init.scope });
  }

  /** RFC 6749 spelling, read by `toOAuthBody()`. */
  get error_description(): string {
    return this.description;
  }

  /** The JSON body a middleware sends: `{ error, error_description }` (no `error` for a missing token). */
  toBody(): { error?: string; error_description: string } {
    return this.error ? { error: this.error, error_description: this.description } : { error_description: this.description };
  }
}
