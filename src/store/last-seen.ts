import type { Db } from './knex.js';
import { toMs } from './knex.js';

/** The last certificate a client authenticated with, per mapping. */
export interface LastSeenCertificate {
  clientId: string;
  /** Null for self_signed_tls_client_auth and private_key_jwt clients (no mapping). */
  mappingId: string | null;
  x5tS256: string;
  subject: string;
  notAfter: Date;
  seenAt: Date;
}

/** Primary-key part for clients that authenticate without a mapping (self_signed_tls_client_auth, private_key_jwt). */
export const SELF_SIGNED_MAPPING_KEY = 'self-signed';

function fromRow(r: Record<string, unknown>): LastSeenCertificate {
  return {
    clientId: String(r.client_id),
    mappingId: r.mapping_id ? String(r.mapping_id) : null,
    x5tS256: String(r.x5t_s256),
    subject: String(r.subject),
    notAfter: new Date(toMs(r.not_after) ?? 0),
    seenAt: new Date(toMs(r.seen_at) ?? 0),
  };
}

export const lastSeen = {
  /** Inserts or replaces the row of (client, mapping). A client or mapping removed meanwhile is skipped. */
  async upsert(db: Db, seen: LastSeenCertificate): Promise<void> {
    await db.transaction(async (trx) => {
      const client = await trx('clients').where({ client_id: seen.clientId }).first('client_id');
      if (!client) return;
      if (seen.mappingId && !(await trx('certificate_mappings').where({ id: seen.mappingId }).first('id'))) return;
      await trx('certificate_last_seen')
        .insert({
          client_id: seen.clientId,
          mapping_key: seen.mappingId ?? SELF_SIGNED_MAPPING_KEY,
          mapping_id: seen.mappingId,
          x5t_s256: seen.x5tS256,
          subject: seen.subject,
          not_after: seen.notAfter.getTime(),
          seen_at: seen.seenAt.getTime(),
        })
        .onConflict(['client_id', 'mapping_key'])
        .merge(['mapping_id', 'x5t_s256', 'subject', 'not_after', 'seen_at']);
    });
  },
  async list(db: Db): Promise<LastSeenCertificate[]> {
    return ((await db('certificate_last_seen').select('*').orderBy([{ column: 'client_id' }, { column: 'mapping_key' }])) as Record<string, unknown>[]).map(fromRow);
  },
  /** Rows whose certificate ends before `before` (already expired ones included). */
  async endingBefore(db: Db, before: Date): Promise<LastSeenCertificate[]> {
    return ((await db('certificate_last_seen').where('not_after', '<=', before.getTime()).orderBy('not_after')) as Record<string, unknown>[]).map(fromRow);
  },
};

/**
 * Every client's last-seen certificates (for a gauge of their notAfter, e.g.
 * `certbound_client_certificate_not_after_seconds{client_id}`).
 *
 * @example
 * for (const s of await listLastSeen(db)) gauge.set({ client_id: s.clientId }, s.notAfter.getTime() / 1000);
 */
export function listLastSeen(db: Db): Promise<LastSeenCertificate[]> {
  return lastSeen.list(db);
}
