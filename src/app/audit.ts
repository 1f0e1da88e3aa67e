/**
 * The audit log: every change made through the CLI or the admin API, written in the change's own
 * transaction by the use case that made it; read here.
 */
import { type AuditEntry, type AuditFilter, type Db, listAudit } from '../store/index.js';

/**
 * @example
 * const entries = await createAuditUseCases({ db }).listAudit({ target: 'client:billing', limit: 20 });
 */
export function createAuditUseCases({ db }: { db: Db }) {
  return {
    /** Newest first; `target` is exact (`client:billing`, `trust:corp-root`, `resource:URI`, `key:KID`). */
    /** Newest first; `target` is exact (`client:billing`, `trust:corp-root`, `resource:URI`, `key:KID`); actor and action exact or a prefix. */
    listAudit: (options: AuditFilter = {}): Promise<AuditEntry[]> => listAudit(db, options),
  };
}

export type AuditUseCases = ReturnType<typeof createAuditUseCases>;
