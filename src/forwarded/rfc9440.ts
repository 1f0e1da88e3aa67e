import { ForwardedCertificateError } from './errors.js';
import { checkLength, decodeStrictBase64, requireCertificateDer } from './lib/der.js';
import { type ForwardedLimits, resolveLimits } from './lib/limits.js';
import type { ForwardedCertificate } from './types.js';

const BYTE_SEQUENCE = /^:([^:]*):$/;

function parseByteSequence(item: string, limits: ForwardedLimits, what: string): Buffer {
  const match = BYTE_SEQUENCE.exec(item);
  if (!match) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} is not a Structured Fields byte sequence (":base64:")`, {
      hint: 'RFC 9440: the value is ":" + base64(DER) + ":", one certificate, no parameters',
    });
  }
  const body = match[1] ?? '';
  if (body.length === 0) throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} is an empty byte sequence`);
  if (body.includes('-----')) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} contains PEM armor; RFC 9440 carries base64 DER only`);
  }
  return requireCertificateDer(decodeStrictBase64(body, what), limits, what);
}

/**
 * Parses an RFC 9440 `Client-Cert` field value: one SF byte sequence, standard base64 with canonical
 * padding, holding exactly one DER certificate. A list, PEM armor, whitespace, base64url characters or
 * `::` are refused.
 *
 * @example
 * const { der } = parseClientCert(':MIIBqDCCAU6gAwIBAgIBBzAK…VoU4hBVZ1yhk=:');
 * x5tS256(der); // 'v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes' for the RFC 9440 Appendix A certificate
 */
export function parseClientCert(value: string, limits?: Partial<ForwardedLimits>): ForwardedCertificate {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'Client-Cert');
  if (value.includes(',')) {
    throw new ForwardedCertificateError('ERR_FORWARDED_DUPLICATE', 'Client-Cert holds a list; it must be a single byte sequence');
  }
  return { der: parseByteSequence(value, resolved, 'Client-Cert'), chain: [] };
}

/**
 * Parses an RFC 9440 `Client-Cert-Chain` field value (an SF list of byte sequences, in TLS order,
 * without the leaf). Several field lines must be joined with `", "` before calling.
 *
 * @example
 * const intermediates = parseClientCertChain(':MIIB…:, :MIIC…:'); // Buffer[]
 */
export function parseClientCertChain(value: string, limits?: Partial<ForwardedLimits>): Buffer[] {
  const resolved = resolveLimits(limits);
  checkLength(value, resolved, 'Client-Cert-Chain');
  const items = value.split(/[ \t]*,[ \t]*/);
  if (items.length > resolved.maxChainLength) {
    throw new ForwardedCertificateError('ERR_FORWARDED_TOO_LARGE', `Client-Cert-Chain holds more than ${resolved.maxChainLength} certificates`);
  }
  return items.map((item, index) => parseByteSequence(item, resolved, `Client-Cert-Chain item ${index + 1}`));
}
