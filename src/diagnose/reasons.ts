/**
 * Every reason code the diagnosis can report, with the default hint (what to do next). The codes and
 * their hints are defined in the error catalog (src/errors/catalog/refusals.ts and mapping.ts); the token
 * endpoint's refusal codes are the same strings (STYLE habit 2).
 */
import { hintsOf } from '../errors/catalog/entry.js';
import { CERTIFICATE_REASON_CODES, type CertificateReasonCode, CLIENT_REASON_CODES, type ClientReasonCode } from '../errors/catalog/refusals.js';
import { MAPPING_REASONS, type MappingReasonCode } from '../mapping/index.js';

export type { CertificateReasonCode, ClientReasonCode };

export type DiagnosisCode = CertificateReasonCode | ClientReasonCode | MappingReasonCode;

/** Code → default hint. */
export const DIAGNOSIS_CODES: Readonly<Record<DiagnosisCode, string>> = Object.freeze({
  ...MAPPING_REASONS,
  ...hintsOf(CERTIFICATE_REASON_CODES),
  ...hintsOf(CLIENT_REASON_CODES),
});

/**
 * Certificate-level codes that refuse every tls_client_auth client. When several apply, the first one here
 * is the primary code: OpenSSL reports the last error it met (chain building, then extensions, then
 * revocation, then signatures and validity), and the token endpoint reports what OpenSSL reports.
 */
export const CERTIFICATE_CODE_PRECEDENCE: readonly CertificateReasonCode[] = Object.freeze([
  'CHAIN_TOO_LONG',
  // The leaf policy (H15-4) comes before any chain verdict at the token endpoint, on every path.
  'LEAF_NOT_V3',
  'LEAF_IS_CA',
  'EKU_NOT_CLIENT_AUTH',
  'KEY_USAGE_NO_DIGITAL_SIGNATURE',
  'UNKNOWN_CRITICAL_EXTENSION',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CHAIN_INVALID',
  'REVOKED',
  'CRL_STALE',
  'CRL_UNAVAILABLE',
  'INTERMEDIATE_MISSING',
  'UNTRUSTED_ROOT',
  // Waivable by the anchor, so decided once the chain ends at a known one.
  'EKU_MISSING',
]);
