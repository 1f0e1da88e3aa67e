import type { Db } from './knex.js';
import { toMs } from './knex.js';

/** trust_anchors/signing_keys: polled by servers; clients/resource_servers: checked per request (lookup cache). */
export type RevisionName = 'trust_anchors' | 'signing_keys' | 'clients' | 'resource_servers';

/** Bumps a revision inside the caller's transaction, so running servers notice the change. */
export async function bumpRevision(trx: Db, name: RevisionName): Promise<void> {
  await trx('revisions').where({ name }).increment('revision', 1);
}

export async function readRevisions(db: Db): Promise<Record<RevisionName, number>> {
  const rows = await db('revisions').select('name', 'revision');
  const out = { trust_anchors: 0, signing_keys: 0, clients: 0, resource_servers: 0 } as Record<RevisionName, number>;
  for (const r of rows as { name: RevisionName; revision: unknown }[]) out[r.name] = toMs(r.revision) ?? 0;
  return out;
}

export interface RevisionReader {
  read(): Promise<Record<RevisionName, number>>;
  close(): Promise<void>;
}

/**
 * A reader for the per-request revision check. On SQLite it keeps its own read-only handle with a
 * prepared statement (WAL lets it read beside the writer): microseconds instead of a knex round trip.
 * On PostgreSQL it is a plain query on the pool.
 */
export async function createRevisionReader(db: Db, database: { client: 'sqlite'; filename: string } | { client: 'pg'; url: string }): Promise<RevisionReader> {
  if (database.client !== 'sqlite') {
    return { read: () => readRevisions(db), close: async () => {} };
  }
  const { default: Database } = await import('better-sqlite3');
  const handle = new Database(database.filename, { readonly: true, fileMustExist: true });
  const statement = handle.prepare('select name, revision from revisions');
  return {
    async read() {
      const out = { trust_anchors: 0, signing_keys: 0, clients: 0, resource_servers: 0 } as Record<RevisionName, number>;
      for (const r of statement.all() as { name: RevisionName; revision: number | bigint }[]) out[r.name] = Number(r.revision);
      return out;
    },
    async close() {
      handle.close();
    },
  };
}
