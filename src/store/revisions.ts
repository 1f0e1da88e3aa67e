import { type Queryable, sqlOf, toMs } from './sql.js';
import { databaseTimeoutOf } from './unavailable.js';

/** trust_anchors/signing_keys: polled by servers; clients/resource_servers: checked per request (lookup cache). */
export type RevisionName = 'trust_anchors' | 'signing_keys' | 'clients' | 'resource_servers';

/** Bumps a revision inside the caller's transaction, so running servers notice the change. */
export async function bumpRevision(trx: Queryable, name: RevisionName): Promise<void> {
  await sqlOf(trx).run('update revisions set revision = revision + 1 where name = ?', [name]);
}

export async function readRevisions(db: Queryable): Promise<Record<RevisionName, number>> {
  const rows = await sqlOf(db).all('select name, revision from revisions');
  const out = { trust_anchors: 0, signing_keys: 0, clients: 0, resource_servers: 0 } as Record<RevisionName, number>;
  for (const r of rows as { name: RevisionName; revision: unknown }[]) out[r.name] = toMs(r.revision) ?? 0;
  return out;
}

export interface RevisionReader {
  /** The revisions as read by a query issued after this call (concurrent callers share one query). */
  read(): Promise<Record<RevisionName, number>>;
  close(): Promise<void>;
}

/**
 * Shares one read among concurrent callers without weakening what each caller gets: every call is
 * answered by a read that starts after the call was made, so a change committed before a request
 * arrived is always seen by it. Callers that arrive while a read is running wait for the next one,
 * which starts when the running one ends; with `deferToCheckPhase` the first read of a batch waits for
 * the end of the current event-loop turn (setImmediate), so the requests whose bytes arrived in the
 * same turn share it. Under load this turns one query per request into one per batch.
 */
export function coalesceReads<T>(readOnce: () => T | Promise<T>, { deferToCheckPhase }: { deferToCheckPhase: boolean }): () => Promise<T> {
  let running = false;
  let waiting: { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } | undefined;
  const launch = () => {
    const batch = waiting!;
    waiting = undefined;
    running = true;
    // The executor runs now; a read that throws synchronously rejects its batch.
    new Promise<T>((resolve) => resolve(readOnce())).then(batch.resolve, batch.reject).finally(() => {
      running = false;
      if (waiting) schedule();
    });
  };
  const schedule = () => (deferToCheckPhase ? setImmediate(launch) : launch());
  return () => {
    if (waiting) return waiting.promise;
    let resolve!: (value: T) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    waiting = { promise, resolve, reject };
    if (!running) schedule();
    return promise;
  };
}

/**
 * A reader for the per-request revision check. On SQLite it keeps its own read-only handle with a
 * prepared statement (WAL lets it read beside the writer): microseconds instead of a knex round trip.
 * On PostgreSQL it is one dedicated connection with a prepared statement.
 */
export async function createRevisionReader(database: ({ client: 'sqlite'; filename: string } | { client: 'pg'; url: string }) & { timeoutMs?: number }): Promise<RevisionReader> {
  const timeoutMs = databaseTimeoutOf(database);
  if (database.client === 'pg') {
    // One dedicated connection and a named (server-side prepared) statement: no knex query building.
    // A connection that broke is replaced on the next read.
    const { default: pg } = await import('pg');
    let connection: Promise<import('pg').Client> | undefined;
    const connect = () =>
      (connection ??= (async () => {
        // Bounded as the driver's pool (driver.ts): connecting, and the read on both ends.
        const client = new pg.Client({ connectionString: database.url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs });
        client.on('error', () => {
          connection = undefined;
        });
        await client.connect();
        return client;
      })().catch((err: unknown) => {
        connection = undefined;
        throw err;
      }));
    await connect();
    const readOnce = async () => {
      const client = await connect();
      const out = { trust_anchors: 0, signing_keys: 0, clients: 0, resource_servers: 0 } as Record<RevisionName, number>;
      try {
        const result = await client.query<{ name: RevisionName; revision: string }>({ name: 'certbound_revisions', text: 'select name, revision from revisions' });
        for (const r of result.rows) out[r.name] = Number(r.revision);
      } catch (err) {
        connection = undefined;
        client.end().catch(() => {});
        throw err;
      }
      return out;
    };
    return {
      // A read in flight is not shared (it may have started before the caller's request arrived); the
      // callers that come during it share the next one. A read starts at the end of the event-loop turn,
      // so the requests whose bytes arrived in that turn share it too: under load, sockets become
      // readable together, and a read started by the first of them would leave the rest waiting for the
      // next one, two round trips away (with this, a fifth fewer reads per token: docs/performance.md).
      read: coalesceReads(readOnce, { deferToCheckPhase: true }),
      async close() {
        const c = connection;
        connection = undefined;
        if (c) await (await c).end();
      },
    };
  }
  const { default: Database } = await import('better-sqlite3');
  const handle = new Database(database.filename, { readonly: true, fileMustExist: true, timeout: timeoutMs });
  const statement = handle.prepare('select name, revision from revisions');
  const readOnce = () => {
    const out = { trust_anchors: 0, signing_keys: 0, clients: 0, resource_servers: 0 } as Record<RevisionName, number>;
    for (const r of statement.all() as { name: RevisionName; revision: number | bigint }[]) out[r.name] = Number(r.revision);
    return out;
  };
  return {
    // The read is synchronous: the requests that arrived in one event-loop turn share one at its end.
    read: coalesceReads(readOnce, { deferToCheckPhase: true }),
    async close() {
      handle.close();
    },
  };
}
