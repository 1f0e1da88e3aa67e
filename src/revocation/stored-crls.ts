/**
 * The CRLs in the store as the token path uses them (PKI-5): each one verified again with its issuer when
 * it is loaded, and read again from its source when it is due. What an administrator does with CRLs
 * (add, list, remove, refresh by hand) is a use case in src/app/crls.ts over these.
 */
import { verifyCrl, type VerifiedCrl } from '../pki/index.js';
import { bumpRevision, type CrlRecord, crls, type Queryable, sqlOf } from '../store/index.js';
import { type FetchCrl, fetchCrlSource } from './crl-source.js';

/**
 * The stored CRLs, each verified again with its issuer (a row altered in the database does not verify).
 * Rows that fail are returned in `failed` and left out of `crls`.
 *
 * @example
 * const { crls, failed } = await loadVerifiedCrls(db);
 */
export async function loadVerifiedCrls(db: Queryable): Promise<{ records: CrlRecord[]; crls: VerifiedCrl[]; failed: { record: CrlRecord; error: string }[] }> {
  const records = await crls.list(db);
  const verified: VerifiedCrl[] = [];
  const failed: { record: CrlRecord; error: string }[] = [];
  for (const record of records) {
    try {
      verified.push(await verifyCrl(record.crlDer, record.issuerPem));
    } catch (err) {
      failed.push({ record, error: (err as Error).message });
    }
  }
  return { records, crls: verified, failed };
}

/**
 * Reads the CRL again from its source and stores it when it is newer (then servers reload it, through the
 * revision). Returns `updated` or `unchanged`; a fetch or verification error is recorded on the row and
 * thrown.
 *
 * @example
 * await refreshStoredCrl(db, record); // 'updated'
 */
export async function refreshStoredCrl(
  db: Queryable,
  record: CrlRecord,
  { fetchCrl = fetchCrlSource, now = new Date() }: { fetchCrl?: FetchCrl; now?: Date } = {},
): Promise<'updated' | 'unchanged'> {
  try {
    const verified = await verifyCrl(await fetchCrl({ kind: record.sourceKind, location: record.source }), record.issuerPem);
    const updated = await sqlOf(db).transaction(async (trx) => {
      const stored = await crls.storeFetched(
        trx,
        record.id,
        { der: verified.der, thisUpdate: verified.thisUpdate, nextUpdate: verified.nextUpdate ?? null, revokedCount: verified.revoked.size },
        now,
      );
      if (stored) await bumpRevision(trx, 'trust_anchors');
      return stored;
    });
    return updated ? 'updated' : 'unchanged';
  } catch (err) {
    await crls.recordFailure(db, record.id, (err as Error).message, now).catch(() => {});
    throw err;
  }
}
