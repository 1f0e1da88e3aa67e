/**
 * Why a certificate did not match a client mapping: stable codes with a default hint each, so the server,
 * the audit log and later diagnosis code speak the same language (STYLE habit 2).
 */
import { MAPPING_KIND_PARAMETER, MAPPING_KINDS } from './kinds.js';

/** The metadata members of the kinds for a hint, their shared prefix said once after the first. */
const MEMBERS = MAPPING_KINDS.map((k, i) => (i === 0 ? MAPPING_KIND_PARAMETER[k] : MAPPING_KIND_PARAMETER[k].slice('tls_client_auth'.length)));

export type MappingReasonCode =
  | 'NO_MAPPINGS'
  | 'MAPPING_NOT_YET_VALID'
  | 'MAPPING_EXPIRED'
  | 'MAPPING_INVALID'
  | 'SUBJECT_DN_MISMATCH'
  | 'SUBJECT_DN_ORDER_REVERSED'
  | 'SAN_MISSING'
  | 'SAN_MISMATCH'
  | 'CN_MATCHES_BUT_SAN_EXPECTED'
  | 'WRONG_TRUST_ANCHOR'
  | 'TRUST_ANCHOR_UNKNOWN';

/** Code → default hint (what a person should do next). */
export const MAPPING_REASONS: Readonly<Record<MappingReasonCode, string>> = Object.freeze({
  NO_MAPPINGS: `Register the client certificate subject: exactly one of ${MEMBERS.slice(0, -1).join(', ')} or ${MEMBERS.at(-1)}.`,
  MAPPING_NOT_YET_VALID: 'Wait until the mapping becomes valid, or correct its not-before time.',
  MAPPING_EXPIRED: 'Extend the mapping or register a new one for the certificate the client now uses.',
  MAPPING_INVALID: 'Re-register the mapping; its stored value could not be read.',
  SUBJECT_DN_MISMATCH:
    'Register the certificate subject exactly as shown (RFC 4514: most specific RDN first, the whole DN, not just the CN), or issue the certificate with the registered subject.',
  SUBJECT_DN_ORDER_REVERSED:
    'RFC 4514 lists the most specific RDN (usually CN) first; OpenSSL oneline, Node and some libraries print the reverse. Register the DN in RFC 4514 order.',
  SAN_MISSING: 'Issue the certificate with the expected subjectAltName entry, or map the client by subject DN instead.',
  SAN_MISMATCH: 'Register one of the certificate SAN values exactly, or issue the certificate with the registered value. Wildcards are never expanded.',
  CN_MATCHES_BUT_SAN_EXPECTED:
    'The subject CN is never used in place of a SAN (RFC 8705 §2.1.2). Issue the certificate with this value as a subjectAltName, or map the client by subject DN.',
  WRONG_TRUST_ANCHOR: 'Issue the client certificate from the CA this mapping is pinned to, or change the pinned trust anchor.',
  TRUST_ANCHOR_UNKNOWN: 'The mapping is pinned to a trust anchor, but the chain was not validated up to a known anchor; make sure the chain is validated by the server or a trusted proxy that reports the anchor.',
});
