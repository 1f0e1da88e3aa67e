/** Named-only barrel of `pki/`: certificate parsing, DN and SAN handling, thumbprints. */
export {
  type Ava,
  type DistinguishedName,
  type Rdn,
  attributeTypeName,
  attributeValues,
  canonicalDn,
  dnEquals,
  dnFromCertificateName,
  escapeRfc4514Value,
  formatOneline,
  formatRfc4514,
  isReversedOf,
  OID_COMMON_NAME,
  parseRfc4514,
} from './dn/index.js';
export {
  type MappingKind,
  type SanKind,
  canonicalizeCertificateSan,
  canonicalizeMappingValue,
  ipTextFromCanonical,
  MAPPING_KIND_PARAMETER,
  MAPPING_KINDS,
  SAN_KINDS,
  canonicalSanValues,
} from './san.js';
export { type ParsedCertificate, EKU_ANY, EKU_CLIENT_AUTH, extensionName, hasClientAuthEku, type KeyUsageName, parseCertificate } from './certificate.js';
export { CERTIFICATE_LIMITS } from './limits.js';
export { parsePemCertificates } from './pem.js';
export type { CertificateSans } from './san-extension.js';
export { type NameConstraint, type NameConstraints, nameConstraintViolation } from './name-constraints.js';
export { checkLeafPolicy, ekuNames, type LeafPolicyCode, type LeafPolicyOptions, type LeafPolicyViolation } from './leaf-policy.js';
export { hexDigestToX5tS256, isWellFormedX5tS256, sameWellFormedThumbprints, spkiSha256, thumbprintsEqual, x5tS256 } from './thumbprint.js';
export {
  type CrlStalePolicy,
  type RevocationMode,
  type RevocationStatus,
  type RevokedEntry,
  type VerifiedCrl,
  CRL_STALE_POLICIES,
  checkRevocation,
  crlToPem,
  decodeCrl,
  isCrlStale,
  MAX_CRL_BYTES,
  revocationMode,
  verifyCrl,
} from './crl.js';
export { MAX_CHAIN_CERTIFICATES } from './chain-length.js';
export { loadPkijs } from './pkijs.js';
