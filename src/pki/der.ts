/**
 * A small DER reader for the checks @peculiar/asn1-schema does not make, and strict decoding of the ASN.1
 * string types: the framing of one element (definite lengths, no trailing bytes), the tag-length-value
 * walk the SAN and nameConstraints extensions need (their bytes stay raw), and the string types decoded
 * here, not by asn1js, which decodes UniversalString incorrectly and invalid UTF-8 leniently.
 *
 * asn1js is never imported directly: asn1-schema uses its own (nested) copy, and blocks built by another
 * copy fail its `instanceof` checks. Converters read asn1js blocks by property only ({@link AsnBlockView}).
 */
import { AsnParser } from '@peculiar/asn1-schema';
import { certificateError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Framing: tag, length, value

/** Tag classes as encoded in the top two bits of the identifier octet. */
export const TAG_CLASS = { universal: 0, application: 1, context: 2, private: 3 } as const;

export interface Tlv {
  tagClass: number;
  constructed: boolean;
  tagNumber: number;
  content: Uint8Array;
  /** The whole element. */
  der: Uint8Array;
}

/** Reads the element at `offset` (definite lengths only). */
export function readTlv(bytes: Uint8Array, offset = 0): { tlv: Tlv; end: number } | { problem: string } {
  let i = offset;
  const first = bytes[i++];
  if (first === undefined) return { problem: 'it is empty' };
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let n = 0; ; n++) {
      const b = bytes[i++];
      if (b === undefined || n >= 4) return { problem: 'a tag is truncated or too long' };
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
  }
  const lengthByte = bytes[i++];
  if (lengthByte === undefined) return { problem: 'a length is missing' };
  if (lengthByte === 0x80) return { problem: 'it uses a BER indefinite length, which DER does not allow' };
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const n = lengthByte & 0x7f;
    if (n > 4) return { problem: 'a length does not fit in 4 bytes' };
    length = 0;
    for (let k = 0; k < n; k++) {
      const b = bytes[i++];
      if (b === undefined) return { problem: 'a length is truncated' };
      length = length * 256 + b;
    }
  }
  const end = i + length;
  if (end > bytes.length) return { problem: `it is truncated (${end - bytes.length} byte(s) missing)` };
  return {
    tlv: { tagClass: first >> 6, constructed: (first & 0x20) !== 0, tagNumber, content: bytes.subarray(i, end), der: bytes.subarray(offset, end) },
    end,
  };
}

/** Requires `bytes` to be exactly one definite-length element, with no trailing bytes. */
export function readSingleElement(bytes: Uint8Array, what: string, code: string): Tlv {
  const read = readTlv(bytes);
  if ('problem' in read) {
    throw certificateError(code, `${what} is not valid DER: ${read.problem}.`, 'Check that the input is one complete DER encoding, not PEM text or something else.');
  }
  if (read.end !== bytes.length) {
    throw certificateError(code, `${what} has ${bytes.length - read.end} trailing byte(s) after the DER structure.`, 'Pass exactly one DER structure.');
  }
  return read.tlv;
}

/** Lowercase hex of some bytes, without copying them. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Strict string decoding

/** Universal tag numbers of the string types an attribute value may use. */
const TAG = {
  UTF8String: 12,
  NumericString: 18,
  PrintableString: 19,
  TeletexString: 20,
  IA5String: 22,
  VisibleString: 26,
  UniversalString: 28,
  BMPString: 30,
} as const;

const TAG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TAG).map(([k, v]) => [v, k]));

export type StringDecodeResult =
  | { ok: true; value: string }
  /** `kind` tells the caller which error code to use. */
  | { ok: false; kind: 'encoding' | 'control'; problem: string }
  /** Not a string type: compare the raw DER. */
  | { ok: false; kind: 'not-a-string' };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** C0 controls and DEL. Returns the first offending code point, or undefined. */
export function findControlCharacter(value: string): number | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return c;
  }
  return undefined;
}

export function describeCodePoint(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

function ascii(bytes: Uint8Array, typeName: string): StringDecodeResult {
  for (const b of bytes) {
    if (b > 0x7f) {
      return { ok: false, kind: 'encoding', problem: `${typeName} contains the non-ASCII byte 0x${b.toString(16).padStart(2, '0')}` };
    }
  }
  return { ok: true, value: String.fromCharCode(...bytes) };
}

/**
 * Decodes the content octets of a universal string type strictly:
 * UTF8String must be valid UTF-8; BMPString is UCS-2 big-endian (even length, no surrogates);
 * UniversalString is UCS-4 big-endian; TeletexString is accepted only when it is pure ASCII (its real
 * T.61 repertoire is decoded inconsistently by libraries, X-3); PrintableString, IA5String,
 * VisibleString and NumericString must be ASCII. The result is then checked for control characters.
 */
export function decodeStringValue(tag: number, bytes: Uint8Array): StringDecodeResult {
  const typeName = TAG_NAMES[tag];
  if (typeName === undefined) return { ok: false, kind: 'not-a-string' };
  let decoded: StringDecodeResult;
  switch (tag) {
    case TAG.UTF8String:
      try {
        decoded = { ok: true, value: UTF8.decode(bytes) };
      } catch {
        decoded = { ok: false, kind: 'encoding', problem: 'UTF8String is not valid UTF-8' };
      }
      break;
    case TAG.BMPString: {
      if (bytes.length % 2 !== 0) {
        decoded = { ok: false, kind: 'encoding', problem: `BMPString has an odd length (${bytes.length} bytes)` };
        break;
      }
      const units: number[] = [];
      let problem: string | undefined;
      for (let i = 0; i < bytes.length; i += 2) {
        const unit = (bytes[i]! << 8) | bytes[i + 1]!;
        if (unit >= 0xd800 && unit <= 0xdfff) {
          problem = 'BMPString contains a UTF-16 surrogate, which UCS-2 does not allow';
          break;
        }
        units.push(unit);
      }
      decoded = problem ? { ok: false, kind: 'encoding', problem } : { ok: true, value: String.fromCharCode(...units) };
      break;
    }
    case TAG.UniversalString: {
      if (bytes.length % 4 !== 0) {
        decoded = { ok: false, kind: 'encoding', problem: `UniversalString length (${bytes.length} bytes) is not a multiple of 4` };
        break;
      }
      const points: number[] = [];
      let problem: string | undefined;
      for (let i = 0; i < bytes.length; i += 4) {
        const cp = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          problem = `UniversalString contains an invalid code point 0x${cp.toString(16)}`;
          break;
        }
        points.push(cp);
      }
      decoded = problem ? { ok: false, kind: 'encoding', problem } : { ok: true, value: String.fromCodePoint(...points) };
      break;
    }
    default:
      decoded = ascii(bytes, typeName);
  }
  if (decoded.ok) {
    const control = findControlCharacter(decoded.value);
    if (control !== undefined) {
      return { ok: false, kind: 'control', problem: `contains the control character ${describeCodePoint(control)}` };
    }
  }
  return decoded;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing with an asn1-schema class

/** The parts of an asn1js block that converters read (by property: see the note at the top of this file). */
export interface AsnBlockView {
  idBlock: { tagClass: number; tagNumber: number; isConstructed: boolean };
  valueBlock: { valueHexView?: Uint8Array };
  valueBeforeDecodeView: Uint8Array;
}

/**
 * asn1js decodes BMPString and UniversalString while parsing and throws a bare RangeError when their
 * length is not a multiple of 2 or 4. This walk (used only to explain such a failure) finds the culprit.
 */
function findBadStringLength(bytes: Uint8Array, depth = 0): string | undefined {
  for (let offset = 0; offset < bytes.length && depth < 32; ) {
    const read = readTlv(bytes, offset);
    if ('problem' in read) return undefined;
    const { tlv } = read;
    if (tlv.tagClass === TAG_CLASS.universal && !tlv.constructed) {
      if (tlv.tagNumber === TAG.BMPString && tlv.content.length % 2 !== 0) return `BMPString has an odd length (${tlv.content.length} bytes)`;
      if (tlv.tagNumber === TAG.UniversalString && tlv.content.length % 4 !== 0) {
        return `UniversalString length (${tlv.content.length} bytes) is not a multiple of 4`;
      }
    }
    if (tlv.constructed) {
      const inner = findBadStringLength(tlv.content, depth + 1);
      if (inner) return inner;
    }
    offset = read.end;
  }
  return undefined;
}

/**
 * Parses one DER element with an asn1-schema class after checking its framing. Failures become
 * `code` (or `ERR_CERT_STRING_ENCODING` for the asn1js string-length crash, X-3).
 */
export function parseWithSchema<T>(bytes: Uint8Array, target: new () => T, what: string, code: string, hint: string): T {
  readSingleElement(bytes, what, code);
  try {
    return AsnParser.parse(bytes, target);
  } catch (cause) {
    const problem = findBadStringLength(bytes);
    if (problem && code.startsWith('ERR_CERT')) {
      throw certificateError(
        'ERR_CERT_STRING_ENCODING',
        `${what} contains a badly encoded string: ${problem}.`,
        'Reissue the certificate with UTF8String (or PrintableString for plain ASCII) name values.',
        { cause },
      );
    }
    throw certificateError(code, `${what} is malformed: ${(cause as Error).message}.`, hint, { cause });
  }
}
