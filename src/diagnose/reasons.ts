/**
 * Every reason code the diagnosis can report, with the default hint (what to do next). Mapping codes come
 * from mapping/ unchanged; the token endpoint's refusal codes are the same strings (STYLE habit 2).
 */
import { MAPPING_REASONS, type MappingReasonCode } from '../mapping/index.js';

export type CertificateReasonCode =
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'EKU_NOT_CLIENT_AUTH'
  | 'EKU_MISSING'
  | 'LEAF_NOT_V3'
  | 'LEAF_IS_CA'
  | 'KEY_USAGE_NO_DIGITAL_SIGNATURE'
  | 'UNKNOWN_CRITICAL_EXTENSION'
  | 'INTERMEDIATE_MISSING'
  | 'UNTRUSTED_ROOT'
  | 'CHAIN_INVALID'
  | 'CHAIN_TOO_LONG'
  | 'REVOKED'
  | 'CRL_UNAVAILABLE'
  | 'CRL_STALE';

export type ClientReasonCode = 'CLIENT_UNKNOWN' | 'SELF_SIGNED_NOT_REGISTERED' | 'NO_MATCHING_CLIENT' | 'CLIENT_NOT_CERTIFICATE_AUTH' | 'CLIENT_ASSERTION_INVALID';

export type DiagnosisCode = CertificateReasonCode | ClientReasonCode | MappingReasonCode;

/** Code → default hint. */
export const DIAGNOSIS_CODES: Readonly<Record<DiagnosisCode, string>> = Object.freeze({
  ...MAPPING_REASONS,
  CERT_EXPIRED: 'Renew the certificate and deploy it on the client.',
  CERT_NOT_YET_VALID: 'Wait until the certificate becomes valid, or check the clocks of the CA and of this server.',
  EKU_NOT_CLIENT_AUTH: 'Reissue the certificate with Extended Key Usage clientAuth (1.3.6.1.5.5.7.3.2); anyExtendedKeyUsage alone does not count.',
  EKU_MISSING:
    'Reissue the certificate with Extended Key Usage clientAuth (1.3.6.1.5.5.7.3.2). Only for a legacy CA that never issues EKU: re-add its trust anchor with certbound trust add --allow-no-eku (admin API: allow_missing_eku).',
  LEAF_NOT_V3: 'Reissue the client certificate as X.509 version 3 with basicConstraints cA=FALSE, keyUsage digitalSignature and Extended Key Usage clientAuth.',
  LEAF_IS_CA: 'Use a client (end-entity) certificate: reissue it with basicConstraints cA=FALSE and without keyCertSign; a CA certificate never authenticates a client.',
  KEY_USAGE_NO_DIGITAL_SIGNATURE: 'Reissue the certificate with keyUsage digitalSignature (the client signs the TLS handshake with its key), or without a keyUsage extension.',
  UNKNOWN_CRITICAL_EXTENSION: 'Reissue the certificate without that critical extension, or mark it non-critical if the CA profile allows it.',
  INTERMEDIATE_MISSING: 'Configure the client to send its full chain (leaf followed by the intermediate CA), or pass it with --chain.',
  UNTRUSTED_ROOT: 'Use a certificate issued under one of the trust anchors (certbound trust list), or add its root CA with certbound trust add.',
  CHAIN_INVALID: 'The chain does not verify; reissue the certificate or send the correct intermediate.',
  CHAIN_TOO_LONG: 'Send only the leaf and its intermediates (at most 5 certificates); do not send the root.',
  REVOKED: 'The CA revoked this certificate; issue a new one for the client.',
  CRL_UNAVAILABLE: 'CRL checking is on, so every CA in the chain needs a current CRL: add the missing one with certbound trust crl add.',
  CRL_STALE: 'The CRL is past its nextUpdate; check that its source is reachable and that the CA still publishes it (certbound trust crl list).',
  CLIENT_UNKNOWN: 'Check the client_id, or list clients with certbound client list.',
  SELF_SIGNED_NOT_REGISTERED: 'Register this exact certificate for the client (self_signed_tls_client_auth), or use the registered one.',
  CLIENT_NOT_CERTIFICATE_AUTH:
    'Nothing to fix in the certificate: a token request of this client fails or succeeds on its client assertion (certbound client show ID lists its keys); the certificate only has to be the one it uses at the resource server.',
  CLIENT_ASSERTION_INVALID:
    'Check the client assertion: signed with a registered key (certbound client show ID), iss and sub = client_id, aud = the issuer identifier, exp set, a new jti for every request.',
  NO_MATCHING_CLIENT: 'Register a mapping for this certificate: certbound client mapping add ID --from-cert FILE --match subject-dn|san-dns|…',
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
