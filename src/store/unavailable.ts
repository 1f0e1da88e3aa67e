/**
 * A database that does not answer, or answers that it cannot serve now, is one condition for the
 * server: the request is refused promptly with 503 and Retry-After (docs/reliability.md), never left
 * waiting. This module names that condition for every driver (pg, better-sqlite3, knex's pool).
 */
import { CertboundError } from '../errors/index.js';

/** Default of CERTBOUND_DATABASE_TIMEOUT_MS: the longest one database operation (connect, query, lock wait) may take. */
export const DEFAULT_DATABASE_TIMEOUT_MS = 2000;

/** The timeout of `database`, or the default. */
export function databaseTimeoutOf(database: { readonly timeoutMs?: number }): number {
  return database.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
}

/** The database cannot serve this operation now (down, frozen, overloaded); retrying later may succeed. */
export class DatabaseUnavailableError extends CertboundError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_DATABASE_UNAVAILABLE', message, {
      status: 503,
      expose: false,
      cause: options.cause,
      hint: 'Check that the database is running and reachable; certbound reconnects by itself once it answers.',
    });
  }
}

// PostgreSQL SQLSTATE classes and codes that mean "not now" rather than "wrong": connection exceptions
// (08), insufficient resources (53), operator intervention (57: shutdown, statement_timeout = 57014,
// cannot_connect_now = 57P03), and a lock wait that timed out (55P03).
const PG_UNAVAILABLE_CLASSES = new Set(['08', '53', '57']);
const PG_UNAVAILABLE_CODES = new Set(['55P03', '40P01']);
const NODE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
// better-sqlite3: another process holds the lock past busy_timeout, or the file cannot be used now.
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;
// pg and knex report timeouts and lost connections as plain Errors, recognisable by their message only.
const UNAVAILABLE_MESSAGES =
  /^timeout expired$|Query read timeout|timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|Timeout acquiring a connection|Connection ended unexpectedly|Client was closed and is not queryable|Cannot use a pool after calling end/;

/** Whether `err` (or an error it wraps) says the database is unavailable rather than that the request was wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (code.length === 5 && (PG_UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || PG_UNAVAILABLE_CODES.has(code))) return true;
      if (NODE_NETWORK_CODES.has(code) || SQLITE_UNAVAILABLE.test(code)) return true;
    }
    if (name === 'KnexTimeoutError') return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  }
  return false;
}
