/** Named-only barrel of `mapping/`: registered client mappings vs a parsed certificate. */
export {
  type CertificateMapping,
  compareMappingFields,
  isMappingValidAt,
  type MappingFieldComparison,
  type MappingRefusal,
  type MatchContext,
  type MatchResult,
  matchCertificateToClient,
} from './match.js';
export { MAPPING_REASONS, type MappingReasonCode } from './reasons.js';
export {
  type CertificateNames,
  isMappingKind,
  isSanKind,
  MAPPING_KIND_DEFINITIONS,
  MAPPING_KIND_FLAGS,
  MAPPING_KIND_PARAMETER,
  MAPPING_KINDS,
  type MappingKind,
  type MappingKindDefinition,
  MATCH_KINDS,
  SAN_KINDS,
  type SanKind,
  sanKindOfGeneralNameTag,
} from './kinds.js';
