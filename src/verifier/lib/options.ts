/** The checks `createVerifier` runs on its options, once: a `TypeError` names the option that is wrong. */
import type { JSONWebKeySet } from 'jose';
import { createForwardedCertificateExtractor } from '../../forwarded/extract.js';
import { x5tS256 } from '../../pki/thumbprint.js';
import type { CertificateSource, IntrospectionOptions, VerifierOptions } from '../types.js';
import type { VerifiableRequest } from './bearer.js';
import { type PeerCertificate, peerCertificateOf } from './peer-certificate.js';

const DEFAULT_ALGORITHMS = ['ES256', 'PS256', 'RS256', 'EdDSA'];
const ASYMMETRIC = /^(?:RS|PS|ES)(?:256|384|512)$|^ES256K$|^EdDSA$|^Ed25519$|^ML-DSA-(?:44|65|87)$/;

export function checkHttpsUrl(value: unknown, option: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`${option} must be an absolute URL`);
  }
  if (typeof value !== 'string' || url.protocol !== 'https:') throw new TypeError(`${option} must be an https URL`);
  return value;
}

export function checkIssuer(issuer: unknown): string {
  const value = checkHttpsUrl(issuer, 'issuer');
  const url = new URL(value);
  if (url.search || url.hash) throw new TypeError('issuer must not have a query or fragment (RFC 8414 §2)');
  return value;
}

export function checkAudience(audience: unknown): string | string[] {
  const list = Array.isArray(audience) ? audience : [audience];
  if (list.length === 0 || list.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  return Array.isArray(audience) ? [...(audience as string[])] : (audience as string);
}

export function checkAlgorithms(algorithms: unknown): string[] {
  const list = algorithms === undefined ? DEFAULT_ALGORITHMS : algorithms;
  if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== 'string' || !ASYMMETRIC.test(a))) {
    throw new TypeError('algorithms must be a non-empty list of asymmetric JWS algorithms (no HS*, no none)');
  }
  return [...list];
}

export function checkNonNegative(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${option} must be a non-negative number`);
  return value;
}

export function checkScopes(scopes: unknown, option: string): string[] {
  if (scopes === undefined) return [];
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new TypeError(`${option} must be an array of RFC 6749 scope tokens`);
  }
  return [...scopes];
}

export function checkIntrospection(introspection: IntrospectionOptions | undefined): IntrospectionOptions | undefined {
  if (introspection === undefined) return undefined;
  if (typeof introspection.clientId !== 'string' || !introspection.clientId) throw new TypeError('introspection.clientId is required');
  const hasTls = 'tls' in introspection && introspection.tls !== undefined;
  const hasSecret = 'clientSecret' in introspection && introspection.clientSecret !== undefined;
  if (hasTls === hasSecret) throw new TypeError('introspection needs exactly one of tls (mTLS) or clientSecret');
  if (hasTls && (!introspection.tls.cert || !introspection.tls.key)) throw new TypeError('introspection.tls needs cert and key');
  checkNonNegative(introspection.cacheMaxAge, 0, 'introspection.cacheMaxAge');
  checkNonNegative(introspection.inactiveCacheMaxAge, 0, 'introspection.inactiveCacheMaxAge');
  return introspection;
}

function withThumbprint(der: Buffer | undefined): PeerCertificate | undefined {
  return der ? { der, x5t: x5tS256(der) } : undefined;
}

/** The certificate source as a function from a request to its client certificate (with its thumbprint). */
export function checkCertificateSource(source: CertificateSource | undefined): (req: VerifiableRequest) => PeerCertificate | undefined {
  if (source === undefined || source.from === 'tls') return peerCertificateOf;
  if (source.from === 'forwarded') {
    const { from: _from, ...options } = source;
    const extract = createForwardedCertificateExtractor(options);
    return (req) => withThumbprint(extract(req as Parameters<typeof extract>[0])?.der);
  }
  if (source.from === 'custom' && typeof source.get === 'function') {
    const get = source.get;
    return (req) => withThumbprint(get(req));
  }
  throw new TypeError("certificate.from must be 'tls', 'forwarded' or 'custom' (with get)");
}

/** A given key set (or key-set function) as a function that reads the current set; undefined when keys are fetched. */
export function checkKeySet(keySet: VerifierOptions['keySet'], jwksUri: string | undefined): (() => JSONWebKeySet) | undefined {
  if (keySet === undefined) return undefined;
  if (jwksUri !== undefined) throw new TypeError('keySet and jwksUri are exclusive: give the keys or where to fetch them');
  const read = typeof keySet === 'function' ? keySet : () => keySet;
  if (typeof keySet !== 'function' && (!keySet || !Array.isArray(keySet.keys))) throw new TypeError('keySet must be a JWK Set ({ keys: [...] }) or a function returning one');
  return read;
}
