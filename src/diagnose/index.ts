/** Named-only barrel of `diagnose/`: one engine that explains why a certificate would (not) authenticate. */
export { buildChain, type ChainResult, type ChainStatusCode, type DiagnosisAnchor, MAX_CHAIN_CERTIFICATES } from './chain.js';
export {
  type AnchorRef,
  type ClientDiagnosis,
  type ClientMatch,
  type DiagnoseInput,
  type Diagnosis,
  type DiagnosisClient,
  type DiagnosisFinding,
  diagnoseCertificate,
  type MappingDiagnosis,
} from './diagnose.js';
export { formatDiagnosis } from './format.js';
export { candidateMappingKeys } from './candidates.js';
export { CERTIFICATE_CODE_PRECEDENCE, type CertificateReasonCode, type ClientReasonCode, DIAGNOSIS_CODES, type DiagnosisCode } from './reasons.js';
