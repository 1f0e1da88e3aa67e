import type { Db } from './knex.js';
import { type Queryable, sqlOf, toMs } from './sql.js';
import { isStorableKey } from './keys.js';

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

/** Writes an audit row; call it with the same transaction as the change it records. */
export async function writeAudit(
  trx: Queryable,
  entry: { actor: string; action: string; target: string; before?: unknown; after?: unknown },
): Promise<void> {
  await sqlOf(trx).run('insert into audit_log (at, actor, action, target, "before", "after") values (?, ?, ?, ?, ?, ?)', [
    Date.now(),
    entry.actor,
    entry.action,
    entry.target,
    entry.before === undefined ? null : JSON.stringify(entry.before),
    entry.after === undefined ? null : JSON.stringify(entry.after),
  ]);
}

export async function listAudit(db: Db, options: { limit?: number; target?: string } = {}): Promise<AuditEntry[]> {
  let q = db('audit_log').select('*').orderBy('id', 'desc').limit(options.limit ?? 100);
  if (options.target) {
    if (!isStorableKey(options.target)) return [];
    q = q.where({ target: options.target });
  }
  const rows = (await q) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(toMs(r.at) ?? 0),
    actor: String(r.actor),
    action: String(r.action),
    target: String(r.target),
    before: r.before ? JSON.parse(String(r.before)) : null,
    after: r.after ? JSON.parse(String(r.after)) : null,
  }));
}
