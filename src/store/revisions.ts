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
