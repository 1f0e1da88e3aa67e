/**
 * One way to run certbound's SQL on either database and through either connection (docs/decisions/001-knex-off-the-hot-path.md).
 *
 * The store's functions are written once, as SQL text with `?` placeholders, and run through an `Sql`:
 * - `sqlOf(knex)` runs them through knex (`knex.raw`), inside the caller's transaction when given one.
 *   The CLI, the admin use cases and the migrations use knex, as before.
 * - `openDriverSql()` (driver.ts) runs them on better-sqlite3 or pg directly. A server that only issues
 *   tokens reads and writes through it and never loads knex, which with lodash and tarn is about 2 MB
 *   of live heap, and V8 grows the old generation to a multiple of the live heap under load.
 *
 * The SQL is plain enough for both databases: epoch-millisecond bigints, JSON as text, `insert … on
 * conflict … do update` (SQLite ≥ 3.24 and PostgreSQL ≥ 9.5), identifiers that are keywords quoted
 * with double quotes. Values come back as each driver returns them (knex passes the driver's rows
 * through): a PostgreSQL bigint is a string (read it with `toMs`), an SQLite boolean is 0 or 1.
 */
import type { Knex } from 'knex';

export type Dialect = 'sqlite' | 'pg';
export type Row = Record<string, unknown>;

const SQL = Symbol('certbound.sql');

export interface Sql {
  readonly [SQL]: true;
  readonly dialect: Dialect;
  /** The rows of a query (a select, or a write with `returning`). */
  all<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a write; resolves to the number of rows it changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
  /** Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). Inside one, joins it. */
  transaction<T>(fn: (trx: Sql) => Promise<T>): Promise<T>;
}

/** What the store's functions accept: a knex instance or transaction (CLI, admin), or an `Sql` (the server). */
export type Queryable = Knex | Sql;

/** Marks an object as an `Sql` (driver.ts). */
export function asSql<T extends Omit<Sql, typeof SQL>>(impl: T): T & Sql {
  return Object.assign(impl, { [SQL]: true as const });
}

const viaKnex = new WeakMap<object, Sql>();

/** The `Sql` for a store call: itself, or the knex instance or transaction wrapped (once per instance). */
export function sqlOf(q: Queryable): Sql {
  if ((q as Partial<Sql>)[SQL] === true) return q as Sql;
  const db = q as Knex;
  let sql = viaKnex.get(db);
  if (!sql) {
    sql = knexSql(db);
    viaKnex.set(db, sql);
  }
  return sql;
}

function knexSql(db: Knex): Sql {
  const dialect: Dialect = db.client.config.client === 'pg' ? 'pg' : 'sqlite';
  const raw = (text: string, params: readonly unknown[]) => db.raw(text, params as Knex.RawBinding[]);
  const self: Sql = asSql({
    dialect,
    async all<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      const result = await raw(text, params);
      return (dialect === 'pg' ? result.rows : result) as T[];
    },
    async run(text: string, params: readonly unknown[] = []): Promise<number> {
      const result = await raw(text, params);
      return Number((dialect === 'pg' ? result.rowCount : result.changes) ?? 0);
    },
    transaction<T>(fn: (trx: Sql) => Promise<T>): Promise<T> {
      // Inside a transaction, join it (knex would open a savepoint; the store's callers never need one).
      if ((db as Knex.Transaction).isTransaction) return fn(self);
      return db.transaction((trx) => fn(sqlOf(trx)));
    },
  });
  return self;
}

/** Epoch ms from a bigint column (pg returns bigints as strings). */
export function toMs(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : Number(v);
}

/** Runs `fn` again while SQLite answers SQLITE_BUSY, for at most `maxMs` (synchronous: it runs once per new connection). */
function retryWhileBusy<T>(fn: () => T, maxMs: number): T {
  const deadline = Date.now() + maxMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, 25);
    }
  }
}

/** The pragmas every SQLite connection of certbound gets (knex's pool and the server's driver alike). */
export function prepareSqliteConnection(conn: { pragma(s: string): unknown }, busyTimeoutMs = 5000): void {
  // busy_timeout first: switching a fresh file to WAL needs a lock that another process (a replica
  // starting at the same moment) may hold, and SQLite may refuse it without waiting.
  conn.pragma(`busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  retryWhileBusy(() => conn.pragma('journal_mode = WAL'), 5000);
  conn.pragma('foreign_keys = ON');
}
