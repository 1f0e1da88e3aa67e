import { checkLength, decodeStrictBase64, requireCertificateDer } from './lib/der.js';
import { type ForwardedLimits, resolveLimits } from './lib/limits.js';
import type { ForwardedCertificate } from './types.js';

/**
 * Parses a header holding plain standard base64 of one DER certificate, as HAProxy produces with
 * `%[ssl_c_der,base64]`. Strict: no whitespace, no armor, canonical padding.
 *
 * @example
 * // HAProxy: http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }
 * const { der } = parseBase64Cert('MIIBqDCCAU6gAwIBAgIBBzAK…');
 */
export function parseBase64Cert(value: string, limits?: Partial<ForwardedLimits>): ForwardedCertificate {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'base64 certificate');
  return { der: requireCertificateDer(decodeStrictBase64(value, 'base64 certificate'), resolved, 'base64 certificate'), chain: [] };
}
