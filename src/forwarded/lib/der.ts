import { X509Certificate } from 'node:crypto';
import { ForwardedCertificateError } from '../errors.js';
import type { ForwardedLimits } from './limits.js';

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard-alphabet base64 with canonical padding and nothing else: no whitespace, no
 * base64url characters, no non-canonical final character (Node's decoder accepts all of those).
 */
export function decodeStrictBase64(value: string, what: string): Buffer {
  if (value.length === 0 || !STRICT_BASE64.test(value)) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} is not strict standard base64`, {
      hint: 'the value must be base64 (RFC 4648 §4, "+/" alphabet, "=" padding) of one DER certificate, without whitespace',
    });
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} is not canonical base64`);
  }
  return bytes;
}

/** Requires `der` to be exactly one DER certificate: parsable and without trailing bytes. */
export function requireCertificateDer(der: Buffer, limits: ForwardedLimits, what: string): Buffer {
  if (der.length > limits.maxCertificateBytes) {
    throw new ForwardedCertificateError('ERR_FORWARDED_TOO_LARGE', `${what} is larger than ${limits.maxCertificateBytes} bytes`);
  }
  // A DER certificate starts with a SEQUENCE tag; this also keeps PEM text (which X509Certificate would
  // happily parse) out.
  if (der[0] !== 0x30) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} is not a DER certificate`);
  }
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(der);
  } catch (cause) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} is not a parsable X.509 certificate`, { cause });
  }
  // X509Certificate ignores bytes after the certificate; refuse them (rule 2.0.9).
  if (Buffer.compare(parsed.raw, der) !== 0) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} has trailing bytes after the certificate`);
  }
  return der;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END CERTIFICATE-----(?:\r?\n|$)/y;

/**
 * Parses one or more concatenated PEM certificate blocks, strictly: nothing before, between or after
 * the blocks (a single final newline is allowed), body lines of base64 only, canonical base64.
 */
export function parsePemCertificates(pem: string, limits: ForwardedLimits, what: string): Buffer[] {
  const ders: Buffer[] = [];
  PEM_BLOCK.lastIndex = 0;
  while (PEM_BLOCK.lastIndex < pem.length) {
    const start = PEM_BLOCK.lastIndex;
    const match = PEM_BLOCK.exec(pem);
    if (!match) {
      throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} is not strict PEM (unexpected content at offset ${start})`, {
        hint: 'expected only "-----BEGIN CERTIFICATE-----" blocks with base64 lines',
      });
    }
    if (ders.length >= limits.maxChainLength) {
      throw new ForwardedCertificateError('ERR_FORWARDED_TOO_LARGE', `${what} holds more than ${limits.maxChainLength} certificates`);
    }
    const body = (match[1] ?? '').replace(/\r?\n/g, '');
    ders.push(requireCertificateDer(decodeStrictBase64(body, what), limits, what));
  }
  if (ders.length === 0) throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} holds no certificate`);
  return ders;
}

/** Exactly one PEM certificate block. */
export function parseSinglePem(pem: string, limits: ForwardedLimits, what: string): Buffer {
  const ders = parsePemCertificates(pem, { ...limits, maxChainLength: Math.max(limits.maxChainLength, 2) }, what);
  if (ders.length !== 1) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} must hold exactly one PEM certificate, found ${ders.length}`);
  }
  return ders[0]!;
}

/** `decodeURIComponent`, never form decoding: `+` stays `+` (AWS ALB, nginx, Envoy). */
export function percentDecode(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch (cause) {
    throw new ForwardedCertificateError('ERR_FORWARDED_MALFORMED', `${what} has an invalid percent-encoding`, { cause });
  }
}

export function checkLength(value: string, limits: ForwardedLimits, what: string): void {
  if (value.length > limits.maxHeaderLength) {
    throw new ForwardedCertificateError('ERR_FORWARDED_TOO_LARGE', `${what} is longer than ${limits.maxHeaderLength} characters`);
  }
}
