import { checkLength, parseSinglePem, percentDecode } from './lib/der.js';
import { type ForwardedLimits, resolveLimits } from './lib/limits.js';
import type { ForwardedCertificate } from './types.js';

/**
 * Parses nginx `$ssl_client_escaped_cert`: the URL-encoded PEM of the leaf. Decoded with
 * `decodeURIComponent` (never form decoding, which would turn `+` into a space), then strict PEM:
 * exactly one block, no trailing garbage.
 *
 * @example
 * // nginx: proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
 * const { der } = parseNginxEscapedCert('-----BEGIN%20CERTIFICATE-----%0AMIIB…%0A-----END%20CERTIFICATE-----%0A');
 */
export function parseNginxEscapedCert(value: string, limits?: Partial<ForwardedLimits>): ForwardedCertificate {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'nginx escaped certificate');
  const pem = percentDecode(value, 'nginx escaped certificate');
  return { der: parseSinglePem(pem, resolved, 'nginx escaped certificate'), chain: [] };
}
