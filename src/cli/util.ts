import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { type Config, loadConfig } from '../config/index.js';
import { InvalidInputError } from '../errors/index.js';
import { type Db, migrateOrRequireCurrent, openDatabase } from '../store/knex.js';
import { explainStorageError } from '../store/storage-errors.js';

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

/** Runs `fn`; a failure of the database itself (path, disk, corrupt file, server down) becomes a certbound error naming it. */
export async function withStorageErrors<T>(database: Config['database'], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explainStorageError(err, database) ?? err;
  }
}
