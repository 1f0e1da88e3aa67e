import { parseAlbLeaf, parseAlbPassthrough } from './alb.js';
import { parseBase64Cert } from './base64.js';
import { ForwardedCertificateError } from './errors.js';
import { headerValues, type RequestLike, singleHeader } from './lib/headers.js';
import { type ForwardedLimits, resolveLimits } from './lib/limits.js';
import { parseNginxEscapedCert } from './nginx.js';
import { createProxyTrust, type ProxyTrust } from './proxy-trust.js';
import { parseClientCert, parseClientCertChain } from './rfc9440.js';
import { parseTraefikCert } from './traefik.js';
import type { ForwardedCertificate } from './types.js';
import { parseXfcc } from './xfcc.js';

/** The proxy header formats understood by {@link extractForwardedCertificate}. */
export type ForwardedFormat = 'rfc9440' | 'nginx' | 'xfcc' | 'alb' | 'alb-passthrough' | 'traefik' | 'base64';

/** Default header name per format (matched case-insensitively, hyphens exactly). */
export const DEFAULT_FORWARDED_HEADERS: Readonly<Record<ForwardedFormat, string>> = Object.freeze({
  rfc9440: 'Client-Cert',
  nginx: 'X-SSL-Client-Cert',
  xfcc: 'X-Forwarded-Client-Cert',
  alb: 'X-Amzn-Mtls-Clientcert-Leaf',
  'alb-passthrough': 'X-Amzn-Mtls-Clientcert',
  traefik: 'X-Forwarded-Tls-Client-Cert',
  base64: 'X-SSL-Client-Cert',
});

export interface ForwardedCertificateOptions {
  /** How the proxy encodes the certificate. */
  format: ForwardedFormat;
  /** Header carrying the (leaf) certificate; default per format, see {@link DEFAULT_FORWARDED_HEADERS}. */
  header?: string;
  /** RFC 9440 only: header carrying the chain; default `Client-Cert-Chain`. */
  chainHeader?: string;
  /** Addresses/CIDRs of the proxies allowed to send the header (compared with the TCP peer only). */
  trustedProxies: readonly string[] | ProxyTrust;
  /** Size limits; defaults: 16 KiB per certificate, 10 certificates, 128 KiB per header. */
  limits?: Partial<ForwardedLimits>;
}

/** A prepared extractor: `(req) => certificate | undefined`, throwing {@link ForwardedCertificateError}. */
export type ForwardedCertificateExtractor = (req: RequestLike) => ForwardedCertificate | undefined;

const FORMATS = new Set<string>(Object.keys(DEFAULT_FORWARDED_HEADERS));

function checkHeaderName(name: string, option: string): string {
  if (typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new TypeError(`${option} must be an HTTP header name`);
  }
  return name;
}

/**
 * Validates the options once and returns an extractor to call per request (what the verifier and the
 * authorization server use). See {@link extractForwardedCertificate} for the behaviour.
 *
 * @example
 * const extract = createForwardedCertificateExtractor({ format: 'xfcc', trustedProxies: ['10.0.0.0/8'] });
 * const cert = extract(req); // { der, chain } | undefined; throws ForwardedCertificateError (400)
 */
export function createForwardedCertificateExtractor(options: ForwardedCertificateOptions): ForwardedCertificateExtractor {
  if (!options || !FORMATS.has(options.format)) {
    throw new TypeError(`format must be one of ${[...FORMATS].join(', ')}`);
  }
  const { format } = options;
  const trust = Array.isArray(options.trustedProxies) ? createProxyTrust(options.trustedProxies as readonly string[]) : (options.trustedProxies as ProxyTrust);
  if (!trust || typeof trust.isTrusted !== 'function') throw new TypeError('trustedProxies must be a list of addresses/CIDRs or a ProxyTrust');
  const limits = resolveLimits(options.limits);
  const header = checkHeaderName(options.header ?? DEFAULT_FORWARDED_HEADERS[format], 'header');
  const chainHeader = checkHeaderName(options.chainHeader ?? 'Client-Cert-Chain', 'chainHeader');
  // A header of the other ALB mode (or a lone RFC 9440 chain) means someone other than the pinned proxy mode wrote it.
  const companion =
    format === 'rfc9440' ? chainHeader : format === 'alb' ? DEFAULT_FORWARDED_HEADERS['alb-passthrough'] : format === 'alb-passthrough' ? DEFAULT_FORWARDED_HEADERS.alb : undefined;

  return (req) => {
    const values = headerValues(req, header);
    const companionValues = companion ? headerValues(req, companion) : [];
    if (values.length === 0 && companionValues.length === 0) return undefined;
    const peer = req.socket?.remoteAddress;
    if (!trust.isTrusted(peer)) {
      throw new ForwardedCertificateError('ERR_FORWARDED_UNTRUSTED_PEER', `${header} received from ${peer ?? 'an unknown peer'}, which is not a trusted proxy`, {
        hint: 'add the proxy address to trustedProxies, or make sure clients cannot reach this listener directly',
        details: { remoteAddress: peer, header },
      });
    }
    const value = singleHeader(req, header);
    if (value === undefined) {
      throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${companion} received without ${header}`);
    }
    switch (format) {
      case 'rfc9440': {
        const cert = parseClientCert(value, limits);
        if (companionValues.length === 0) return cert;
        const joined = companionValues.join(', ');
        return { ...cert, chain: parseClientCertChain(joined, limits) };
      }
      case 'alb':
      case 'alb-passthrough':
        if (companionValues.length > 0) {
          throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `both ${header} and ${companion} received; the ALB sends one per listener mode`);
        }
        return format === 'alb' ? parseAlbLeaf(value, limits) : parseAlbPassthrough(value, limits);
      case 'nginx':
        return parseNginxEscapedCert(value, limits);
      case 'xfcc':
        return parseXfcc(value, limits);
      case 'traefik':
        return parseTraefikCert(value, limits);
      case 'base64':
        return parseBase64Cert(value, limits);
    }
  };
}

/**
 * Reads the client certificate a trusted reverse proxy forwarded. Returns `undefined` when the request
 * carries no such header; throws {@link ForwardedCertificateError} (status 400) when the header comes
 * from a peer outside `trustedProxies` (`ERR_FORWARDED_UNTRUSTED_PEER`), is repeated
 * (`ERR_FORWARDED_DUPLICATE`, seen through `rawHeaders`), oversized (`ERR_FORWARDED_TOO_LARGE`) or not
 * strictly in its format (`ERR_FORWARDED_MALFORMED`). `X-Forwarded-For` is never consulted, and
 * underscore spellings of the header are ignored.
 *
 * @example
 * const cert = extractForwardedCertificate(req, { format: 'nginx', trustedProxies: ['127.0.0.1', '::1'] });
 * if (cert) console.log(x5tS256(cert.der));
 */
export function extractForwardedCertificate(req: RequestLike, options: ForwardedCertificateOptions): ForwardedCertificate | undefined {
  return createForwardedCertificateExtractor(options)(req);
}
