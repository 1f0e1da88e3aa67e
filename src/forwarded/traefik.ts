import { ForwardedCertificateError } from './errors.js';
import { checkLength, decodeStrictBase64, percentDecode, requireCertificateDer } from './lib/der.js';
import { type ForwardedLimits, resolveLimits } from './lib/limits.js';
import type { ForwardedCertificate } from './types.js';

/**
 * Parses Traefik `X-Forwarded-Tls-Client-Cert` (`passTLSClientCert.pem=true`): each certificate's PEM
 * body (armor and newlines removed, i.e. standard base64 DER), joined with `,`, leaf first. Traefik v3
 * sends it unescaped; older versions applied Go's `url.QueryEscape`, so a value containing `%` is
 * percent-decoded first (a literal `+` is then refused: QueryEscape would have written `%2B`).
 *
 * @example
 * const { der, chain } = parseTraefikCert('MIIBqDCC…,MIIC…'); // der = leaf, chain = [intermediate]
 */
export function parseTraefikCert(value: string, limits?: Partial<ForwardedLimits>): ForwardedCertificate {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'X-Forwarded-Tls-Client-Cert');
  let decoded = value;
  if (value.includes('%')) {
    if (value.includes('+')) {
      throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', 'X-Forwarded-Tls-Client-Cert mixes percent-encoding with a literal "+"');
    }
    decoded = percentDecode(value, 'X-Forwarded-Tls-Client-Cert');
  }
  const items = decoded.split(',');
  if (items.length > resolved.maxChainLength) {
    throw new ForwardedCertificateError('ERR_FORWARDED_TOO_LARGE', `X-Forwarded-Tls-Client-Cert holds more than ${resolved.maxChainLength} certificates`);
  }
  const ders = items.map((item, index) => {
    const what = `X-Forwarded-Tls-Client-Cert item ${index + 1}`;
    return requireCertificateDer(decodeStrictBase64(item, what), resolved, what);
  });
  const [der, ...chain] = ders;
  return { der: der!, chain };
}
