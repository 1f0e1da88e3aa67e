import { checkLength, parsePemCertificates, parseSinglePem, percentDecode } from './lib/der.js';
import { type ForwardedLimits, resolveLimits } from './lib/limits.js';
import type { ForwardedCertificate } from './types.js';

/**
 * Parses AWS ALB verify-mode `X-Amzn-Mtls-Clientcert-Leaf`: URL-encoded PEM of the leaf (`+`, `=`, `/`
 * left literal). The ALB validated the chain against its trust store in this mode, so the result is
 * marked `verified: true`; choosing this parser is how the listener mode is pinned.
 *
 * @example
 * const { der, verified } = parseAlbLeaf(req.headers['x-amzn-mtls-clientcert-leaf'] as string); // verified === true
 */
export function parseAlbLeaf(value: string, limits?: Partial<ForwardedLimits>): ForwardedCertificate {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'X-Amzn-Mtls-Clientcert-Leaf');
  const pem = percentDecode(value, 'X-Amzn-Mtls-Clientcert-Leaf');
  return { der: parseSinglePem(pem, resolved, 'X-Amzn-Mtls-Clientcert-Leaf'), chain: [], verified: true };
}

/**
 * Parses AWS ALB passthrough-mode `X-Amzn-Mtls-Clientcert`: URL-encoded PEM of the whole chain, leaf
 * first. The ALB did not validate anything in this mode (no `verified`).
 *
 * @example
 * const { der, chain } = parseAlbPassthrough(req.headers['x-amzn-mtls-clientcert'] as string);
 */
export function parseAlbPassthrough(value: string, limits?: Partial<ForwardedLimits>): ForwardedCertificate {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'X-Amzn-Mtls-Clientcert');
  const pem = percentDecode(value, 'X-Amzn-Mtls-Clientcert');
  const [der, ...chain] = parsePemCertificates(pem, resolved, 'X-Amzn-Mtls-Clientcert');
  return { der: der!, chain };
}
