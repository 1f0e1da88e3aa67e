/**
 * Distinguished names: RFC 4514 text parsing, DER decoding of certificate names, and structural
 * comparison in the spirit of RFC 5280 §7.1 / RFC 4517 distinguishedNameMatch (PKI-4, MD-3, X-1..X-7).
 *
 * A `DistinguishedName` is always held in **ASN.1 order** (index 0 = first RDN in the certificate, the
 * least specific one, e.g. `C=US`). RFC 4514 strings list RDNs the other way round (X-5).
 *
 * Why not @peculiar/x509's `Name`: its string parser reads RDNs in the wrong order, rejects lowercase
 * attribute types and does not decode `\hh` escapes, and asn1js decodes UniversalString incorrectly and
 * invalid UTF-8 leniently (spec §5.1). So the DER is parsed with @peculiar/asn1-schema into raw string
 * bytes, and the bytes are decoded here, strictly.
 *
 * asn1js is never imported directly: asn1-schema uses its own (nested) copy, and blocks built by another
 * copy fail its `instanceof` checks. Converters below read asn1js blocks by property only, and the outer
 * framing checks (one element, no trailing bytes, definite lengths) use the small TLV reader here.
 */
import { AsnArray, AsnParser, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { CertboundError, InvalidInputError } from '../errors/index.js';

/** One attribute: `type` is a dotted OID; `value` the decoded text, or `undefined` when only `raw` is known. */
export type Ava = {
  type: string;
  value: string | undefined;
  /** DER of the value: for `#hex` values, for certificate values, and for values that are not strings. */
  raw?: Uint8Array;
};
export type Rdn = Ava[];
/** RDNs in ASN.1 order: the first element is the first RDN of the certificate's Name. */
export type DistinguishedName = Rdn[];

// ---------------------------------------------------------------------------------------------------------------
// Attribute types

/**
 * How values of an attribute type are compared (X-7, minimum viable RFC 4518 string preparation).
 * - `caseIgnore`: NFKC, trim, collapse inner whitespace, case-fold.
 * - `exact`: code-unit equality, no preparation at all.
 */
type MatchRule = 'caseIgnore' | 'exact';

interface AttributeType {
  oid: string;
  /** The first name is the one used when formatting. */
  names: readonly string[];
  match: MatchRule;
}

/**
 * Known attribute types. RFC 4514 §3 requires CN, L, ST, O, OU, C, STREET, DC, UID; the others are what
 * OpenSSL and common CAs print. `emailAddress` is case-folded as a whole: PKCS#9 (RFC 2985) defines its
 * equality as pkcs9CaseIgnoreMatch, so `Ops@Example.com` and `ops@example.com` are the same DN value
 * (unlike an rfc822Name SAN, whose local part is compared exactly, MD-7). `serialNumber` is compared
 * exactly (project decision, X-7).
 */
const ATTRIBUTE_TYPES: readonly AttributeType[] = [
  { oid: '2.5.4.3', names: ['CN', 'commonName'], match: 'caseIgnore' },
  { oid: '2.5.4.4', names: ['SN', 'surname'], match: 'caseIgnore' },
  { oid: '2.5.4.5', names: ['serialNumber'], match: 'exact' },
  { oid: '2.5.4.6', names: ['C', 'countryName'], match: 'caseIgnore' },
  { oid: '2.5.4.7', names: ['L', 'localityName'], match: 'caseIgnore' },
  { oid: '2.5.4.8', names: ['ST', 'stateOrProvinceName', 'S'], match: 'caseIgnore' },
  { oid: '2.5.4.9', names: ['STREET', 'streetAddress'], match: 'caseIgnore' },
  { oid: '2.5.4.10', names: ['O', 'organizationName'], match: 'caseIgnore' },
  { oid: '2.5.4.11', names: ['OU', 'organizationalUnitName'], match: 'caseIgnore' },
  { oid: '2.5.4.12', names: ['title'], match: 'caseIgnore' },
  { oid: '2.5.4.13', names: ['description'], match: 'caseIgnore' },
  { oid: '2.5.4.15', names: ['businessCategory'], match: 'caseIgnore' },
  { oid: '2.5.4.17', names: ['postalCode'], match: 'caseIgnore' },
  { oid: '2.5.4.41', names: ['name'], match: 'caseIgnore' },
  { oid: '2.5.4.42', names: ['GN', 'givenName', 'G'], match: 'caseIgnore' },
  { oid: '2.5.4.43', names: ['initials'], match: 'caseIgnore' },
  { oid: '2.5.4.44', names: ['generationQualifier'], match: 'caseIgnore' },
  { oid: '2.5.4.46', names: ['dnQualifier'], match: 'caseIgnore' },
  { oid: '2.5.4.65', names: ['pseudonym'], match: 'caseIgnore' },
  { oid: '2.5.4.97', names: ['organizationIdentifier'], match: 'caseIgnore' },
  { oid: '0.9.2342.19200300.100.1.25', names: ['DC', 'domainComponent'], match: 'caseIgnore' },
  { oid: '0.9.2342.19200300.100.1.1', names: ['UID', 'userId'], match: 'caseIgnore' },
  { oid: '1.2.840.113549.1.9.1', names: ['emailAddress', 'E', 'email'], match: 'caseIgnore' },
  { oid: '1.3.6.1.4.1.311.60.2.1.1', names: ['jurisdictionL', 'jurisdictionLocalityName'], match: 'caseIgnore' },
  { oid: '1.3.6.1.4.1.311.60.2.1.2', names: ['jurisdictionST', 'jurisdictionStateOrProvinceName'], match: 'caseIgnore' },
  { oid: '1.3.6.1.4.1.311.60.2.1.3', names: ['jurisdictionC', 'jurisdictionCountryName'], match: 'caseIgnore' },
];

const BY_OID = new Map(ATTRIBUTE_TYPES.map((t) => [t.oid, t]));
const BY_NAME = new Map(ATTRIBUTE_TYPES.flatMap((t) => t.names.map((n) => [n.toLowerCase(), t] as const)));

/** The display keyword of an attribute type (`CN`), or its dotted OID when unknown. */
export function attributeTypeName(oid: string): string {
  return BY_OID.get(oid)?.names[0] ?? oid;
}

// ---------------------------------------------------------------------------------------------------------------
// Strict string decoding (X-1, X-3)

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

/** C0 controls and DEL (X-1). Returns the first offending code point, or undefined. */
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
// DER → DistinguishedName

/** The parts of an asn1js block that converters read (by property: see the note at the top of the file). */
export interface AsnBlockView {
  idBlock: { tagClass: number; tagNumber: number; isConstructed: boolean };
  valueBlock: { valueHexView?: Uint8Array };
  valueBeforeDecodeView: Uint8Array;
}

/** What asn1-schema hands us for an attribute value: the asn1js block, kept undecoded (asn1js class numbering: 1 = universal). */
interface RawValue {
  tagClass: number;
  tagNumber: number;
  constructed: boolean;
  /** Content octets (for primitive encodings). */
  content: Uint8Array;
  /** The whole TLV. */
  der: Uint8Array;
}

const RawValueConverter = {
  fromASN: (value: unknown): RawValue => {
    const block = value as AsnBlockView;
    return {
      tagClass: block.idBlock.tagClass,
      tagNumber: block.idBlock.tagNumber,
      constructed: block.idBlock.isConstructed,
      content: block.valueBlock.valueHexView ?? new Uint8Array(0),
      der: block.valueBeforeDecodeView,
    };
  },
  toASN: (): never => {
    throw new TypeError('RawValue is read-only');
  },
};

/** `AttributeTypeAndValue` with the value kept as raw bytes (the string is decoded here, strictly). */
export class RawAttributeTypeAndValue {
  type = '';
  value!: RawValue;
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(RawAttributeTypeAndValue.prototype, 'type');
AsnProp({ type: AsnPropTypes.Any, converter: RawValueConverter })(RawAttributeTypeAndValue.prototype, 'value');

export class RawRelativeDistinguishedName extends AsnArray<RawAttributeTypeAndValue> {}
AsnType({ type: AsnTypeTypes.Set, itemType: RawAttributeTypeAndValue })(RawRelativeDistinguishedName);

/** `Name` (RDNSequence) whose values stay raw. Used by certificate.ts inside its TBSCertificate schema. */
export class RawName extends AsnArray<RawRelativeDistinguishedName> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: RawRelativeDistinguishedName })(RawName);

function certError(code: string, message: string, hint: string, cause?: unknown): CertboundError {
  return new CertboundError(code, message, { status: 400, hint, ...(cause === undefined ? {} : { cause }) });
}

/** Converts an asn1-schema `RawName` into a DistinguishedName, decoding every string strictly. */
export function dnFromRawName(name: RawName, label = 'subject'): DistinguishedName {
  const dn: DistinguishedName = [];
  for (const [rdnIndex, rdn] of name.entries()) {
    if (rdn.length === 0) {
      throw certError('ERR_CERT_PARSE', `The certificate ${label} has an empty RDN (#${rdnIndex + 1}).`, 'The certificate is malformed; reissue it.');
    }
    const out: Rdn = [];
    for (const ava of rdn) {
      out.push(avaFromRaw(ava, label));
    }
    dn.push(out);
  }
  return dn;
}

function avaFromRaw(ava: RawAttributeTypeAndValue, label: string): Ava {
  const { value, type } = ava;
  const raw = value.der;
  const where = `${label} attribute ${attributeTypeName(type)}`;
  if (value.tagClass !== 1 || value.constructed) {
    return { type, value: undefined, raw };
  }
  const decoded = decodeStringValue(value.tagNumber, value.content);
  if (decoded.ok) return { type, value: decoded.value, raw };
  if (decoded.kind === 'not-a-string') return { type, value: undefined, raw };
  if (decoded.kind === 'control') {
    throw certError(
      'ERR_CERT_CONTROL_CHARACTER',
      `The certificate ${where} ${decoded.problem}.`,
      'Names with NUL or other control characters are refused (RFC 8705 §7.5); reissue the certificate without them.',
    );
  }
  throw certError(
    'ERR_CERT_STRING_ENCODING',
    `The certificate ${where} is badly encoded: ${decoded.problem}.`,
    'Reissue the certificate with UTF8String (or PrintableString for plain ASCII) name values.',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Framing: a minimal TLV reader for the checks asn1-schema does not do.

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
    throw certError(code, `${what} is not valid DER: ${read.problem}.`, 'Check that the input is one complete DER encoding, not PEM text or something else.');
  }
  if (read.end !== bytes.length) {
    throw certError(code, `${what} has ${bytes.length - read.end} trailing byte(s) after the DER structure.`, 'Pass exactly one DER structure.');
  }
  return read.tlv;
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
      throw certError('ERR_CERT_STRING_ENCODING', `${what} contains a badly encoded string: ${problem}.`, 'Reissue the certificate with UTF8String (or PrintableString for plain ASCII) name values.', cause);
    }
    throw certError(code, `${what} is malformed: ${(cause as Error).message}.`, hint, cause);
  }
}

/**
 * Decodes the DER of an X.501 `Name` (e.g. a certificate's subject or issuer) into a DistinguishedName.
 * Throws `ERR_CERT_PARSE`, `ERR_CERT_STRING_ENCODING` (X-3) or `ERR_CERT_CONTROL_CHARACTER` (X-1).
 */
export function dnFromCertificateName(der: Uint8Array | ArrayBuffer): DistinguishedName {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  const name = parseWithSchema(bytes, RawName, 'The name', 'ERR_CERT_PARSE', 'Pass the DER of a Name (SEQUENCE OF SET OF AttributeTypeAndValue).');
  return dnFromRawName(name, 'name');
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 4514 text → DistinguishedName

const MAX_DN_TEXT = 8192;

function syntax(message: string, hint: string, details?: Record<string, unknown>): InvalidInputError {
  return new InvalidInputError('ERR_DN_SYNTAX', message, { hint, ...(details ? { details } : {}) });
}

const RFC4514_HINT = 'Write the DN as an RFC 4514 string, most specific RDN first, e.g. CN=client1,OU=Eng,O=Acme,C=US (escape , + " \\ < > ; as \\, and so on).';

/** Characters that may follow a backslash as themselves (RFC 4514 `special` plus `\`). */
const ESCAPABLE = new Set(['\\', '"', '+', ',', ';', '<', '>', ' ', '#', '=']);

function isHex(c: string | undefined): c is string {
  return c !== undefined && /^[0-9A-Fa-f]$/.test(c);
}

/** Suggests the RFC 4514 form of an OpenSSL oneline DN (`/C=US/O=Acme/CN=x` → `CN=x,O=Acme,C=US`). */
function suggestFromOneline(text: string): string | undefined {
  const parts = text.slice(1).split(/\/(?=(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)=)/);
  const rdns: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    rdns.push(`${part.slice(0, eq)}=${escapeRfc4514Value(part.slice(eq + 1))}`);
  }
  return rdns.reverse().join(',');
}

class Rfc4514Parser {
  private i = 0;
  constructor(private readonly text: string) {}

  private at(pos = this.i): string {
    return `at character ${pos + 1}`;
  }

  private skipSpaces(): void {
    while (this.text[this.i] === ' ') this.i++;
  }

  parse(): DistinguishedName {
    const rdns: DistinguishedName = [];
    for (;;) {
      rdns.push(this.parseRdn());
      this.skipSpaces();
      if (this.i >= this.text.length) break;
      const c = this.text[this.i];
      if (c === ',') {
        this.i++;
        this.skipSpaces();
        if (this.i >= this.text.length) {
          throw syntax(`Invalid DN: it ends with ',' ${this.at(this.i - 1)}.`, 'Remove the trailing comma, or escape it as \\, if it belongs to the value.');
        }
        continue;
      }
      if (c === ';') {
        throw syntax(`Invalid DN: ';' ${this.at()} is not an RDN separator in RFC 4514.`, 'Separate RDNs with commas; write a literal semicolon as \\;.');
      }
      throw syntax(`Invalid DN: unexpected '${c}' ${this.at()}.`, RFC4514_HINT);
    }
    // RFC 4514 §2.1: the rightmost RDN is the first one of the RDNSequence (X-5).
    return rdns.reverse();
  }

  private parseRdn(): Rdn {
    const rdn: Rdn = [this.parseAva()];
    for (;;) {
      this.skipSpaces();
      if (this.text[this.i] !== '+') return rdn;
      this.i++;
      rdn.push(this.parseAva());
    }
  }

  private parseAva(): Ava {
    this.skipSpaces();
    const type = this.parseType();
    this.skipSpaces();
    if (this.text[this.i] !== '=') {
      const got = this.i < this.text.length ? `'${this.text[this.i]}'` : 'the end of the text';
      throw syntax(`Invalid DN: expected '=' after the attribute type ${this.at()}, found ${got}.`, RFC4514_HINT);
    }
    this.i++;
    this.skipSpaces();
    return this.text[this.i] === '#' ? this.parseHexValue(type) : this.parseStringValue(type);
  }

  private parseType(): string {
    const start = this.i;
    const rest = this.text.slice(start);
    const m = /^(?:[Oo][Ii][Dd]\.)?(\d+(?:\.\d+)+)|^([A-Za-z][A-Za-z0-9-]*)/.exec(rest);
    if (!m) {
      const got = this.i < this.text.length ? `'${this.text[this.i]}'` : 'the end of the text';
      throw syntax(`Invalid DN: expected an attribute type (such as CN) ${this.at()}, found ${got}.`, RFC4514_HINT);
    }
    this.i += m[0].length;
    if (m[1] !== undefined) {
      if (m[1].split('.').some((arc) => arc.length > 1 && arc.startsWith('0'))) {
        throw syntax(`Invalid DN: the OID '${m[1]}' ${this.at(start)} has an arc with a leading zero.`, 'Write OID arcs without leading zeros, e.g. 2.5.4.3.');
      }
      return m[1];
    }
    const keyword = m[2]!;
    const known = BY_NAME.get(keyword.toLowerCase());
    if (!known) {
      throw syntax(`Invalid DN: unknown attribute type '${keyword}' ${this.at(start)}.`, `Use a standard keyword (CN, O, OU, L, ST, C, STREET, DC, UID, emailAddress, serialNumber, ...) or the dotted OID, e.g. 2.5.4.3=value.`);
    }
    return known.oid;
  }

  private parseHexValue(type: string): Ava {
    const start = this.i;
    this.i++; // '#'
    let hex = '';
    while (this.i < this.text.length && isHex(this.text[this.i])) hex += this.text[this.i++];
    const end = this.i;
    this.skipSpaces();
    const next = this.text[this.i];
    if (next !== undefined && next !== ',' && next !== '+') {
      throw syntax(`Invalid DN: '#' ${this.at(start)} starts a hex-encoded BER value, but '${next}' ${this.at()} is not a hex digit.`, 'A value starting with # must be # followed by the hex of a BER encoding; write a literal # as \\#.');
    }
    if (hex.length === 0 || hex.length % 2 !== 0) {
      throw syntax(`Invalid DN: the hex value ${this.at(start)} has ${hex.length} hex digits; it needs a positive, even number.`, 'Write a BER value as #<hex pairs>, e.g. #0c03616263; write a literal # as \\#.');
    }
    const raw = new Uint8Array(Buffer.from(hex, 'hex'));
    let element: Tlv;
    try {
      element = readSingleElement(raw, 'The #hex value', 'ERR_DN_SYNTAX');
    } catch (cause) {
      throw syntax(`Invalid DN: the #hex value ${this.at(start)}..${end} is not one complete BER element.`, 'Give the hex of the full BER encoding (tag, length and content), e.g. #0c03616263 for UTF8String "abc".', { cause: (cause as Error).message });
    }
    if (element.tagClass !== TAG_CLASS.universal || element.constructed) return { type, value: undefined, raw };
    const decoded = decodeStringValue(element.tagNumber, element.content);
    if (decoded.ok) return { type, value: decoded.value, raw };
    if (decoded.kind === 'not-a-string') return { type, value: undefined, raw };
    throw syntax(`Invalid DN: the #hex value ${this.at(start)} ${decoded.problem}.`, decoded.kind === 'control' ? 'Control characters (such as NUL) are never allowed in a DN value.' : 'Fix the encoded string.');
  }

  private parseStringValue(type: string): Ava {
    const start = this.i;
    const bytes: number[] = [];
    /** Length of `bytes` up to the last character that is not an unescaped space (trailing spaces are insignificant). */
    let significant = 0;
    let hadHexEscape = false;
    const encoder = new TextEncoder();
    while (this.i < this.text.length) {
      const c = this.text[this.i]!;
      if (c === ',' || c === '+') break;
      if (c === '\\') {
        const n1 = this.text[this.i + 1];
        const n2 = this.text[this.i + 2];
        if (isHex(n1) && isHex(n2)) {
          bytes.push(Number.parseInt(n1 + n2, 16));
          hadHexEscape = true;
          this.i += 3;
        } else if (n1 !== undefined && ESCAPABLE.has(n1)) {
          bytes.push(n1.charCodeAt(0));
          this.i += 2;
        } else {
          const what = n1 === undefined ? 'at the end of the text' : `before '${n1}'`;
          throw syntax(`Invalid DN: bad escape ${what} ${this.at()}.`, 'After a backslash write one of , + " \\ < > ; = # or a space, or two hex digits (\\2C is a comma, \\C3\\AB is ë).');
        }
        significant = bytes.length;
        continue;
      }
      if (c === '"' || c === '<' || c === '>' || c === ';') {
        const hint =
          c === '"'
            ? 'Quoted values are not RFC 4514; escape the special characters instead, e.g. O=Acme\\, Inc.'
            : c === ';'
              ? 'RFC 4514 separates RDNs with commas only; write a literal semicolon as \\;.'
              : `Escape it as \\${c}.`;
        throw syntax(`Invalid DN: unescaped '${c}' ${this.at()}.`, hint);
      }
      const cp = this.text.codePointAt(this.i)!;
      if (cp < 0x20 || cp === 0x7f) {
        throw syntax(`Invalid DN: the value ${this.at(start)} contains the control character ${describeCodePoint(cp)} ${this.at()}.`, 'Control characters (such as NUL) are never allowed in a DN value (RFC 8705 §7.5).');
      }
      const ch = String.fromCodePoint(cp);
      for (const b of encoder.encode(ch)) bytes.push(b);
      if (c !== ' ') significant = bytes.length;
      this.i += ch.length;
    }
    let value: string;
    try {
      value = UTF8.decode(new Uint8Array(bytes.slice(0, significant)));
    } catch {
      throw syntax(`Invalid DN: the \\hh escapes in the value ${this.at(start)} are not valid UTF-8.`, 'Hex escapes encode UTF-8 bytes: ë is \\C3\\AB, not \\EB.');
    }
    if (hadHexEscape) {
      const control = findControlCharacter(value);
      if (control !== undefined) {
        throw syntax(`Invalid DN: the value ${this.at(start)} contains the control character ${describeCodePoint(control)} (from a \\hh escape).`, 'Control characters (such as NUL) are never allowed in a DN value (RFC 8705 §7.5).');
      }
    }
    return { type, value };
  }
}

/**
 * Parses an RFC 4514 distinguished name (MD-3). The rightmost RDN becomes element 0 (X-5); attribute
 * type keywords are case-insensitive and dotted OIDs (optionally `OID.`-prefixed) are accepted (X-6);
 * `\,`-style and `\hh` escapes are decoded (hex pairs as UTF-8 bytes, X-4); `+` makes multi-valued RDNs;
 * `#hex` values keep their BER in `raw` and are decoded when they are strings.
 *
 * Leniency, documented: spaces around `,`, `+` and `=` and unescaped trailing spaces are ignored (as
 * RFC 2253 readers do); escape a space (`\ `) to keep it.
 *
 * Refused with `InvalidInputError('ERR_DN_SYNTAX')`: the empty string, OpenSSL's oneline form
 * (`/CN=a/O=b`, with a suggested RFC 4514 rewrite), `;` separators, quoted values, unknown keywords,
 * bad escapes, invalid UTF-8 and any control character (X-1).
 *
 * @example
 * parseRfc4514('CN=client1,O=Acme,C=US'); // [[{type:'2.5.4.6',value:'US'}], [{type:'2.5.4.10',...}], [{type:'2.5.4.3',...}]]
 */
export function parseRfc4514(text: string): DistinguishedName {
  if (typeof text !== 'string') throw new TypeError('parseRfc4514 expects a string');
  if (text.trim() === '') {
    throw syntax('Invalid DN: it is empty.', 'Give the subject DN as an RFC 4514 string, e.g. CN=client1,O=Acme,C=US.');
  }
  if (text.length > MAX_DN_TEXT) {
    throw syntax(`Invalid DN: it is ${text.length} characters long (limit ${MAX_DN_TEXT}).`, 'Register a shorter DN.');
  }
  if (/\p{Cs}/u.test(text)) {
    throw syntax('Invalid DN: it contains an unpaired UTF-16 surrogate.', 'Pass valid Unicode text.');
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('/')) {
    const suggestion = suggestFromOneline(trimmed);
    throw syntax(
      "Invalid DN: this looks like OpenSSL's oneline format (/C=../O=../CN=..), which is ambiguous and lists RDNs in certificate order.",
      `Use RFC 4514 instead: most specific RDN first, separated by commas, with commas in values escaped (CN=a\\,b,O=x)${suggestion ? `; here probably: ${suggestion}` : ''}.`,
    );
  }
  return new Rfc4514Parser(text).parse();
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical form and comparison (X-2, X-7)

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** RFC 4518-inspired preparation for caseIgnoreMatch: NFKC, trim, collapse whitespace, case-fold. */
function prepareCaseIgnore(value: string): string {
  // Whitespace is what RFC 4518 §2.2 maps to SPACE, the separators (Zs, Zl, Zp) only: JavaScript's \s
  // and trim() also take U+FEFF, a format character, so "a<U+FEFF>b" would have passed for "a b".
  const text = value
    .normalize('NFKC')
    .replace(/[\p{Zs}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/^ | $/g, '');
  // toUpperCase().toLowerCase() is Unicode full case folding (ß → SS → ss, ς → σ, ſ → s) without locale
  // rules, but for two letters, done here as folding does them (RFC 3454 table B.2, SC-6): dotless ı
  // (U+0131) has no folding, it is not i (upper-casing makes it I, and `CN=admın` would match `CN=admin`);
  // capital ẞ (U+1E9E) folds to ss like ß (the round trip leaves ß, and only ẞ can have left one).
  const folded = text
    .split('\u0131')
    .map((part) => part.toUpperCase().toLowerCase())
    .join('\u0131')
    .replace(/\u00df/g, 'ss');
  return folded.normalize('NFKC');
}

function canonicalValue(ava: Ava): string {
  if (ava.value === undefined) {
    if (!ava.raw) throw new TypeError(`attribute ${ava.type} has neither a value nor raw bytes`);
    return `#${toHex(ava.raw)}`;
  }
  const rule = BY_OID.get(ava.type)?.match ?? 'exact';
  const prepared = rule === 'caseIgnore' ? prepareCaseIgnore(ava.value) : ava.value;
  // Escaping keeps the canonical string injective: ',' separates RDNs, '+' AVAs, a leading '#' marks hex.
  return prepared.replace(/[\\,+]/g, (c) => `\\${c}`).replace(/^#/, '\\#');
}

function canonicalRdn(rdn: Rdn): string {
  return rdn
    .map((ava) => `${ava.type}=${canonicalValue(ava)}`)
    .sort()
    .join('+');
}

/**
 * The canonical form of a DN, used for equality and stored next to a registered `subject_dn`:
 * RDNs in **ASN.1 order** (not RFC 4514 order) separated by `,`, the AVAs of an RDN sorted and joined
 * by `+`, types as dotted OIDs, values prepared per X-7 (see {@link ATTRIBUTE_TYPES}): caseIgnore types
 * NFKC + trim + collapsed whitespace + case-fold; `serialNumber` and unknown types exact; values known
 * only as BER as `#` + lowercase hex. `\`, `,`, `+` and a leading `#` in values are backslash-escaped,
 * so two different DNs never share a canonical form.
 *
 * @example canonicalDn(parseRfc4514('CN=ACME  Client,C=US')) // '2.5.4.6=us,2.5.4.3=acme client'
 */
export function canonicalDn(dn: DistinguishedName): string {
  return dn.map(canonicalRdn).join(',');
}

/** Structural DN equality: same number of RDNs, same order, same set of AVAs per RDN, values per X-7. */
export function dnEquals(a: DistinguishedName, b: DistinguishedName): boolean {
  return a.length === b.length && canonicalDn(a) === canonicalDn(b);
}

/**
 * True when `a` is `b` with its RDNs in reverse order (and the two are not already equal): the usual
 * symptom of a DN copied from OpenSSL `oneline`, Node or @peculiar/x509 output instead of RFC 4514.
 */
export function isReversedOf(a: DistinguishedName, b: DistinguishedName): boolean {
  if (a.length < 2 || a.length !== b.length) return false;
  const ca = canonicalDn(a);
  return ca !== canonicalDn(b) && canonicalDn([...a].reverse()) === canonicalDn(b);
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

/** Escapes an attribute value for RFC 4514 (§2.4), and control characters as `\hh` for safety. */
export function escapeRfc4514Value(value: string): string {
  let out = '';
  const last = value.length - 1;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const code = c.charCodeAt(0);
    if ('\\"+,;<>'.includes(c) || ((c === ' ' || c === '#') && i === 0) || (c === ' ' && i === last)) {
      out += `\\${c}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += c;
    }
  }
  return out;
}

function formatAva(ava: Ava): string {
  const known = BY_OID.get(ava.type);
  // RFC 4514 §2.4: values of types without a keyword are written as #hex of their BER when we have it.
  if (ava.value === undefined || (!known && ava.raw)) {
    return `${ava.type}=#${toHex(ava.raw ?? new Uint8Array(0))}`;
  }
  return `${known?.names[0] ?? ava.type}=${escapeRfc4514Value(ava.value)}`;
}

/** RFC 4514 string: last RDN first, keywords where known, proper escaping. Round-trips through parseRfc4514. */
export function formatRfc4514(dn: DistinguishedName): string {
  return [...dn]
    .reverse()
    .map((rdn) => rdn.map(formatAva).join('+'))
    .join(',');
}

/** OpenSSL oneline style (`/C=US/O=Acme/CN=x`, certificate order), for display only: never parse it back. */
export function formatOneline(dn: DistinguishedName): string {
  return dn
    .map(
      (rdn) =>
        `/${rdn
          .map((ava) => {
            const value = ava.value === undefined ? `#${toHex(ava.raw ?? new Uint8Array(0))}` : ava.value.replace(/[\\/+]/g, (c) => `\\${c}`);
            return `${attributeTypeName(ava.type)}=${value}`;
          })
          .join('+')}`,
    )
    .join('');
}

/** The values of one attribute type, in ASN.1 order (e.g. all CNs). */
export function attributeValues(dn: DistinguishedName, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of dn) for (const ava of rdn) if (ava.type === oid && ava.value !== undefined) out.push(ava.value);
  return out;
}

export const OID_COMMON_NAME = '2.5.4.3';
