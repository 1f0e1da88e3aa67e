/**
 * The server's connection to the database without knex (docs/decisions/001-knex-off-the-hot-path.md, sql.ts): better-sqlite3 or pg
 * directly, running the store's SQL.
 *
 * Once the process opens knex as well (the admin API, a start that migrates, development mode), the
 * driver hands everything over to it (`delegateTo`): one writer per process. On SQLite that matters: a
 * statement that finds the database locked waits synchronously (busy_timeout), so a second connection
 * of the same process could wait for a knex transaction that cannot go on while it waits.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { asSql, type Dialect, prepareSqliteConnection, type Sql } from './sql.js';
import { databaseTimeoutOf } from './unavailable.js';

export interface DriverSql extends Sql {
  /** From now on, runs everything through `other` (after a transaction of its own in progress ends), and closes the driver's connections. */
  delegateTo(other: Sql): Promise<void>;
  /** Closes the driver's connections (not a delegate's). */
  close(): Promise<void>;
}

export async function openDriverSql(database: Config['database']): Promise<DriverSql> {
  const timeoutMs = databaseTimeoutOf(database);
  return database.client === 'pg' ? openPg(database.url, timeoutMs) : openSqlite(database.filename, timeoutMs);
}

/**
 * The connection's own operations. `busy()` is the end of a transaction of its own that statements from
 * outside must wait for (SQLite), or undefined; the `…Now` operations start synchronously, so a caller that
 * found it not busy runs before anything else can start a transaction.
 */
interface Own {
  dialect: Dialect;
  busy(): Promise<void> | undefined;
  allNow<T>(text: string, params: readonly unknown[]): Promise<T[]>;
  runNow(text: string, params: readonly unknown[]): Promise<number>;
  transactionNow<T>(fn: (trx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function delegating(own: Own): DriverSql {
  let target: Sql | undefined;
  let closed = false;
  // Operations started on the driver's own connection and not settled yet (a pg query may still be
  // waiting for a pooled connection): the connection is closed (hand-over, shutdown) only when they are done.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const settled = async () => {
    if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  };
  const tracked = async <R>(op: () => Promise<R>): Promise<R> => {
    inFlight++;
    try {
      return await op();
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  /** Runs the operation on the delegate, or on the driver's connection once no transaction of its own is open (checked and started in one step). */
  const gate = async <R>(onTarget: (to: Sql) => Promise<R>, onOwn: () => Promise<R>): Promise<R> => {
    for (;;) {
      if (target) return onTarget(target);
      const wait = own.busy();
      if (!wait) return tracked(onOwn);
      await wait;
    }
  };
  return asSql({
    dialect: own.dialect,
    all: <T>(text: string, params: readonly unknown[] = []): Promise<T[]> =>
      gate(
        (to) => to.all<T>(text, params),
        () => own.allNow<T>(text, params),
      ),
    run: (text: string, params: readonly unknown[] = []): Promise<number> =>
      gate(
        (to) => to.run(text, params),
        () => own.runNow(text, params),
      ),
    transaction: <T>(fn: (trx: Sql) => Promise<T>): Promise<T> =>
      gate(
        (to) => to.transaction(fn),
        () => own.transactionNow(fn),
      ),
    async delegateTo(other: Sql): Promise<void> {
      if (target) return;
      await gate(
        async () => {},
        async () => {
          target = other;
        },
      );
      // From here on nothing new starts on the driver's connection; what already started finishes on it.
      await settled();
      if (!closed) {
        closed = true;
        // Everything goes to `other` now, whether or not the driver's connection closes cleanly.
        await own.close().catch(() => {});
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await settled();
      await own.close();
    },
  });
}

async function openSqlite(filename: string, timeoutMs: number): Promise<DriverSql> {
  const { default: Database } = await import('better-sqlite3');
  mkdirSync(path.dirname(filename), { recursive: true });
  const handle = new Database(filename);
  // A lock held by another process (the CLI, a replica) is waited for at most the database timeout.
  prepareSqliteConnection(handle, timeoutMs);
  const statements = new Map<string, import('better-sqlite3').Statement>();
  const prepare = (text: string) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = handle.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  // better-sqlite3 binds numbers, strings, bigints, buffers and null; knex's dialect turns booleans and
  // dates into numbers, and so does this.
  const bind = (params: readonly unknown[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p instanceof Date ? p.getTime() : p === undefined ? null : p));
  // better-sqlite3 is synchronous: a statement never interleaves with another. A transaction spans
  // awaits, so statements from outside wait until it ends (`open` is then the promise of its end).
  let open: Promise<void> | undefined;
  const all = <T>(text: string, params: readonly unknown[]) => prepare(text).all(...bind(params)) as T[];
  const run = (text: string, params: readonly unknown[]) => prepare(text).run(...bind(params)).changes;
  const inside: Sql = asSql({
    dialect: 'sqlite' as const,
    all: async <T>(text: string, params: readonly unknown[] = []) => all<T>(text, params),
    run: async (text: string, params: readonly unknown[] = []) => run(text, params),
    transaction: <T>(fn: (trx: Sql) => Promise<T>) => fn(inside),
  });
  return delegating({
    dialect: 'sqlite',
    busy: () => open,
    allNow: async (text, params) => all(text, params),
    runNow: async (text, params) => run(text, params),
    async transactionNow<T>(fn: (trx: Sql) => Promise<T>): Promise<T> {
      let end!: () => void;
      open = new Promise<void>((resolve) => {
        end = resolve;
      });
      try {
        // IMMEDIATE: the write lock is taken now (waiting up to busy_timeout for another process), not at
        // the first write, where SQLite could only fail the transaction.
        prepare('begin immediate').run();
        const result = await fn(inside);
        prepare('commit').run();
        return result;
      } catch (err) {
        // Also after a failed COMMIT: the handle must not stay inside the transaction.
        if (handle.inTransaction) {
          try {
            prepare('rollback').run();
          } catch {
            // the original error says more
          }
        }
        throw err;
      } finally {
        open = undefined;
        end();
      }
    },
    async close() {
      handle.close();
    },
  });
}

/** At most this many statements are prepared on each PostgreSQL connection. */
const MAX_PREPARED = 200;

async function openPg(url: string, timeoutMs: number): Promise<DriverSql> {
  const { default: pg } = await import('pg');
  // At most 10 connections. Every wait is bounded by the database timeout (docs/reliability.md): getting a
  // connection, and each statement, on the server (statement_timeout) and here (query_timeout: a frozen
  // server cannot cancel anything). A connection whose query failed or timed out is dropped by the pool
  // (pool.query releases it with the error), so a recovered server gets fresh connections.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs });
  // An idle connection that breaks (a server restart) is dropped by the pool; the next query opens another.
  pool.on('error', () => {});
  // `?` placeholders become `$1`, `$2` … (the store's SQL has no `?` of its own).
  const numbered = new Map<string, string>();
  const pgText = (text: string) => {
    let out = numbered.get(text);
    if (out === undefined) {
      let n = 0;
      out = text.replace(/\?/g, () => `$${++n}`);
      numbered.set(text, out);
    }
    return out;
  };
  // Server-side prepared statements (pg's named queries: parsed and planned once per connection, then
  // only bound and executed), for the store's fixed statements. Not for `select *` (or `returning *`):
  // PostgreSQL refuses a prepared statement whose result columns changed ("cached plan must not change
  // result type"), which a migration run by another process would cause. Bounded: SQL built with a
  // variable number of placeholders would otherwise prepare without end.
  const names = new Map<string, string | null>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined) {
      name = text.includes('*') || names.size >= MAX_PREPARED ? null : `certbound_${names.size}`;
      if (names.size < MAX_PREPARED * 2) names.set(text, name);
    }
    return name ?? undefined;
  };
  const query = (text: string, params: readonly unknown[]) => {
    const name = nameOf(text);
    return name ? { name, text: pgText(text), values: params as unknown[] } : { text: pgText(text), values: params as unknown[] };
  };
  type Runner = Pick<import('pg').Pool, 'query'>;
  const on = (runner: Runner) => ({
    all: async <T>(text: string, params: readonly unknown[] = []) => (await runner.query(query(text, params))).rows as T[],
    run: async (text: string, params: readonly unknown[] = []) => (await runner.query(query(text, params))).rowCount ?? 0,
  });
  const pooled = on(pool);
  return delegating({
    dialect: 'pg',
    // PostgreSQL waits for locks without blocking this process: nothing waits for a transaction but the hand-over.
    busy: () => undefined,
    allNow: pooled.all,
    runNow: pooled.run,
    async transactionNow<T>(fn: (trx: Sql) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const inside: Sql = asSql({ dialect: 'pg' as const, ...on(client), transaction: <U>(f: (trx: Sql) => Promise<U>) => f(inside) });
      try {
        await client.query('begin');
        const result = await fn(inside);
        await client.query('commit');
        return result;
      } catch (err) {
        // A connection that cannot even roll back (timed out, broken) is dropped, not handed to the next caller.
        broken = await client.query('rollback').then(
          () => undefined,
          (rollbackErr: unknown) => (rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr))),
        );
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  });
}
