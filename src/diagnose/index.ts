/** Named-only barrel of `diagnose/`: one engine that explains why a certificate would (not) authenticate. */
export { buildChain, type ChainResult, type ChainStatusCode, type DiagnosisAnchor, MAX_CHAIN_CERTIFICATES } from './chain.js';
export { diagnoseCertificate } from './diagnose.js';
export type { AnchorRef, ClientDiagnosis, ClientMatch, DiagnoseInput, Diagnosis, DiagnosisClient, DiagnosisFinding, MappingDiagnosis, NearbyMapping, NearMiss } from './types.js';
export { formatDiagnosis } from './format.js';
export { candidateMappingKeys, type MappingKey, nearMissMappingKeys } from './candidates.js';
export { MAX_NEAR_MISSES } from './steps/near-misses.js';
export { CERTIFICATE_CODE_PRECEDENCE, type CertificateReasonCode, type ClientReasonCode, DIAGNOSIS_CODES, type DiagnosisCode } from './reasons.js';
