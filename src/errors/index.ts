/**
 * One error module for the whole project (after panva/jose's `util/errors`): every error a person may
 * read has a stable `code`, a sentence that says what to do next (`hint`), an HTTP `status`, and
 * `expose` telling the serializer whether its message may reach a remote caller. The codes, with their
 * status, surfaces and default hints, are listed in the error catalog (./catalog/index.ts), which this
 * module imports for types only: the CLI's command tree loads none of it.
 */
import type { OAuthErrorCode } from './catalog/oauth.js';

export type { ErrorCode } from './catalog/index.js';

export interface CertboundErrorOptions {
  cause?: unknown;
  /** What the reader should do next. */
  hint?: string;
  /** Structured details (field names, offending values) for logs and JSON output. */
  details?: Record<string, unknown>;
  status?: number;
  expose?: boolean;
}

export class CertboundError extends Error {
  /** Stable machine-readable code, e.g. `ERR_CONFIG_INVALID`. */
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: CertboundErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** The message followed by the hint, for terminals and logs. */
  explain(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Invalid configuration: names the key, the source (file or env var), the value and what is expected. */
export class ConfigError extends CertboundError {
  constructor(message: string, options: CertboundErrorOptions = {}) {
    super('ERR_CONFIG_INVALID', message, { status: 500, expose: false, ...options });
  }
}

/** Bad input from an administrator (CLI or admin API): 400, nothing was written. */
export class InvalidInputError extends CertboundError {
  constructor(code: string, message: string, options: CertboundErrorOptions = {}) {
    super(code, message, { status: 400, expose: true, ...options });
  }
}

/** A referenced entity does not exist. */
export class NotFoundError extends CertboundError {
  constructor(code: string, message: string, options: CertboundErrorOptions = {}) {
    super(code, message, { status: 404, expose: true, ...options });
  }
}

/** The entity already exists (unique id, name, overlapping mapping). */
export class ConflictError extends CertboundError {
  constructor(code: string, message: string, options: CertboundErrorOptions = {}) {
    super(code, message, { status: 409, expose: true, ...options });
  }
}

/** The runtime is not the one the product supports. */
export class RuntimeError extends CertboundError {
  constructor(message: string, options: CertboundErrorOptions = {}) {
    super('ERR_RUNTIME_UNSUPPORTED', message, { status: 500, expose: false, ...options });
  }
}

/** An RFC 6749 §5.2 error body. */
export interface OAuthErrorBody {
  error: OAuthErrorCode;
  error_description?: string;
}

/**
 * The one builder of the OAuth error bodies certbound writes itself (oidc-provider writes its own):
 * `{ error }`, with `error_description` when there is one. Everything certbound answers on the token,
 * introspection and revocation endpoints goes through it or {@link toOAuthBody}.
 *
 * @example
 * ctx.body = oauthErrorBody('invalid_request', 'the token endpoint accepts POST only');
 */
export function oauthErrorBody(error: OAuthErrorCode, description?: string): OAuthErrorBody {
  return description === undefined ? { error } : { error, error_description: description };
}

/**
 * Serializes any error into an RFC 6749 §5.2 error body. Errors that are not exposed (internal
 * failures, status >= 500) become `server_error` without their message, so nothing internal leaks.
 */
export function toOAuthBody(err: unknown): { status: number; body: OAuthErrorBody } {
  if (err && typeof err === 'object') {
    const e = err as { status?: number; statusCode?: number; expose?: boolean; error?: string; message?: string; error_description?: string };
    const status = e.status ?? e.statusCode ?? 500;
    if (status < 500 && e.expose !== false) {
      // An error of another library may carry an `error` outside the catalog's list: it is passed on as it is.
      const error = (typeof e.error === 'string' ? e.error : 'invalid_request') as OAuthErrorCode;
      const description = e.error_description ?? e.message;
      return { status, body: oauthErrorBody(error, description || undefined) };
    }
  }
  return { status: 500, body: oauthErrorBody('server_error', 'an internal error occurred; see the server log') };
}
