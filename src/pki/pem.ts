/**
 * PEM text to DER certificates, strictly: CERTIFICATE blocks only, each with a canonical base64 body
 * (Buffer.from alone accepts stray characters, missing padding and non-zero pad bits).
 */
import { readSingleElement } from './der.js';
import { certificateError } from './errors.js';
import { CERTIFICATE_LIMITS, checkCertificateSize } from './limits.js';

const BASE64_LINE = /^[A-Za-z0-9+/=]+$/;

interface PemOptions {
  /** Whether text outside the blocks (bundle comments) is tolerated. */
  allowText: boolean;
  what: string;
}

export function decodePem(text: string, options: PemOptions): Buffer[] {
  const blocks: Buffer[] = [];
  const lines = text.split(/\r?\n/);
  let body: string[] | undefined;
  let beginLine = 0;
  for (const [index, rawLine] of lines.entries()) {
    const lineNo = index + 1;
    const line = body === undefined ? rawLine.trim() : rawLine.replace(/[ \t]+$/, '');
    if (body === undefined) {
      if (line === '') continue;
      const begin = /^-----BEGIN ([A-Z0-9 #]+)-----$/.exec(line);
      if (begin) {
        if (begin[1] !== 'CERTIFICATE') {
          throw certificateError(
            'ERR_CERT_PARSE',
            `The ${options.what} contains a ${begin[1]} block (line ${lineNo}); only CERTIFICATE blocks are accepted.`,
            'Pass certificates only; never pass private keys here.',
          );
        }
        body = [];
        beginLine = lineNo;
        continue;
      }
      if (!options.allowText || line.includes('-----')) {
        throw certificateError(
          'ERR_CERT_PARSE',
          `The ${options.what} has unexpected text at line ${lineNo}, outside a BEGIN/END CERTIFICATE block.`,
          'Pass PEM text made of -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- blocks only.',
        );
      }
      continue;
    }
    if (line === '-----END CERTIFICATE-----') {
      blocks.push(decodeStrictBase64(body.join(''), options.what, beginLine));
      if (blocks.length > CERTIFICATE_LIMITS.maxBundleCertificates) {
        throw certificateError(
          'ERR_CERT_TOO_LARGE',
          `The ${options.what} has more than ${CERTIFICATE_LIMITS.maxBundleCertificates} certificates.`,
          'Split the bundle or remove unused certificates.',
        );
      }
      body = undefined;
      continue;
    }
    if (line.startsWith('-----')) {
      throw certificateError(
        'ERR_CERT_PARSE',
        `The ${options.what} has an unexpected PEM boundary at line ${lineNo} inside the certificate that starts at line ${beginLine}.`,
        'Each -----BEGIN CERTIFICATE----- needs its own -----END CERTIFICATE----- line.',
      );
    }
    if (!BASE64_LINE.test(line)) {
      throw certificateError(
        'ERR_CERT_PARSE',
        `The ${options.what} has a line that is not base64 at line ${lineNo} (inside the certificate that starts at line ${beginLine}).`,
        'The body of a PEM certificate is standard base64 only (A-Z a-z 0-9 + / =): no headers, no spaces, no URL-safe alphabet.',
      );
    }
    body.push(line);
  }
  if (body !== undefined) {
    throw certificateError(
      'ERR_CERT_PARSE',
      `The ${options.what} has a -----BEGIN CERTIFICATE----- at line ${beginLine} without a matching -----END CERTIFICATE-----.`,
      'The PEM text is truncated; pass the complete certificate.',
    );
  }
  return blocks;
}

function decodeStrictBase64(b64: string, what: string, beginLine: number): Buffer {
  const der = Buffer.from(b64, 'base64');
  // Buffer.from is lenient (stray '=', non-zero pad bits, missing padding): require a canonical round trip.
  if (b64.length === 0 || b64.length % 4 !== 0 || der.toString('base64') !== b64) {
    throw certificateError(
      'ERR_CERT_PARSE',
      `The ${what} has a certificate (line ${beginLine}) whose base64 body is not canonical base64.`,
      'Re-export the certificate as PEM; the body must be padded standard base64.',
    );
  }
  return der;
}

/**
 * Splits a PEM bundle (trust anchors, a chain) into DER certificates, in order. Strict: every block is a
 * CERTIFICATE with a canonical base64 body; comment lines outside blocks (as in CA bundles) are
 * tolerated, other PEM blocks (keys) are refused. Each DER must be one complete structure of at most
 * 16 KiB. Throws `ERR_CERT_PARSE` / `ERR_CERT_TOO_LARGE`.
 */
export function parsePemCertificates(text: string): Buffer[] {
  if (typeof text !== 'string') throw new TypeError('parsePemCertificates expects a string');
  if (text.length > CERTIFICATE_LIMITS.maxBundleCertificates * CERTIFICATE_LIMITS.maxCertificateBytes * 2) {
    throw certificateError('ERR_CERT_TOO_LARGE', 'The PEM bundle is too large.', 'Split the bundle or remove unused certificates.');
  }
  const ders = decodePem(text, { allowText: true, what: 'PEM bundle' });
  if (ders.length === 0) {
    throw certificateError('ERR_CERT_PARSE', 'The PEM bundle contains no certificate.', 'Pass one or more -----BEGIN CERTIFICATE----- blocks.');
  }
  for (const der of ders) {
    checkCertificateSize(der);
    readSingleElement(der, 'A certificate in the PEM bundle', 'ERR_CERT_PARSE');
  }
  return ders;
}

/**
 * The DER of one certificate given as PEM text (exactly one block) or as bytes (DER, or PEM read from a
 * file as bytes, with the same strictness).
 */
export function certificateDerOf(input: Uint8Array | string): Buffer {
  if (typeof input === 'string') {
    if (input.length > CERTIFICATE_LIMITS.maxCertificateBytes * 2) {
      throw certificateError(
        'ERR_CERT_TOO_LARGE',
        `The PEM text is ${input.length} characters; a certificate of at most ${CERTIFICATE_LIMITS.maxCertificateBytes} bytes fits in far less.`,
        'Issue a smaller certificate.',
      );
    }
    const ders = decodePem(input, { allowText: false, what: 'PEM text' });
    if (ders.length !== 1) {
      throw certificateError(
        'ERR_CERT_PARSE',
        ders.length === 0 ? 'The PEM text contains no certificate.' : `The PEM text contains ${ders.length} certificates; exactly one (the client certificate) is expected here.`,
        ders.length === 0 ? 'Pass one -----BEGIN CERTIFICATE----- block.' : 'Pass only the leaf certificate; chains go through parsePemCertificates.',
        { details: { count: ders.length } },
      );
    }
    return ders[0]!;
  }
  if (!(input instanceof Uint8Array)) throw new TypeError('parseCertificate expects PEM text or DER bytes');
  if (input.byteLength === 0) throw certificateError('ERR_CERT_PARSE', 'The certificate is empty.', 'Pass the DER or PEM of the client certificate.');
  if (input.byteLength > 10 && Buffer.from(input.subarray(0, 10)).toString('latin1') === '-----BEGIN') {
    return certificateDerOf(Buffer.from(input).toString('latin1'));
  }
  return Buffer.from(input);
}
