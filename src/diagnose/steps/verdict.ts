/** The verdict: would the certificate authenticate, and if not, the one reason a person reads first. */
import type { ParsedCertificate } from '../../pki/index.js';
import { DIAGNOSIS_CODES, type DiagnosisCode } from '../reasons.js';
import type { ClientDiagnosis, ClientMatch, DiagnosisClient, DiagnosisFinding } from '../types.js';

/**
 * What does not matter for a self-signed certificate that no client registered: the chain and the
 * tls_client_auth leaf rules, which self_signed_tls_client_auth does not apply (docs/x509-policy.md).
 */
const SELF_SIGNED_IRRELEVANT = new Set<DiagnosisCode>([
  'UNTRUSTED_ROOT',
  'EKU_NOT_CLIENT_AUTH',
  'EKU_MISSING',
  'LEAF_IS_CA',
  'LEAF_NOT_V3',
  'KEY_USAGE_NO_DIGITAL_SIGNATURE',
  'UNKNOWN_CRITICAL_EXTENSION',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

export interface VerdictInput {
  leaf: ParsedCertificate;
  leafSelfSigned: boolean;
  /** The named client's diagnosis, when a client id was given: its verdict is the verdict. */
  client: ClientDiagnosis | null;
  authenticatesAs: ClientMatch[];
  mappedBy: ClientMatch[];
  blocking: DiagnosisFinding[];
  clients: readonly DiagnosisClient[];
  /** Whether the caller gave clients at all (an empty list is "none registered", absent is "none given"). */
  clientsGiven: boolean;
}

export function verdict(input: VerdictInput): { wouldAuthenticate: boolean; code: DiagnosisCode | null; message: string; hint: string | null } {
  const { leaf, client, authenticatesAs, mappedBy, blocking, clients } = input;
  if (client) return { wouldAuthenticate: client.would_authenticate, code: client.code, message: client.message, hint: client.hint };
  if (authenticatesAs.length > 0) {
    return { wouldAuthenticate: true, code: null, message: `The certificate authenticates as ${authenticatesAs.map((m) => m.client_id).join(', ')}.`, hint: null };
  }
  if (input.leafSelfSigned && blocking.every((f) => SELF_SIGNED_IRRELEVANT.has(f.code))) {
    return {
      wouldAuthenticate: false,
      code: 'SELF_SIGNED_NOT_REGISTERED',
      message: `The certificate is self-signed and no self_signed_tls_client_auth client has it registered (x5t#S256 ${leaf.x5t}).`,
      hint: DIAGNOSIS_CODES.SELF_SIGNED_NOT_REGISTERED,
    };
  }
  if (blocking[0]) return { wouldAuthenticate: false, code: blocking[0].code, message: blocking[0].message, hint: blocking[0].hint };
  const mapped = mappedBy.filter((m) => m.code);
  const message = mapped.length
    ? `No client authenticates with this certificate now: ${mapped.map((m) => `${m.client_id} (mapping ${m.mapping_id}: ${m.code})`).join('; ')}.`
    : clients.length || input.clientsGiven
      ? 'No registered client has a mapping for this certificate.'
      : 'No clients were given to compare with.';
  return { wouldAuthenticate: false, code: 'NO_MATCHING_CLIENT', message, hint: DIAGNOSIS_CODES.NO_MATCHING_CLIENT };
}
