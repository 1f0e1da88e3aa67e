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
export async function writeAudit(trx: Queryable, entry: { actor: string; action: string; target: string; before?: unknown; after?: unknown }): Promise<void> {
  await sqlOf(trx).run('insert into audit_log (at, actor, action, target, "before", "after") values (?, ?, ?, ?, ?, ?)', [
    Date.now(),
    entry.actor,
    entry.action,
    entry.target,
    entry.before === undefined ? null : JSON.stringify(entry.before),
    entry.after === undefined ? null : JSON.stringify(entry.after),
  ]);
}

export interface AuditFilter {
  limit?: number;
  /** Exact target, e.g. `client:billing`. */
  target?: string | undefined;
  /** Exact actor, or a prefix ending in `:` (`admin:ops:` is every certificate of client ops). */
  actor?: string | undefined;
  /** Exact action, or a prefix ending in `.` (`client.` is every client change). */
  action?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Only entries older than this id (the next page after the last id seen). */
  beforeId?: number | undefined;
}

export async function listAudit(db: Db, options: AuditFilter = {}): Promise<AuditEntry[]> {
  let q = db('audit_log')
    .select('*')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 100);
  if (options.target) {
    if (!isStorableKey(options.target)) return [];
    q = q.where({ target: options.target });
  }
  for (const [column, value, separator] of [
    ['actor', options.actor, ':'],
    ['action', options.action, '.'],
  ] as const) {
    if (!value) continue;
    if (!isStorableKey(value)) return [];
    // A prefix compared as text (LIKE differs in case between SQLite and PostgreSQL and needs escaping).
    q = value.endsWith(separator) ? q.whereRaw(`substr(${column}, 1, ?) = ?`, [value.length, value]) : q.where(column, value);
  }
  if (options.since) q = q.where('at', '>=', options.since.getTime());
  if (options.until) q = q.where('at', '<=', options.until.getTime());
  if (options.beforeId !== undefined) q = q.where('id', '<', options.beforeId);
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
