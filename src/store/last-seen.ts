import { type Queryable, sqlOf, toMs } from './sql.js';

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
  async upsert(db: Queryable, seen: LastSeenCertificate): Promise<void> {
    // One statement: the select finds no row for a client or mapping removed meanwhile, so nothing is written.
    await sqlOf(db).run(
      'insert into certificate_last_seen (client_id, mapping_key, mapping_id, x5t_s256, subject, not_after, seen_at)' +
        ' select ?, ?, ?, ?, ?, cast(? as bigint), cast(? as bigint) where exists (select 1 from clients where client_id = ?)' +
        ' and (cast(? as varchar(36)) is null or exists (select 1 from certificate_mappings where id = ?))' +
        ' on conflict (client_id, mapping_key) do update set mapping_id = excluded.mapping_id, x5t_s256 = excluded.x5t_s256,' +
        ' subject = excluded.subject, not_after = excluded.not_after, seen_at = excluded.seen_at',
      [
        seen.clientId,
        seen.mappingId ?? SELF_SIGNED_MAPPING_KEY,
        seen.mappingId,
        seen.x5tS256,
        seen.subject,
        seen.notAfter.getTime(),
        seen.seenAt.getTime(),
        seen.clientId,
        seen.mappingId,
        seen.mappingId,
      ],
    );
  },
  async list(db: Queryable): Promise<LastSeenCertificate[]> {
    return (await sqlOf(db).all('select * from certificate_last_seen order by client_id, mapping_key')).map(fromRow);
  },
  /** Rows whose certificate ends before `before` (already expired ones included). */
  async endingBefore(db: Queryable, before: Date): Promise<LastSeenCertificate[]> {
    return (await sqlOf(db).all('select * from certificate_last_seen where not_after <= ? order by not_after', [before.getTime()])).map(fromRow);
  },
};

/**
 * Every client's last-seen certificates (for a gauge of their notAfter, e.g.
 * `certbound_client_certificate_not_after_seconds{client_id}`).
 *
 * @example
 * for (const s of await listLastSeen(db)) gauge.set({ client_id: s.clientId }, s.notAfter.getTime() / 1000);
 */
export function listLastSeen(db: Queryable): Promise<LastSeenCertificate[]> {
  return lastSeen.list(db);
}
