/**
 * What the CLI and `certbound serve` say when the database itself is the problem: a path that cannot
 * hold it, a read-only or full disk, a file that is not a SQLite database, a PostgreSQL that does not
 * answer. One coded sentence naming the file (or server) and what to do, instead of a driver's stack.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import path from 'node:path';
import { CertboundError } from '../errors/index.js';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.js';

type Database = { readonly client: 'sqlite'; readonly filename: string } | { readonly client: 'pg'; readonly url: string };

/** The PostgreSQL URL without its password. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured PostgreSQL server';
  }
}

function codeOf(err: unknown): string {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}

function reasonOf(err: unknown): string {
  const message = String((err as Error)?.message ?? err);
  // knex prefixes the driver's message with the SQL text; the reason is after the last " - ".
  const cut = message.lastIndexOf(' - ');
  return (cut === -1 ? message : message.slice(cut + 3)).split('\n')[0]!;
}

function noSpaceLeft(dir: string): boolean {
  try {
    return statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}

function notWritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS' || (err as NodeJS.ErrnoException).code === 'EACCES';
  }
}

/**
 * A certbound error explaining `err` for `database`, or undefined when `err` is not about the database
 * being unusable (a constraint, a bug: those keep their own handling).
 */
export function explainStorageError(err: unknown, database: Database): CertboundError | undefined {
  if (err instanceof CertboundError) return undefined;
  const code = codeOf(err);
  const reason = reasonOf(err);
  const setting = 'CERTBOUND_DATABASE_URL (or CERTBOUND_DATA_DIR)';
  if (database.client === 'pg') {
    // The server answers but refuses this connection: 3D000 no such database, 28000/28P01 no such role or wrong password.
    if (code === '3D000') {
      return new CertboundError('ERR_DATABASE_OPEN', `The PostgreSQL server at ${redacted(database.url)} has no such database (${reason}).`, {
        status: 500,
        cause: err,
        hint: 'Create it (e.g. createdb NAME, owned by the user in the URL), or fix the database name in CERTBOUND_DATABASE_URL.',
      });
    }
    if (code === '28000' || code === '28P01') {
      return new CertboundError('ERR_DATABASE_OPEN', `The PostgreSQL server at ${redacted(database.url)} refused the login (${reason}).`, {
        status: 500,
        cause: err,
        hint: "Check the user and password in CERTBOUND_DATABASE_URL and the server's pg_hba.conf rules for this host.",
      });
    }
    if (!isDatabaseUnavailable(err)) return undefined;
    const e = new DatabaseUnavailableError(`The PostgreSQL database at ${redacted(database.url)} is unavailable: ${reason}.`, { cause: err });
    return new CertboundError(e.code, e.message, {
      status: 503,
      cause: err,
      hint: 'Check that PostgreSQL is running and reachable at that address and that CERTBOUND_DATABASE_URL is right, then retry.',
    });
  }
  const file = database.filename;
  const dir = path.dirname(file);
  const make = (errCode: string, message: string, hint: string) => new CertboundError(errCode, message, { status: 500, cause: err, hint, details: { file } });
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    return make(
      'ERR_DATABASE_PATH',
      `Cannot create the directory ${dir} for the SQLite database ${file}: part of that path is a file, not a directory.`,
      `Move that file away, or point ${setting} at a path inside a directory.`,
    );
  }
  // SQLite reports a read-only directory as "unable to open" (WAL needs its -wal and -shm files there).
  const readOnlyDir = code.startsWith('SQLITE_CANTOPEN') && notWritable(dir);
  if (readOnlyDir || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code.startsWith('SQLITE_READONLY')) {
    return make(
      'ERR_DATABASE_READONLY',
      `The SQLite database ${file} cannot be written: ${readOnlyDir || code === 'EROFS' || code.startsWith('SQLITE_READONLY') ? 'its directory or file is read-only' : 'permission denied'} (${reason}).`,
      `Make ${dir} writable by this user (SQLite also writes ${path.basename(file)}-wal and -shm beside the file), or point ${setting} at a writable place.`,
    );
  }
  // A full file system often shows as an I/O error (the -wal or -shm file could not grow).
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT' || ((code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) && noSpaceLeft(dir))) {
    return make(
      'ERR_DATABASE_FULL',
      `The disk holding the SQLite database ${file} is full (${reason}); the change was not written.`,
      `Free space on the file system of ${dir} (or raise its quota), then retry.`,
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return make(
      'ERR_DATABASE_CORRUPT',
      `${file} is not a usable SQLite database (${reason}).`,
      `Check that ${setting} names certbound's database; if it is, restore it from a backup (moving the file away starts an empty database).`,
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOENT' || code === 'EISDIR') {
    return make(
      'ERR_DATABASE_OPEN',
      `Cannot open the SQLite database ${file} (${reason}).`,
      `Check that ${dir} exists, is a directory and is writable, and that ${file} is a file, or point ${setting} elsewhere.`,
    );
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return make(
      'ERR_DATABASE_IO',
      `Reading or writing the SQLite database ${file} failed (${reason}).`,
      `Check the disk holding ${dir} (space, errors in the system log), then retry.`,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return make(
      'ERR_DATABASE_BUSY',
      `The SQLite database ${file} stayed locked by another process (${reason}).`,
      'Retry when the other certbound command or server has finished its change.',
    );
  }
  return undefined;
}
