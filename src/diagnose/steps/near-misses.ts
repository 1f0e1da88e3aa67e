/**
 * The near-miss step: without a client id, when no client authenticates with the certificate, the
 * registered clients it nearly authenticates as, each through its nearest mapping compared field by
 * field (expected beside presented), nearest first.
 */
import type { ParsedCertificate } from '../../pki/index.js';
import type { DiagnosisClient, MappingDiagnosis, NearbyMapping, NearMiss } from '../types.js';
import { type ClientContext, diagnoseMapping } from './mapping.js';

/** At most this many clients are named: the nearest few say what to fix; a longer list is noise. */
export const MAX_NEAR_MISSES = 3;

/** Whether `distance` edits still make a typo rather than another name: about one in five characters. */
function closeEnough(distance: number, registered: string, presented: string): boolean {
  return distance > 0 && distance <= Math.max(1, Math.floor(Math.max(registered.length, presented.length) / 5));
}

/** Lower is nearer: the same value first, then the known mistakes, then by edit distance. */
function rankOf(similarity: NearMiss['similarity']): number {
  return { same_value: 0, reversed_dn: 1, cn_as_san: 1, similar_value: 2 }[similarity];
}

function classify(m: MappingDiagnosis): Pick<NearMiss, 'similarity' | 'distance'> | undefined {
  const identity = m.fields.identity;
  if (identity.status === 'match') return { similarity: 'same_value', distance: 0 };
  if (identity.code === 'SUBJECT_DN_ORDER_REVERSED') return { similarity: 'reversed_dn', distance: null };
  if (identity.code === 'CN_MATCHES_BUT_SAN_EXPECTED') return { similarity: 'cn_as_san', distance: null };
  const closest = identity.closest;
  if ((identity.code === 'SAN_MISMATCH' || identity.code === 'SUBJECT_DN_MISMATCH') && closest && closeEnough(closest.distance, closest.registered, closest.certificate)) {
    return { similarity: 'similar_value', distance: closest.distance };
  }
  return undefined;
}

function differs(m: MappingDiagnosis): NearMiss['differs'] {
  const out: NearMiss['differs'] = [];
  if (m.fields.validity.status === 'mismatch') out.push('validity');
  if (m.fields.identity.status === 'mismatch') out.push('identity');
  if (m.fields.trust_anchor.status === 'mismatch') out.push('trust_anchor');
  return out;
}

/**
 * The nearest registered clients, one entry each (its nearest mapping), at most {@link MAX_NEAR_MISSES}.
 * Mappings that match are not near misses; mappings that share nothing recognisable with the
 * certificate are left out.
 */
export function findNearMisses(leaf: ParsedCertificate, clients: readonly DiagnosisClient[], nearby: readonly NearbyMapping[], ctx: ClientContext): NearMiss[] {
  const seen = new Set<string>();
  const best = new Map<string, NearMiss>();
  const consider = (clientId: string, mapping: DiagnosisClient['mappings'][number]) => {
    if (seen.has(mapping.id)) return;
    seen.add(mapping.id);
    const diagnosed = diagnoseMapping(leaf, mapping, ctx);
    if (diagnosed.matches) return;
    const kind = classify(diagnosed);
    if (!kind) return;
    const miss: NearMiss = { client_id: clientId, ...kind, differs: differs(diagnosed), mapping: diagnosed };
    const current = best.get(clientId);
    if (!current || compare(miss, current) < 0) best.set(clientId, miss);
  };
  for (const client of clients) if (client.authMethod === 'tls_client_auth') for (const m of client.mappings) consider(client.clientId, m);
  for (const m of nearby) consider(m.clientId, m);
  return [...best.values()].sort(compare).slice(0, MAX_NEAR_MISSES);
}

function compare(a: NearMiss, b: NearMiss): number {
  return (
    rankOf(a.similarity) - rankOf(b.similarity) ||
    (a.distance ?? 0) - (b.distance ?? 0) ||
    a.differs.length - b.differs.length ||
    (a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0) ||
    (a.mapping.id < b.mapping.id ? -1 : a.mapping.id > b.mapping.id ? 1 : 0)
  );
}

/** One line per near miss for the verdict's message: who, and what differs, expected vs presented. */
export function describeNearMiss(n: NearMiss): string {
  const m = n.mapping;
  const id = m.fields.identity;
  const presented = id.closest?.certificate ?? id.certificate[0];
  const parts: string[] = [];
  if (n.differs.includes('identity')) {
    parts.push(
      n.similarity === 'cn_as_san'
        ? `${m.kind} ${m.value} registered, the certificate has it only as its subject CN`
        : n.similarity === 'reversed_dn'
          ? `subject DN registered in reverse order (${m.value}; the certificate's is ${presented})`
          : `${m.kind} registered ${m.value}, presented ${presented ?? '(none)'}`,
    );
  }
  if (n.differs.includes('trust_anchor')) {
    const ta = m.fields.trust_anchor;
    const ref = (a: typeof ta.pinned) => (a ? `${a.name}${a.environment ? ` (${a.environment})` : ''}` : 'none');
    parts.push(`pinned to ${ref(ta.pinned)}, the chain ends at ${ref(ta.chain_anchor)}`);
  }
  if (n.differs.includes('validity')) parts.push(`mapping valid ${m.not_before ?? '…'} → ${m.not_after ?? '…'}`);
  return `${n.client_id} (${m.code}: ${parts.join('; ')})`;
}
