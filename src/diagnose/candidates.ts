/** Lookup keys for the clients a certificate could authenticate as (so a store can find them by index). */
import { canonicalSanValues, type MappingKind, type ParsedCertificate, SAN_KINDS } from '../pki/index.js';

/**
 * Every (kind, canonical value) a mapping would need to hold to match this certificate: its subject DN
 * and each SAN, in the canonical forms mapping/ compares.
 *
 * @example
 * for (const { kind, canonical } of candidateMappingKeys(cert)) await clients.findMappingsByCanonical(db, kind, canonical);
 */
export function candidateMappingKeys(cert: ParsedCertificate): { kind: MappingKind; canonical: string }[] {
  const keys: { kind: MappingKind; canonical: string }[] = [{ kind: 'subject_dn', canonical: cert.subjectCanonical }];
  for (const kind of SAN_KINDS) for (const canonical of canonicalSanValues(cert.san, kind)) keys.push({ kind, canonical });
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = `${k.kind}\u0000${k.canonical}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
