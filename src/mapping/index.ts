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
