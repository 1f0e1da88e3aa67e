import type { Db } from './knex.js';
import { toMs } from './knex.js';

/** One CRL source of a trust anchor, with the last CRL fetched from it (verified before it was stored). */
export interface CrlRecord {
  id: string;
  trustAnchorId: string;
  trustAnchorName: string;
  sourceKind: 'file' | 'url';
  source: string;
  issuerPem: string;
  issuerSubject: string;
  issuerSpkiSha256: string;
  crlDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  revokedCount: number;
  fetchedAt: Date;
  lastAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
}

function fromRow(r: Record<string, unknown>): CrlRecord {
  const ms = (v: unknown) => new Date(toMs(v) ?? 0);
  return {
    id: String(r.id),
    trustAnchorId: String(r.trust_anchor_id),
    trustAnchorName: String(r.anchor_name ?? ''),
    sourceKind: String(r.source_kind) === 'url' ? 'url' : 'file',
    source: String(r.source),
    issuerPem: String(r.issuer_pem),
    issuerSubject: String(r.issuer_subject),
    issuerSpkiSha256: String(r.issuer_spki_sha256),
    crlDer: Buffer.from(String(r.crl_der), 'base64'),
    thisUpdate: ms(r.this_update),
    nextUpdate: r.next_update === null || r.next_update === undefined ? null : ms(r.next_update),
    revokedCount: Number(r.revoked_count ?? 0),
    fetchedAt: ms(r.fetched_at),
    lastAttemptAt: ms(r.last_attempt_at),
    lastError: r.last_error ? String(r.last_error) : null,
    createdAt: ms(r.created_at),
  };
}

function query(db: Db) {
  return db('trust_anchor_crls as c').join('trust_anchors as a', 'a.id', 'c.trust_anchor_id').select('c.*', 'a.name as anchor_name').orderBy([{ column: 'a.name' }, { column: 'c.created_at' }]);
}

export const crls = {
  async list(db: Db): Promise<CrlRecord[]> {
    return ((await query(db)) as Record<string, unknown>[]).map(fromRow);
  },
  async find(db: Db, id: string): Promise<CrlRecord | undefined> {
    const r = (await query(db).where('c.id', id).first()) as Record<string, unknown> | undefined;
    return r ? fromRow(r) : undefined;
  },
  async insert(db: Db, c: CrlRecord): Promise<void> {
    await db('trust_anchor_crls').insert({
      id: c.id,
      trust_anchor_id: c.trustAnchorId,
      source_kind: c.sourceKind,
      source: c.source,
      issuer_pem: c.issuerPem,
      issuer_subject: c.issuerSubject,
      issuer_spki_sha256: c.issuerSpkiSha256,
      crl_der: c.crlDer.toString('base64'),
      this_update: c.thisUpdate.getTime(),
      next_update: c.nextUpdate?.getTime() ?? null,
      revoked_count: c.revokedCount,
      fetched_at: c.fetchedAt.getTime(),
      last_attempt_at: c.lastAttemptAt.getTime(),
      last_error: c.lastError,
      created_at: c.createdAt.getTime(),
    });
  },
  /**
   * Stores a newer CRL fetched from the source. Only replaces a CRL with an older thisUpdate (no rollback
   * to an older CRL, even from another replica); returns whether it did.
   */
  async storeFetched(db: Db, id: string, crl: { der: Buffer; thisUpdate: Date; nextUpdate: Date | null; revokedCount: number }, at: Date): Promise<boolean> {
    const n = await db('trust_anchor_crls')
      .where({ id })
      .andWhere('this_update', '<', crl.thisUpdate.getTime())
      .update({
        crl_der: crl.der.toString('base64'),
        this_update: crl.thisUpdate.getTime(),
        next_update: crl.nextUpdate?.getTime() ?? null,
        revoked_count: crl.revokedCount,
        fetched_at: at.getTime(),
        last_attempt_at: at.getTime(),
        last_error: null,
      });
    if (n === 0) await db('trust_anchor_crls').where({ id }).update({ fetched_at: at.getTime(), last_attempt_at: at.getTime(), last_error: null });
    return n > 0;
  },
  async recordFailure(db: Db, id: string, error: string, at: Date): Promise<void> {
    await db('trust_anchor_crls').where({ id }).update({ last_attempt_at: at.getTime(), last_error: error.slice(0, 2000) });
  },
  async remove(db: Db, id: string): Promise<number> {
    return db('trust_anchor_crls').where({ id }).delete();
  },
};
