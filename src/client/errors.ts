import type { ClientLibraryCode } from '../errors/catalog/client.js';
import { CertboundError } from '../errors/index.js';

/**
 * Stable reasons a {@link CertboundClientError} carries (the error catalog, src/errors/catalog/client.ts,
 * defines them). Match on `code`, never on the message.
 *
 * - `DISCOVERY_FAILED`: no usable metadata at the issuer (network, status, JSON, or no token endpoint).
 * - `ISSUER_MISMATCH`: the metadata names another issuer (RFC 8414 §3.3).
 * - `TOKEN_REFUSED`: the token endpoint answered 4xx; carries the OAuth `error`, description and ref. Never retried.
 * - `TOKEN_ENDPOINT_UNAVAILABLE`: network errors or 5xx, still failing after the bounded retries.
 * - `INVALID_TOKEN_RESPONSE`: a 200 answer that is not a usable Bearer token response.
 * - `UNBOUND_TOKEN`: a JWT access token that is not bound to the presented certificate (`requireBound`).
 * - `CERTIFICATE_UNREADABLE`: the certificate or key cannot be read or parsed.
 * - `KEY_MISMATCH`: the private key does not belong to the certificate.
 * - `SIGNING_KEY_UNREADABLE`: the `privateKeyJwt` signing key cannot be imported.
 * - `CLIENT_CLOSED`: the client was used after `close()`.
 */
export type CertboundClientErrorCode = ClientLibraryCode;

export interface CertboundClientErrorInit {
  /** What to do about it; also appended by `explain()`. */
  hint: string;
  cause?: unknown;
  /** The HTTP status the server answered with, when there was an answer. */
  httpStatus?: number | undefined;
  /** RFC 6749 §5.2 `error` of a refusal. */
  oauthError?: string | undefined;
  /** RFC 6749 §5.2 `error_description` of a refusal. */
  errorDescription?: string | undefined;
  /** The server's correlation reference (certbound writes `(ref 1a2b3c4d)` in its descriptions). */
  ref?: string | undefined;
}

/**
 * The one error class of `certbound/client`: a stable `code`, a message saying what happened, a `hint`
 * saying what to do, and for a refusal the server's OAuth `oauthError`, `errorDescription` and `ref`.
 *
 * @example
 * try {
 *   await client.getToken({ resource: 'https://api.example.com' });
 * } catch (err) {
 *   if (err instanceof CertboundClientError && err.code === 'TOKEN_REFUSED') {
 *     console.error(`${err.oauthError}: ${err.errorDescription} (ref ${err.ref})`);
 *   }
 *   throw err;
 * }
 */
export class CertboundClientError extends CertboundError {
  declare readonly code: CertboundClientErrorCode;
  readonly httpStatus: number | undefined;
  readonly oauthError: string | undefined;
  readonly errorDescription: string | undefined;
  readonly ref: string | undefined;

  constructor(code: CertboundClientErrorCode, message: string, init: CertboundClientErrorInit) {
    super(code, message, { hint: init.hint, cause: init.cause, status: init.httpStatus ?? 500, expose: false });
    this.httpStatus = init.httpStatus;
    this.oauthError = init.oauthError;
    this.errorDescription = init.errorDescription;
    this.ref = init.ref;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      ...(this.httpStatus === undefined ? {} : { http_status: this.httpStatus }),
      ...(this.oauthError === undefined ? {} : { error: this.oauthError }),
      ...(this.errorDescription === undefined ? {} : { error_description: this.errorDescription }),
      ...(this.ref === undefined ? {} : { ref: this.ref }),
    };
  }
}

/** The ref certbound (and servers that copy the habit) puts in an error description: `(ref 1a2b3c4d)`. */
export function refOf(description: string | undefined): string | undefined {
  return description ? /\bref[ :]+([A-Za-z0-9_-]{4,64})\b/.exec(description)?.[1] : undefined;
}
