import { CertboundError, type CertboundErrorOptions } from '../errors/index.js';

/** Stable codes of {@link ForwardedCertificateError}. */
export type ForwardedCertificateErrorCode =
  | 'ERR_FORWARDED_DUPLICATE'
  | 'ERR_FORWARDED_MALFORMED'
  | 'ERR_FORWARDED_TOO_LARGE'
  | 'ERR_FORWARDED_UNTRUSTED_PEER'
  | 'ERR_FORWARDED_HASH_MISMATCH';

/**
 * A proxy-forwarded client-certificate header that must not be used: sent by a peer that is not a
 * trusted proxy, repeated, oversized or not in the strict form of its format. Always HTTP 400: the
 * request is refused, never treated as "no certificate" (RFC 9440 §4 lets the backend reject).
 *
 * @example
 * try {
 *   extractForwardedCertificate(req, { format: 'rfc9440', trustedProxies: ['10.0.0.0/8'] });
 * } catch (err) {
 *   if (err instanceof ForwardedCertificateError) console.warn(err.code, err.message); // ERR_FORWARDED_UNTRUSTED_PEER …
 * }
 */
export class ForwardedCertificateError extends CertboundError {
  declare readonly code: ForwardedCertificateErrorCode;

  constructor(code: ForwardedCertificateErrorCode, message: string, options: CertboundErrorOptions = {}) {
    super(code, message, { status: 400, expose: true, ...options });
  }
}
