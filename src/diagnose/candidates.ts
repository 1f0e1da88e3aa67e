/** Lookup keys for the clients a certificate could authenticate as, or nearly (so a store can find them by index). */
import { attributeValues, canonicalDn, canonicalizeMappingValue, canonicalSanValues, type MappingKind, OID_COMMON_NAME, type ParsedCertificate, SAN_KINDS } from '../pki/index.js';

export interface MappingKey {
  kind: MappingKind;
  canonical: string;
}

function unique(keys: MappingKey[]): MappingKey[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = `${k.kind}\u0000${k.canonical}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Every (kind, canonical value) a mapping would need to hold to match this certificate: its subject DN
 * and each SAN, in the canonical forms mapping/ compares.
 *
 * @example
 * for (const { kind, canonical } of candidateMappingKeys(cert)) await clients.findMappingsByCanonical(db, kind, canonical);
 */
export function candidateMappingKeys(cert: ParsedCertificate): MappingKey[] {
  const keys: MappingKey[] = [{ kind: 'subject_dn', canonical: cert.subjectCanonical }];
  for (const kind of SAN_KINDS) for (const canonical of canonicalSanValues(cert.san, kind)) keys.push({ kind, canonical });
  return unique(keys);
}

/** At most this many CNs are read as SAN values (a subject rarely has more than one). */
const MAX_CNS = 2;

/**
 * The values a mapping registered by a near mistake holds, each an exact key: the subject DN in reverse
 * RDN order (registered as OpenSSL prints it), and the subject CN as a SAN of each kind (registered from
 * the CN where the certificate has no such SAN). Mappings whose value is merely close (a typo, last
 * year's name) are found next to {@link candidateMappingKeys} in the index's order instead.
 *
 * @example
 * for (const { kind, canonical } of nearMissMappingKeys(cert)) await clients.findMappingsByCanonical(db, kind, canonical);
 */
export function nearMissMappingKeys(cert: ParsedCertificate): MappingKey[] {
  const keys: MappingKey[] = [];
  if (cert.subject.length >= 2) {
    const reversed = canonicalDn([...cert.subject].reverse());
    if (reversed !== cert.subjectCanonical) keys.push({ kind: 'subject_dn', canonical: reversed });
  }
  for (const cn of attributeValues(cert.subject, OID_COMMON_NAME).slice(0, MAX_CNS)) {
    for (const kind of SAN_KINDS) {
      try {
        keys.push({ kind, canonical: canonicalizeMappingValue(kind, cn) });
      } catch {
        // a CN that is no valid value of this kind cannot have been registered as one
      }
    }
  }
  return unique(keys);
}
