/**
 * The admin API's one error body builder: any error becomes `{ code, message, hint?, details? }` with its
 * status; an error that is not exposed (status ≥ 500, or an unknown throw) becomes ERR_INTERNAL
 * without its message, so nothing internal reaches the caller. The server's own answers on `/admin`
 * paths (a wrong listener, the admin API failing to load) are built here too. Every code is a catalog
 * code (src/errors/catalog).
 */
import type { z } from 'zod';
import { CertboundError, type ErrorCode, InvalidInputError } from '../errors/index.js';
import { VerifierError } from '../verifier/errors.js';
import { adminApiWording } from './error-wording.js';

export interface AdminErrorBody {
  code: ErrorCode;
  message: string;
  hint?: string;
  /** RFC 6750 error on 401/403. */
  error?: string;
  details?: Record<string, unknown>;
}

export interface SerializedError {
  status: number;
  headers: Record<string, string>;
  body: AdminErrorBody;
}

const AUTH_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'ERR_ADMIN_BAD_REQUEST',
  401: 'ERR_ADMIN_UNAUTHENTICATED',
  403: 'ERR_ADMIN_FORBIDDEN',
  503: 'ERR_ADMIN_UNAVAILABLE',
};

/** The body of an admin API error answer. */
export function adminErrorBody(code: ErrorCode, message: string, extra: Omit<AdminErrorBody, 'code' | 'message'> = {}): AdminErrorBody {
  return { code, message, ...extra };
}

export function toAdminError(err: unknown): SerializedError {
  if (err instanceof VerifierError) {
    // The verifier's code is an internal reason (logged); the caller gets the RFC 6750 answer.
    return {
      status: err.status,
      headers: err.wwwAuthenticate ? { 'www-authenticate': err.wwwAuthenticate } : {},
      body: adminErrorBody(
        AUTH_CODES[err.status] ?? 'ERR_ADMIN_UNAUTHENTICATED',
        err.status === 401 && !err.error
          ? 'an access token for the admin API is required (Authorization: Bearer …, over mTLS with the certificate it is bound to)'
          : err.description,
        err.error ? { error: err.error } : {},
      ),
    };
  }
  if (err instanceof CertboundError && err.expose && err.status < 500) {
    return {
      status: err.status,
      headers: {},
      body: adminErrorBody(err.code as ErrorCode, err.message, { ...(err.hint ? { hint: err.hint } : {}), ...(err.details ? { details: err.details } : {}) }),
    };
  }
  return { status: 500, headers: {}, body: adminErrorBody('ERR_INTERNAL', 'an internal error occurred; see the server log') };
}

function fieldPath(location: 'body' | 'query' | 'path', path: readonly PropertyKey[]): string {
  const dotted = path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
  if (location === 'body') return dotted || 'body';
  return dotted ? `${dotted} (${location === 'path' ? 'path parameter' : 'query parameter'})` : location;
}

/** A zod failure as ERR_VALIDATION: the message names the (first) field, `details.issues` lists all. */
export function validationError(location: 'body' | 'query' | 'path', error: z.ZodError): InvalidInputError {
  const issues = error.issues.map((issue) => {
    // An unknown member is reported on its parent; name the member itself.
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const message = issue.code === 'unrecognized_keys' ? `unknown member${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    return { field: fieldPath(location, path), message };
  });
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new InvalidInputError('ERR_VALIDATION', `${first.field}: ${first.message}${more}`, {
    hint: 'Nothing was changed. See details.issues and the schema in /admin/openapi.json.',
    details: { field: first.field, issues },
  });
}

/**
 * A route's error in the admin API's words (error-wording.ts): the request member it is about named in
 * its message and `details.field`, its hint pointing at a route. `fields` maps the route's own error
 * codes to the request member they are about. Other errors pass through unchanged.
 */
export function inAdminApiWords(err: unknown, fields: Readonly<Record<string, string>> | undefined): unknown {
  if (!(err instanceof CertboundError) || err instanceof VerifierError) return err;
  const { message, hint, details } = adminApiWording(err, fields);
  if (message === err.message && hint === err.hint && details === err.details) return err;
  return new CertboundError(err.code, message, { status: err.status, expose: err.expose, hint, details, cause: err });
}
