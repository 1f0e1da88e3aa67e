/**
 * The mapping overlap check (docs/concepts.md, "Mapping lifecycle"): one certificate must not authenticate as two
 * different clients unless an administrator says so. Two mappings overlap when they have the same kind
 * and canonical value, their trust-anchor scopes intersect (either is unpinned, or both are pinned to
 * the same anchor), and their validity windows intersect.
 */
import { ConflictError } from '../errors/index.js';
import { clients, type Db, type MappingRecord } from '../store/index.js';

function windowsIntersect(a: Pick<MappingRecord, 'notBefore' | 'notAfter'>, b: Pick<MappingRecord, 'notBefore' | 'notAfter'>): boolean {
  const start = Math.max(a.notBefore?.getTime() ?? Number.NEGATIVE_INFINITY, b.notBefore?.getTime() ?? Number.NEGATIVE_INFINITY);
  const end = Math.min(a.notAfter?.getTime() ?? Number.POSITIVE_INFINITY, b.notAfter?.getTime() ?? Number.POSITIVE_INFINITY);
  return start <= end;
}

function anchorScopesIntersect(a: Pick<MappingRecord, 'trustAnchorId'>, b: Pick<MappingRecord, 'trustAnchorId'>): boolean {
  return a.trustAnchorId === null || b.trustAnchorId === null || a.trustAnchorId === b.trustAnchorId;
}

/** Mappings of other clients that the same certificate would also satisfy. */
export async function findOverlappingMappings(db: Db, mapping: MappingRecord): Promise<MappingRecord[]> {
  const same = await clients.findMappingsByCanonical(db, mapping.kind, mapping.canonical);
  return same.filter((m) => m.clientId !== mapping.clientId && anchorScopesIntersect(m, mapping) && windowsIntersect(m, mapping));
}

/**
 * Refuses (ERR_MAPPING_OVERLAP, 409) a mapping that would let one certificate authenticate as another
 * client too, naming both clients, unless `allowOverlap`. Call it inside the write's transaction.
 *
 * @example
 * await db.transaction(async (trx) => {
 *   await assertNoOverlap(trx, mapping, input.allowOverlap);
 *   await clients.insertMapping(trx, mapping);
 * });
 */
export async function assertNoOverlap(db: Db, mapping: MappingRecord, allowOverlap: boolean | undefined): Promise<void> {
  if (allowOverlap) return;
  const overlapping = await findOverlappingMappings(db, mapping);
  if (overlapping.length === 0) return;
  const others = [...new Set(overlapping.map((m) => m.clientId))];
  const first = overlapping[0]!;
  const scope = first.trustAnchorName ? ` (trust anchor ${first.trustAnchorName})` : mapping.trustAnchorName ? ` (trust anchor ${mapping.trustAnchorName})` : '';
  throw new ConflictError(
    'ERR_MAPPING_OVERLAP',
    `A certificate with ${mapping.kind}=${mapping.value}${scope} would authenticate as both "${mapping.clientId}" and "${others.join('", "')}": client "${first.clientId}" already has mapping ${first.id} with the same value.`,
    {
      hint: 'Give each client its own certificate subject, pin the mappings to different trust anchors, or allow the overlap if both clients really share the certificate.',
      details: { clients: [mapping.clientId, ...others], mappings: overlapping.map((m) => m.id) },
    },
  );
}
