/**
 * Pure matching rules (RFC 8705 §2.1, PKI-4, MD-3..MD-9, X-2, X-8, X-9): does a parsed client certificate
 * match one of the certificate mappings registered for the client, and if not, why not, in words.
 * No I/O, no clock: the caller passes `now`.
 */
import {
  type ParsedCertificate,
  OID_COMMON_NAME,
  attributeValues,
  canonicalDn,
  canonicalizeMappingValue,
  canonicalSanValues,
  ipTextFromCanonical,
  isReversedOf,
  parseRfc4514,
} from '../pki/index.js';
import { isSanKind, MAPPING_KIND_DEFINITIONS, type MappingKind, type SanKind } from './kinds.js';
import { MAPPING_REASONS, type MappingReasonCode } from './reasons.js';

/** One registered way of recognising a client's certificate. */
export interface CertificateMapping {
  id: string;
  kind: MappingKind;
  /** As registered (shown in messages). */
  value: string;
  /** `canonicalizeMappingValue(kind, value)`, as stored; this is what is compared. */
  canonical: string;
  /** Pinned trust anchor: base64url SHA-256 of its SPKI. */
  trustAnchorSpki?: string | null;
  trustAnchorName?: string | null;
  notBefore?: Date | null;
  notAfter?: Date | null;
}

/** Whether a mapping's validity window holds at `now` (ms): from notBefore, until before notAfter. */
export function isMappingValidAt(mapping: Pick<CertificateMapping, 'notBefore' | 'notAfter'>, now: number): boolean {
  return (!mapping.notBefore || mapping.notBefore.getTime() <= now) && (!mapping.notAfter || mapping.notAfter.getTime() > now);
}

export interface MatchContext {
  now: Date;
  /** SPKI hash (base64url SHA-256) of the trust anchor the validated chain ended at, when known. */
  anchorSpki?: string | undefined;
}

export interface MappingRefusal {
  /** Empty for NO_MAPPINGS. */
  mappingId: string;
  code: MappingReasonCode;
  message: string;
  hint: string;
}

export type MatchResult = { matched: true; mapping: CertificateMapping } | { matched: false; reasons: MappingRefusal[] };

function refusal(mapping: CertificateMapping | undefined, code: MappingReasonCode, message: string, hint?: string): MappingRefusal {
  return { mappingId: mapping?.id ?? '', code, message, hint: hint ?? MAPPING_REASONS[code] };
}

function list(values: readonly string[]): string {
  const shown = values.slice(0, 10).join(', ');
  return values.length > 10 ? `${shown} (and ${values.length - 10} more)` : shown;
}

/** The value as a person should read it: IPs in text form, others as registered. */
function shownValue(mapping: CertificateMapping): string {
  return mapping.kind === 'san_ip' && /^[0-9a-f]{8}(?:[0-9a-f]{24})?$/.test(mapping.canonical) ? ipTextFromCanonical(mapping.canonical) : mapping.value;
}

/** Whether the certificate's subject CN, read as a SAN of this kind, equals the registered value (MD-9 diagnosis only). */
function cnEquals(cert: ParsedCertificate, kind: SanKind, canonical: string): string | undefined {
  for (const cn of attributeValues(cert.subject, OID_COMMON_NAME)) {
    try {
      if (canonicalizeMappingValue(kind, cn) === canonical) return cn;
    } catch {
      // a CN that is not a valid value of this kind cannot be the registered value
    }
  }
  return undefined;
}

function checkSubjectDn(cert: ParsedCertificate, mapping: CertificateMapping): MappingRefusal | undefined {
  if (cert.subjectCanonical === mapping.canonical) return undefined;
  const certDn = cert.subjectRfc4514 === '' ? '(an empty subject)' : cert.subjectRfc4514;
  try {
    const registered = parseRfc4514(mapping.value);
    if (isReversedOf(registered, cert.subject) && canonicalDn(registered) === mapping.canonical) {
      return refusal(
        mapping,
        'SUBJECT_DN_ORDER_REVERSED',
        `The registered subject DN ${mapping.value} is the certificate subject ${certDn} in reverse order.`,
        `${MAPPING_REASONS.SUBJECT_DN_ORDER_REVERSED} Here: ${cert.subjectRfc4514}.`,
      );
    }
  } catch {
    // The stored canonical form is authoritative; an unreadable `value` only loses the reversal diagnosis.
  }
  return refusal(mapping, 'SUBJECT_DN_MISMATCH', `The certificate subject is ${certDn}; this client expects ${mapping.value}.`);
}

function checkSan(cert: ParsedCertificate, mapping: CertificateMapping, kind: SanKind): MappingRefusal | undefined {
  const type = MAPPING_KIND_DEFINITIONS[kind];
  const values = canonicalSanValues(cert.san, kind);
  // MD-8: present among the SANs of that type; exact canonical equality, no wildcard expansion.
  if (values.includes(mapping.canonical)) return undefined;
  const expected = shownValue(mapping);
  // MD-9 / X-8: never authenticate on the CN, but say so when that is what the certificate offers.
  const cn = cnEquals(cert, kind, mapping.canonical);
  if (cn !== undefined) {
    const others = values.length === 0 ? `it has no ${type.label} SAN` : `its ${type.label} SANs are ${list(type.certificateValues(cert))}`;
    return refusal(
      mapping,
      'CN_MATCHES_BUT_SAN_EXPECTED',
      `The certificate's subject CN is ${cn}, but ${others}; this client expects ${type.label} SAN ${expected}, and the CN is never used in its place.`,
    );
  }
  if (values.length === 0) {
    return refusal(
      mapping,
      'SAN_MISSING',
      `The certificate has no ${type.label} SAN; this client expects ${type.label} SAN ${expected}.`,
      `Issue the certificate with that SAN, or map the client by subject DN.`,
    );
  }
  const note = type.mismatchNote?.(values, mapping.canonical) ?? '';
  return refusal(mapping, 'SAN_MISMATCH', `The certificate's ${type.label} SANs are ${list(type.certificateValues(cert))}; this client expects ${expected}.${note}`);
}

function checkAnchor(mapping: CertificateMapping, context: MatchContext): MappingRefusal | undefined {
  const pinned = mapping.trustAnchorSpki;
  if (!pinned) return undefined;
  const name = mapping.trustAnchorName ? `${mapping.trustAnchorName} (${pinned})` : pinned;
  if (context.anchorSpki === undefined) {
    return refusal(mapping, 'TRUST_ANCHOR_UNKNOWN', `This mapping is pinned to the trust anchor ${name}, but the anchor the certificate chain ended at is unknown.`);
  }
  if (context.anchorSpki !== pinned) {
    return refusal(mapping, 'WRONG_TRUST_ANCHOR', `The certificate chain ends at the trust anchor ${context.anchorSpki}; this mapping is pinned to ${name}.`);
  }
  return undefined;
}

function checkTime(mapping: CertificateMapping, now: Date): MappingRefusal | undefined {
  if (mapping.notBefore && now.getTime() < mapping.notBefore.getTime()) {
    return refusal(mapping, 'MAPPING_NOT_YET_VALID', `This mapping is valid from ${mapping.notBefore.toISOString()} (it is now ${now.toISOString()}).`);
  }
  if (mapping.notAfter && now.getTime() >= mapping.notAfter.getTime()) {
    return refusal(mapping, 'MAPPING_EXPIRED', `This mapping expired at ${mapping.notAfter.toISOString()} (it is now ${now.toISOString()}).`);
  }
  return undefined;
}

/** The subject DN or SAN comparison of the mapping's kind; MAPPING_INVALID for a kind certbound does not know. */
function checkIdentity(cert: ParsedCertificate, mapping: CertificateMapping): MappingRefusal | undefined {
  if (mapping.kind === 'subject_dn') return checkSubjectDn(cert, mapping);
  if (isSanKind(mapping.kind)) return checkSan(cert, mapping, mapping.kind);
  return refusal(mapping, 'MAPPING_INVALID', `The mapping ${mapping.id} has the unknown kind ${String((mapping as { kind: unknown }).kind)}.`);
}

function checkMapping(cert: ParsedCertificate, mapping: CertificateMapping, context: MatchContext): MappingRefusal | undefined {
  const time = checkTime(mapping, context.now);
  if (time) return time;
  if (typeof mapping.canonical !== 'string' || mapping.canonical === '') {
    return refusal(mapping, 'MAPPING_INVALID', `The mapping ${mapping.id} has no canonical value.`);
  }
  const identity = checkIdentity(cert, mapping);
  // Identity first: when both fail, the subject is the more useful thing to fix. SC-5 is still enforced.
  return identity ?? checkAnchor(mapping, context);
}

/** Each field of one mapping compared on its own (diagnosis): `undefined` where that field is satisfied. */
export interface MappingFieldComparison {
  /** Subject DN or SAN value (never the CN in place of a SAN). */
  identity: MappingRefusal | undefined;
  /** SC-5 trust-anchor pin. */
  trustAnchor: MappingRefusal | undefined;
  /** not_before / not_after window. */
  validity: MappingRefusal | undefined;
}

/**
 * Compares every field of one mapping with the certificate, with the same rules and reason codes as
 * {@link matchCertificateToClient} (which stops at the first failing field: validity, identity, anchor).
 */
export function compareMappingFields(cert: ParsedCertificate, mapping: CertificateMapping, context: MatchContext): MappingFieldComparison {
  const validity = checkTime(mapping, context.now);
  const identity =
    typeof mapping.canonical !== 'string' || mapping.canonical === ''
      ? refusal(mapping, 'MAPPING_INVALID', `The mapping ${mapping.id} has no canonical value.`)
      : checkIdentity(cert, mapping);
  return { identity, trustAnchor: checkAnchor(mapping, context), validity };
}

/**
 * Matches a parsed client certificate against the mappings registered for one client (the client is
 * identified by `client_id`, never inferred from the certificate, G-3). The first mapping that is
 * time-valid, satisfies its trust-anchor pin and whose identity matches wins:
 * - `subject_dn`: the whole canonical DN is equal (X-2, X-5..X-7), never just the CN;
 * - `san_*`: the registered canonical value is among the certificate's SANs of that type (MD-8), with no
 *   wildcard semantics and no fallback to the CN (MD-9, X-8).
 * Otherwise every mapping yields one coded reason (see {@link MAPPING_REASONS}).
 *
 * @example
 * const result = matchCertificateToClient(parseCertificate(pem), mappings, { now: new Date() });
 * if (!result.matched) log.info({ reasons: result.reasons }, 'certificate does not match the client');
 */
export function matchCertificateToClient(cert: ParsedCertificate, mappings: readonly CertificateMapping[], context: MatchContext): MatchResult {
  if (mappings.length === 0) {
    return { matched: false, reasons: [refusal(undefined, 'NO_MAPPINGS', 'This client has no certificate mappings.')] };
  }
  const reasons: MappingRefusal[] = [];
  for (const mapping of mappings) {
    const refused = checkMapping(cert, mapping, context);
    if (!refused) return { matched: true, mapping };
    reasons.push(refused);
  }
  return { matched: false, reasons };
}
