import { type Queryable, sqlOf, toMs } from './sql.js';

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

/** CRL rows with their trust anchor's name, by anchor name then age; `where` filters `c`. */
async function rows(db: Queryable, where: string, params: readonly unknown[]): Promise<CrlRecord[]> {
  const found = await sqlOf(db).all(
    `select c.*, a.name as anchor_name from trust_anchor_crls c join trust_anchors a on a.id = c.trust_anchor_id${where ? ` where ${where}` : ''} order by a.name, c.created_at`,
    params,
  );
  return found.map(fromRow);
}

export const crls = {
  async list(db: Queryable): Promise<CrlRecord[]> {
    return rows(db, '', []);
  },
  async find(db: Queryable, id: string): Promise<CrlRecord | undefined> {
    return (await rows(db, 'c.id = ?', [id]))[0];
  },
  async insert(db: Queryable, c: CrlRecord): Promise<void> {
    await sqlOf(db).run(
      'insert into trust_anchor_crls (id, trust_anchor_id, source_kind, source, issuer_pem, issuer_subject, issuer_spki_sha256, crl_der, this_update, next_update, revoked_count, fetched_at, last_attempt_at, last_error, created_at)' +
        ' values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        c.id,
        c.trustAnchorId,
        c.sourceKind,
        c.source,
        c.issuerPem,
        c.issuerSubject,
        c.issuerSpkiSha256,
        c.crlDer.toString('base64'),
        c.thisUpdate.getTime(),
        c.nextUpdate?.getTime() ?? null,
        c.revokedCount,
        c.fetchedAt.getTime(),
        c.lastAttemptAt.getTime(),
        c.lastError,
        c.createdAt.getTime(),
      ],
    );
  },
  /**
   * Stores a newer CRL fetched from the source. Only replaces a CRL with an older thisUpdate (no rollback
   * to an older CRL, even from another replica); returns whether it did. Records the attempt either way.
   */
  async storeFetched(db: Queryable, id: string, crl: { der: Buffer; thisUpdate: Date; nextUpdate: Date | null; revokedCount: number }, at: Date): Promise<boolean> {
    const sql = sqlOf(db);
    const n = await sql.run(
      'update trust_anchor_crls set crl_der = ?, this_update = ?, next_update = ?, revoked_count = ?, fetched_at = ?, last_attempt_at = ?, last_error = null where id = ? and this_update < ?',
      [crl.der.toString('base64'), crl.thisUpdate.getTime(), crl.nextUpdate?.getTime() ?? null, crl.revokedCount, at.getTime(), at.getTime(), id, crl.thisUpdate.getTime()],
    );
    if (n === 0) await sql.run('update trust_anchor_crls set fetched_at = ?, last_attempt_at = ?, last_error = null where id = ?', [at.getTime(), at.getTime(), id]);
    return n > 0;
  },
  async recordFailure(db: Queryable, id: string, error: string, at: Date): Promise<void> {
    await sqlOf(db).run('update trust_anchor_crls set last_attempt_at = ?, last_error = ? where id = ?', [at.getTime(), error.slice(0, 2000), id]);
  },
  async remove(db: Queryable, id: string): Promise<number> {
    return sqlOf(db).run('delete from trust_anchor_crls where id = ?', [id]);
  },
};
