/** The error every certificate, DER and DN decoding failure in pki/ is: a 400 with a code and a hint. */
import { CertboundError } from '../errors/index.js';

/** The hint for a certificate that no standard issuing tool would have produced. */
export const REISSUE = 'The certificate is malformed; reissue it with a standard tool (OpenSSL, step-ca, cfssl, a managed CA).';

export function certificateError(code: string, message: string, hint: string, extra: { cause?: unknown; details?: Record<string, unknown> } = {}): CertboundError {
  return new CertboundError(code, message, { status: 400, hint, ...extra });
}
