/**
 * Proxy-forwarded client certificates: strict parsers per proxy format and the trusted-peer check.
 * Depends only on node builtins, `src/errors` and nothing else, so both the authorization server and
 * `certbound/verifier` can use it.
 */
export { parseAlbLeaf, parseAlbPassthrough } from './alb.js';
export { parseBase64Cert } from './base64.js';
export { ForwardedCertificateError, type ForwardedCertificateErrorCode } from './errors.js';
export {
  createForwardedCertificateExtractor,
  DEFAULT_FORWARDED_HEADERS,
  extractForwardedCertificate,
  type ForwardedCertificateExtractor,
  type ForwardedCertificateOptions,
  type ForwardedFormat,
} from './extract.js';
export type { RequestLike } from './lib/headers.js';
export { DEFAULT_LIMITS, type ForwardedLimits } from './lib/limits.js';
export { parseNginxEscapedCert } from './nginx.js';
export { createProxyTrust, type ProxyTrust } from './proxy-trust.js';
export { parseClientCert, parseClientCertChain } from './rfc9440.js';
export { parseTraefikCert } from './traefik.js';
export type { ForwardedCertificate } from './types.js';
export { parseXfcc } from './xfcc.js';
