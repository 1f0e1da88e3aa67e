import { type BearerError, VerifierError, type VerifierErrorCode } from '../errors.js';

/** Builds the verifier's refusals, all with the same `realm` in their challenge. */
export class Refusals {
  readonly #realm: string | undefined;

  constructor(realm: string | undefined) {
    this.#realm = realm;
  }

  fail(
    code: VerifierErrorCode,
    status: number,
    error: BearerError | undefined,
    description: string,
    extra: { detail?: string; cause?: unknown; scope?: string } = {},
  ): VerifierError {
    return new VerifierError(code, { status, error, description, realm: this.#realm, ...extra });
  }

  /** 503: the authorization server (metadata, JWKS, introspection) could not answer. */
  upstream(detail: string, cause?: unknown): VerifierError {
    return this.fail('ERR_VERIFIER_UPSTREAM', 503, 'temporarily_unavailable', 'authorization server unavailable', { detail, cause });
  }

  /** 401 `invalid_token`. */
  invalidToken(code: VerifierErrorCode, description: string, extra: { detail?: string; cause?: unknown } = {}): VerifierError {
    return this.fail(code, 401, 'invalid_token', description, extra);
  }
}
