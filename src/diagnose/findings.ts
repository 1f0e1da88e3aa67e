/** Certificate-level findings: how a step records one, and the order they are reported in. */
import { CERTIFICATE_CODE_PRECEDENCE, type CertificateReasonCode, DIAGNOSIS_CODES } from './reasons.js';
import type { DiagnosisFinding } from './types.js';

/** Records a finding; the hint defaults to the code's. */
export type AddFinding = (code: CertificateReasonCode, message: string, severity?: 'error' | 'warning', hint?: string) => void;

export function findingsCollector(findings: DiagnosisFinding[]): AddFinding {
  return (code, message, severity = 'error', hint) => {
    findings.push({ code, severity, message, hint: hint ?? DIAGNOSIS_CODES[code] });
  };
}

/** Most important first (errors before warnings, then by the token endpoint's precedence); stable within a code. */
export function sortFindings(findings: DiagnosisFinding[]): void {
  const rank = (f: DiagnosisFinding) => (f.severity === 'warning' ? 1000 : 0) + CERTIFICATE_CODE_PRECEDENCE.indexOf(f.code as CertificateReasonCode);
  findings.sort((a, b) => rank(a) - rank(b));
}
