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
 * On PostgreSQL it is one dedicated connection with a prepared statement.
 */
export async function createRevisionReader(database: { client: 'sqlite'; filename: string } | { client: 'pg'; url: string }): Promise<RevisionReader> {
  if (database.client === 'pg') {
    // One dedicated connection and a named (server-side prepared) statement: no knex query building.
    // A connection that broke is replaced on the next read.
    const { default: pg } = await import('pg');
    let connection: Promise<import('pg').Client> | undefined;
    const connect = () =>
      (connection ??= (async () => {
        const client = new pg.Client({ connectionString: database.url });
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
    return {
      async read() {
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
      },
      async close() {
        const c = connection;
        connection = undefined;
        if (c) await (await c).end();
      },
    };
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
