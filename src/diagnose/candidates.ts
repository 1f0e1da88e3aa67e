/** Lookup keys for the clients a certificate could authenticate as (so a store can find them by index). */
import { canonicalizeCertificateSan, type MappingKind, type ParsedCertificate } from '../pki/index.js';

/**
 * Every (kind, canonical value) a mapping would need to hold to match this certificate: its subject DN
 * and each SAN, in the canonical forms mapping/ compares.
 *
 * @example
 * for (const { kind, canonical } of candidateMappingKeys(cert)) await clients.findMappingsByCanonical(db, kind, canonical);
 */
export function candidateMappingKeys(cert: ParsedCertificate): { kind: MappingKind; canonical: string }[] {
  const keys: { kind: MappingKind; canonical: string }[] = [{ kind: 'subject_dn', canonical: cert.subjectCanonical }];
  const safe = (fn: () => string): string | undefined => {
    try {
      return fn();
    } catch {
      return undefined;
    }
  };
  for (const v of cert.san.dns) keys.push({ kind: 'san_dns', canonical: safe(() => canonicalizeCertificateSan('san_dns', v)) ?? v });
  for (const v of cert.san.uri) keys.push({ kind: 'san_uri', canonical: v });
  for (const v of cert.san.ip) keys.push({ kind: 'san_ip', canonical: v });
  for (const v of cert.san.email) keys.push({ kind: 'san_email', canonical: safe(() => canonicalizeCertificateSan('san_email', v)) ?? v });
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = `${k.kind}\u0000${k.canonical}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
