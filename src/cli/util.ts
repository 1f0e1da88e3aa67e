import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Config } from '../config/index.js';
import { InvalidInputError } from '../errors/index.js';
import type { Queryable } from '../store/index.js';
import type { Db } from '../store/knex.js';
import { load } from './modules.js';

/** The audit actor of a CLI change: `cli:<OS user>`. */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {}
  return `cli:${user}`;
}

/** Reads a file named by a flag; an unreadable file is bad input (exit 2) naming the flag. */
export function readFileArg(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError('ERR_FILE_UNREADABLE', `${flag} ${file}: cannot read the file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}

/**
 * Runs `fn` with the configured database and closes it afterwards — how every CLI command reaches the
 * store. The database is migrated first, unless CERTBOUND_MIGRATE_ON_START is false: then a database
 * that is not current is refused (run `certbound migrate`), as `serve` refuses it.
 */
export async function withDatabase<T>(env: Readonly<Record<string, string | undefined>>, fn: (db: Db, cfg: Config) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { migrateOrRequireCurrent, openDatabase }] = await Promise.all([load.config(), load.knex()]);
  const cfg = loadConfig({ env });
  return withStorageErrors(cfg.database, async () => {
    const db = openDatabase(cfg.database);
    try {
      await migrateOrRequireCurrent(db, cfg.migrateOnStart);
      return await fn(db, cfg);
    } finally {
      await db.destroy();
    }
  });
}

/**
 * Runs a read-only `fn` with the configured database and closes it afterwards: the listings. On a
 * database at this version's schema (one query tells) it reads through the drivers, without loading
 * knex, as a server does; any other database goes through `withDatabase`, which migrates it or refuses
 * it exactly as the commands that change records do.
 */
export async function withReadOnlyDatabase<T>(env: Readonly<Record<string, string | undefined>>, fn: (db: Queryable, cfg: Config) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { openDriverSql, recordsExactlyOurMigrations }] = await Promise.all([load.config(), load.driver()]);
  const cfg = loadConfig({ env });
  const read = await withStorageErrors(cfg.database, async () => {
    const sql = await openDriverSql(cfg.database);
    try {
      // A server that does not answer fails here, explained, rather than passing for a database
      // without certbound's schema (which the schema check takes any failure for).
      await sql.all('select 1');
      return (await recordsExactlyOurMigrations(sql)) ? { value: await fn(sql, cfg) } : undefined;
    } finally {
      await sql.close();
    }
  });
  return read ? read.value : withDatabase(env, fn);
}

/** Runs `fn`; a failure of the database itself (path, disk, corrupt file, server down) becomes a certbound error naming it. */
export async function withStorageErrors<T>(database: Config['database'], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const { explainStorageError } = await load.storageErrors();
    throw explainStorageError(err, database) ?? err;
  }
}
