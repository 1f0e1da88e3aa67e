/**
 * Parses a client certificate once into everything the server, the mapping rules and the diagnosis need
 * (the server caches the result by thumbprint). Parsing is strict: one PEM block with a canonical base64
 * body, one DER structure with no trailing bytes, size caps (X-10), one well-formed SAN extension (X-11),
 * no control characters in names (X-1) and strictly decoded strings (X-3).
 *
 * The DER is parsed once by @peculiar/asn1-schema (with its own asn1js); subject and issuer keep their raw
 * string bytes (decoded strictly in dn.ts) and the SPKI keeps its exact encoding for pinning. The SAN
 * extension is walked with dn.ts's TLV reader so that iPAddress bytes and IA5String bytes stay raw. Signatures and chains are NOT verified here:
 * that is the TLS stack's job (SC-7).
 */
import { AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  Extensions,
  KeyUsage,
  NameConstraints as NameConstraintsSchema,
  SubjectKeyIdentifier,
  Validity,
  anyExtendedKeyUsage,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import { CertboundError } from '../errors/index.js';
import {
  type AsnBlockView,
  type DistinguishedName,
  RawName,
  type Tlv,
  TAG_CLASS,
  canonicalDn,
  dnFromRawName,
  formatRfc4514,
  parseWithSchema,
  readSingleElement,
  readTlv,
} from './dn.js';
import { type NameConstraints, readNameConstraints } from './name-constraints.js';
import { MAPPING_KIND_DEFINITIONS, type SanKind, sanKindOfGeneralNameTag } from '../mapping/kinds.js';
import { canonicalizeCertificateSan, ipTextFromCanonical } from './san.js';
import { spkiSha256, x5tS256 } from './thumbprint.js';

/** X-10: caps applied before and during parsing. */
export const CERTIFICATE_LIMITS = Object.freeze({
  /** Bytes of DER per certificate. */
  maxCertificateBytes: 16 * 1024,
  /** GeneralNames in the SAN extension. */
  maxSanEntries: 100,
  /** Certificates in one PEM bundle (trust anchors, chains). */
  maxBundleCertificates: 1000,
});

export interface CertificateSans {
  dns: string[];
  uri: string[];
  /** Canonical form: lowercase hex of the 4 or 16 address bytes. */
  ip: string[];
  /** Display form of `ip`, same order (dotted decimal / RFC 5952). */
  ipText: string[];
  email: string[];
}

export interface ParsedCertificate {
  /** The exact DER received: the thumbprint input (X-14). */
  der: Buffer;
  /** RFC 8705 `x5t#S256` over `der`. */
  x5t: string;
  /** Lowercase hex SHA-256 of `der` (Envoy's `Hash=`, OpenSSL's fingerprint without colons). */
  sha256Hex: string;
  subject: DistinguishedName;
  subjectRfc4514: string;
  /** `canonicalDn(subject)`, computed once. */
  subjectCanonical: string;
  issuer: DistinguishedName;
  issuerRfc4514: string;
  issuerCanonical: string;
  san: CertificateSans;
  notBefore: Date;
  notAfter: Date;
  /** Lowercase hex of the serial number's content octets (two's complement, as encoded). */
  serialNumber: string;
  /** EKU OIDs, or `undefined` when the certificate has no EKU extension. */
  extendedKeyUsage: string[] | undefined;
  /** X.509 version as printed (1, 2 or 3), not the encoded ordinal. */
  version: number;
  /** basicConstraints, or `undefined` when the certificate has none. */
  basicConstraints: { ca: boolean; pathLength?: number } | undefined;
  /** keyUsage bit names (RFC 5280 §4.2.1.3), or `undefined` when the certificate has no keyUsage extension. */
  keyUsage: KeyUsageName[] | undefined;
  /** OIDs of the extensions marked critical, in certificate order. */
  criticalExtensions: string[];
  /** Subject and issuer are the same DN (RFC 5280 §3.2 "self-issued"); says nothing about the signature. */
  isSelfIssued: boolean;
  /** base64url SHA-256 of the SubjectPublicKeyInfo DER (how trust anchors are pinned). */
  spkiSha256: string;
  /** A CA's nameConstraints (RFC 5280 §4.2.1.10), when present. */
  nameConstraints?: NameConstraints;
  /** Lowercase hex. */
  subjectKeyId?: string;
  /** Lowercase hex of the AKI keyIdentifier. */
  authorityKeyId?: string;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

const KEY_USAGE_NAMES: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

// ---------------------------------------------------------------------------------------------------------------
// ASN.1 schema: RFC 5280 Certificate, with Names kept raw and the SPKI kept as its exact DER.

const RawDerConverter = {
  fromASN: (value: unknown): Uint8Array => (value as AsnBlockView).valueBeforeDecodeView,
  toASN: (): never => {
    throw new TypeError('read-only');
  },
};

class TbsCertificateLite {
  version = 0;
  serialNumber = new ArrayBuffer(0);
  signature = new AlgorithmIdentifier();
  issuer = new RawName();
  validity = new Validity();
  subject = new RawName();
  subjectPublicKeyInfo = new Uint8Array(0);
  issuerUniqueID?: ArrayBuffer;
  subjectUniqueID?: ArrayBuffer;
  extensions?: Extensions;
}
AsnProp({ type: AsnPropTypes.Integer, context: 0, defaultValue: 0 })(TbsCertificateLite.prototype, 'version');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(TbsCertificateLite.prototype, 'serialNumber');
AsnProp({ type: AlgorithmIdentifier })(TbsCertificateLite.prototype, 'signature');
AsnProp({ type: RawName })(TbsCertificateLite.prototype, 'issuer');
AsnProp({ type: Validity })(TbsCertificateLite.prototype, 'validity');
AsnProp({ type: RawName })(TbsCertificateLite.prototype, 'subject');
AsnProp({ type: AsnPropTypes.Any, converter: RawDerConverter })(TbsCertificateLite.prototype, 'subjectPublicKeyInfo');
AsnProp({ type: AsnPropTypes.BitString, context: 1, implicit: true, optional: true })(TbsCertificateLite.prototype, 'issuerUniqueID');
AsnProp({ type: AsnPropTypes.BitString, context: 2, implicit: true, optional: true })(TbsCertificateLite.prototype, 'subjectUniqueID');
AsnProp({ type: Extensions, context: 3, optional: true })(TbsCertificateLite.prototype, 'extensions');

class CertificateLite {
  tbsCertificate = new TbsCertificateLite();
  signatureAlgorithm = new AlgorithmIdentifier();
  signatureValue = new ArrayBuffer(0);
}
AsnProp({ type: TbsCertificateLite })(CertificateLite.prototype, 'tbsCertificate');
AsnProp({ type: AlgorithmIdentifier })(CertificateLite.prototype, 'signatureAlgorithm');
AsnProp({ type: AsnPropTypes.BitString })(CertificateLite.prototype, 'signatureValue');

// ---------------------------------------------------------------------------------------------------------------
// Errors

function certError(code: string, message: string, hint: string, extra: { cause?: unknown; details?: Record<string, unknown> } = {}): CertboundError {
  return new CertboundError(code, message, { status: 400, hint, ...extra });
}

const REISSUE = 'The certificate is malformed; reissue it with a standard tool (OpenSSL, step-ca, cfssl, a managed CA).';

// ---------------------------------------------------------------------------------------------------------------
// PEM

const BASE64_LINE = /^[A-Za-z0-9+/=]+$/;

interface PemOptions {
  /** Whether text outside the blocks (bundle comments) is tolerated. */
  allowText: boolean;
  what: string;
}

function decodePem(text: string, options: PemOptions): Buffer[] {
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
          throw certError('ERR_CERT_PARSE', `The ${options.what} contains a ${begin[1]} block (line ${lineNo}); only CERTIFICATE blocks are accepted.`, 'Pass certificates only; never pass private keys here.');
        }
        body = [];
        beginLine = lineNo;
        continue;
      }
      if (!options.allowText || line.includes('-----')) {
        throw certError('ERR_CERT_PARSE', `The ${options.what} has unexpected text at line ${lineNo}, outside a BEGIN/END CERTIFICATE block.`, 'Pass PEM text made of -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- blocks only.');
      }
      continue;
    }
    if (line === '-----END CERTIFICATE-----') {
      blocks.push(decodeStrictBase64(body.join(''), options.what, beginLine));
      if (blocks.length > CERTIFICATE_LIMITS.maxBundleCertificates) {
        throw certError('ERR_CERT_TOO_LARGE', `The ${options.what} has more than ${CERTIFICATE_LIMITS.maxBundleCertificates} certificates.`, 'Split the bundle or remove unused certificates.');
      }
      body = undefined;
      continue;
    }
    if (line.startsWith('-----')) {
      throw certError('ERR_CERT_PARSE', `The ${options.what} has an unexpected PEM boundary at line ${lineNo} inside the certificate that starts at line ${beginLine}.`, 'Each -----BEGIN CERTIFICATE----- needs its own -----END CERTIFICATE----- line.');
    }
    if (!BASE64_LINE.test(line)) {
      throw certError(
        'ERR_CERT_PARSE',
        `The ${options.what} has a line that is not base64 at line ${lineNo} (inside the certificate that starts at line ${beginLine}).`,
        'The body of a PEM certificate is standard base64 only (A-Z a-z 0-9 + / =): no headers, no spaces, no URL-safe alphabet.',
      );
    }
    body.push(line);
  }
  if (body !== undefined) {
    throw certError('ERR_CERT_PARSE', `The ${options.what} has a -----BEGIN CERTIFICATE----- at line ${beginLine} without a matching -----END CERTIFICATE-----.`, 'The PEM text is truncated; pass the complete certificate.');
  }
  return blocks;
}

function decodeStrictBase64(b64: string, what: string, beginLine: number): Buffer {
  const der = Buffer.from(b64, 'base64');
  // Buffer.from is lenient (stray '=', non-zero pad bits, missing padding): require a canonical round trip.
  if (b64.length === 0 || b64.length % 4 !== 0 || der.toString('base64') !== b64) {
    throw certError('ERR_CERT_PARSE', `The ${what} has a certificate (line ${beginLine}) whose base64 body is not canonical base64.`, 'Re-export the certificate as PEM; the body must be padded standard base64.');
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
    throw certError('ERR_CERT_TOO_LARGE', 'The PEM bundle is too large.', 'Split the bundle or remove unused certificates.');
  }
  const ders = decodePem(text, { allowText: true, what: 'PEM bundle' });
  if (ders.length === 0) {
    throw certError('ERR_CERT_PARSE', 'The PEM bundle contains no certificate.', 'Pass one or more -----BEGIN CERTIFICATE----- blocks.');
  }
  for (const der of ders) {
    checkSize(der);
    readSingleElement(der, 'A certificate in the PEM bundle', 'ERR_CERT_PARSE');
  }
  return ders;
}

function checkSize(der: Uint8Array): void {
  if (der.byteLength > CERTIFICATE_LIMITS.maxCertificateBytes) {
    throw certError(
      'ERR_CERT_TOO_LARGE',
      `The certificate is ${der.byteLength} bytes; the limit is ${CERTIFICATE_LIMITS.maxCertificateBytes}.`,
      'Client certificates are normally under 4 KiB; issue a smaller certificate.',
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Extensions

function parseSan(extnValue: Uint8Array): CertificateSans {
  const malformed = (why: string, cause?: unknown) =>
    certError('ERR_CERT_SAN_MALFORMED', `The certificate's subjectAltName extension is malformed: ${why}.`, REISSUE, cause === undefined ? {} : { cause });
  const read = readTlv(extnValue);
  if ('problem' in read) throw malformed(read.problem);
  if (read.end !== extnValue.length) throw malformed(`${extnValue.length - read.end} trailing byte(s) after the GeneralNames`);
  const root = read.tlv;
  if (root.tagClass !== TAG_CLASS.universal || root.tagNumber !== 16 || !root.constructed) throw malformed('it is not a SEQUENCE of GeneralName');
  const names: Tlv[] = [];
  for (let offset = 0; offset < root.content.length; ) {
    const entry = readTlv(root.content, offset);
    if ('problem' in entry) throw malformed(`an entry: ${entry.problem}`);
    names.push(entry.tlv);
    if (names.length > CERTIFICATE_LIMITS.maxSanEntries) {
      throw certError('ERR_CERT_TOO_LARGE', `The certificate has more than ${CERTIFICATE_LIMITS.maxSanEntries} SAN entries.`, 'Issue client certificates with only the names that identify the client.');
    }
    offset = entry.end;
  }
  if (names.length === 0) throw malformed('it is empty');
  const san: CertificateSans = { dns: [], uri: [], ip: [], ipText: [], email: [] };
  for (const name of names) {
    const { tagClass, tagNumber, constructed } = name;
    if (tagClass !== TAG_CLASS.context || tagNumber > 8) {
      throw malformed(`an entry has the unexpected tag ${tagClass === TAG_CLASS.context ? `[${tagNumber}]` : `class ${tagClass} #${tagNumber}`}`);
    }
    // [0] otherName, [3] x400Address, [4] directoryName, [5] ediPartyName are constructed; [8] registeredID is an OID.
    if (tagNumber === 0 || tagNumber === 3 || tagNumber === 4 || tagNumber === 5) {
      if (!constructed) throw malformed(`entry [${tagNumber}] must be constructed`);
      continue;
    }
    if (constructed) throw malformed(`entry [${tagNumber}] uses a constructed encoding`);
    // The GeneralName types a mapping kind reads (mapping/kinds.ts); others ([8] registeredID) are skipped.
    const kind = sanKindOfGeneralNameTag(tagNumber);
    if (kind === undefined) continue;
    const field = MAPPING_KIND_DEFINITIONS[kind].generalName!.field;
    if (field === 'ip') {
      const hex = canonicalizeCertificateSan(kind, name.content);
      san.ip.push(hex);
      san.ipText.push(ipTextFromCanonical(hex));
    } else {
      san[field].push(sanText(kind, name.content));
    }
  }
  return san;
}

/** IA5String bytes → text, refusing control characters and non-ASCII (via canonicalizeCertificateSan's checks). */
function sanText(kind: SanKind, bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('latin1');
  canonicalizeCertificateSan(kind, text);
  if (text.length === 0) {
    throw certError('ERR_CERT_SAN_MALFORMED', `The certificate has an empty ${kind.slice(4).toUpperCase()} SAN entry.`, REISSUE);
  }
  return text;
}

const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  [id_ce_subjectAltName]: 'subjectAltName',
  [id_ce_extKeyUsage]: 'extendedKeyUsage',
  [id_ce_basicConstraints]: 'basicConstraints',
  [id_ce_keyUsage]: 'keyUsage',
  [id_ce_subjectKeyIdentifier]: 'subjectKeyIdentifier',
  [id_ce_authorityKeyIdentifier]: 'authorityKeyIdentifier',
  [id_pe_authorityInfoAccess]: 'authorityInfoAccess',
  [id_ce_cRLDistributionPoints]: 'cRLDistributionPoints',
  [id_ce_certificatePolicies]: 'certificatePolicies',
  [id_ce_nameConstraints]: 'nameConstraints',
};

/** `name (oid)` for the extensions certbound knows, the bare OID otherwise (messages). */
export function extensionName(oid: string): string {
  const known = EXTENSION_NAMES[oid];
  return known ? `${known} (${oid})` : oid;
}

function parseExtensionValue<T>(bytes: Uint8Array, target: new () => T, what: string): T {
  return parseWithSchema(bytes, target, `The certificate's ${what} extension`, 'ERR_CERT_PARSE', REISSUE);
}

function hex(buffer: ArrayBuffer | Uint8Array): string {
  return Buffer.from(buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer)).toString('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Certificate

function toDer(input: Uint8Array | string): Buffer {
  if (typeof input === 'string') {
    if (input.length > CERTIFICATE_LIMITS.maxCertificateBytes * 2) {
      throw certError('ERR_CERT_TOO_LARGE', `The PEM text is ${input.length} characters; a certificate of at most ${CERTIFICATE_LIMITS.maxCertificateBytes} bytes fits in far less.`, 'Issue a smaller certificate.');
    }
    const ders = decodePem(input, { allowText: false, what: 'PEM text' });
    if (ders.length !== 1) {
      throw certError(
        'ERR_CERT_PARSE',
        ders.length === 0 ? 'The PEM text contains no certificate.' : `The PEM text contains ${ders.length} certificates; exactly one (the client certificate) is expected here.`,
        ders.length === 0 ? 'Pass one -----BEGIN CERTIFICATE----- block.' : 'Pass only the leaf certificate; chains go through parsePemCertificates.',
        { details: { count: ders.length } },
      );
    }
    return ders[0]!;
  }
  if (!(input instanceof Uint8Array)) throw new TypeError('parseCertificate expects PEM text or DER bytes');
  if (input.byteLength === 0) throw certError('ERR_CERT_PARSE', 'The certificate is empty.', 'Pass the DER or PEM of the client certificate.');
  // PEM read from a file as bytes: accept it, but with the same strictness.
  if (input.byteLength > 10 && Buffer.from(input.subarray(0, 10)).toString('latin1') === '-----BEGIN') {
    return toDer(Buffer.from(input).toString('latin1'));
  }
  return Buffer.from(input);
}

/**
 * Parses one client certificate (PEM text or DER bytes). Throws a `CertboundError` with status 400 and
 * one of: `ERR_CERT_PARSE` (not exactly one well-formed certificate, trailing bytes, several PEM blocks,
 * duplicate extensions), `ERR_CERT_TOO_LARGE` (> 16 KiB or > 100 SAN entries, X-10),
 * `ERR_CERT_SAN_MALFORMED` (duplicate or unparsable SAN, X-11), `ERR_CERT_CONTROL_CHARACTER` (X-1),
 * `ERR_CERT_STRING_ENCODING` (X-3).
 *
 * @example
 * const cert = parseCertificate(pem);
 * cert.x5t; // 'v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes' for the RFC 9440 example certificate
 */
export function parseCertificate(input: Uint8Array | string): ParsedCertificate {
  const der = toDer(input);
  checkSize(der);
  const cert = parseWithSchema(der, CertificateLite, 'The certificate', 'ERR_CERT_PARSE', 'Pass the DER or PEM of the client certificate (not a key, CSR or chain).');
  const tbs = cert.tbsCertificate;

  const subject = dnFromRawName(tbs.subject, 'subject');
  const issuer = dnFromRawName(tbs.issuer, 'issuer');
  const subjectCanonical = canonicalDn(subject);
  const issuerCanonical = canonicalDn(issuer);

  let san: CertificateSans = { dns: [], uri: [], ip: [], ipText: [], email: [] };
  let extendedKeyUsage: string[] | undefined;
  let basicConstraints: ParsedCertificate['basicConstraints'];
  let keyUsage: KeyUsageName[] | undefined;
  let nameConstraints: NameConstraints | undefined;
  let subjectKeyId: string | undefined;
  let authorityKeyId: string | undefined;
  const criticalExtensions: string[] = [];
  const seen = new Set<string>();
  // RFC 5280 §4.1.2.1: extensions only in v3; version 2 (v3) is the largest defined value.
  if (tbs.version > 2) throw certError('ERR_CERT_PARSE', `The certificate has the unknown version number ${tbs.version + 1}.`, REISSUE);
  if (tbs.extensions && tbs.version !== 2) throw certError('ERR_CERT_PARSE', `The certificate is version ${tbs.version + 1} but carries extensions, which only version 3 allows.`, REISSUE);
  if (tbs.extensions && tbs.extensions.length === 0) throw certError('ERR_CERT_PARSE', 'The certificate has an empty extensions list (RFC 5280 §4.1 requires at least one).', REISSUE);
  for (const extension of tbs.extensions ?? []) {
    const oid = extension.extnID;
    if (seen.has(oid)) {
      if (oid === id_ce_subjectAltName) {
        throw certError('ERR_CERT_SAN_MALFORMED', 'The certificate has more than one subjectAltName extension.', 'RFC 5280 §4.2 allows each extension once; reissue the certificate with a single SAN extension.');
      }
      throw certError('ERR_CERT_PARSE', `The certificate has the extension ${extensionName(oid)} more than once.`, 'RFC 5280 §4.2 allows each extension once; reissue the certificate.');
    }
    seen.add(oid);
    if (extension.critical) criticalExtensions.push(oid);
    const value = new Uint8Array(extension.extnValue.buffer);
    // Every extension certbound knows is decoded in full, even when nothing here uses its content, so that
    // a malformed one is refused rather than skipped (X-11, SC-6).
    switch (oid) {
      case id_ce_subjectAltName:
        san = parseSan(value);
        break;
      case id_ce_extKeyUsage:
        extendedKeyUsage = [...parseExtensionValue(value, ExtendedKeyUsage, 'extendedKeyUsage')];
        if (extendedKeyUsage.length === 0) throw certError('ERR_CERT_PARSE', "The certificate's extendedKeyUsage extension lists no purpose (RFC 5280 §4.2.1.12 requires at least one).", REISSUE);
        break;
      case id_ce_basicConstraints: {
        const bc = parseExtensionValue(value, BasicConstraints, 'basicConstraints');
        basicConstraints = { ca: bc.cA, ...(bc.pathLenConstraint === undefined ? {} : { pathLength: bc.pathLenConstraint }) };
        break;
      }
      case id_ce_keyUsage: {
        const flags = parseExtensionValue(value, KeyUsage, 'keyUsage').toNumber();
        keyUsage = KEY_USAGE_NAMES.filter((_, bit) => (flags & (1 << bit)) !== 0);
        if (keyUsage.length === 0) throw certError('ERR_CERT_PARSE', "The certificate's keyUsage extension has no bit set (RFC 5280 §4.2.1.3 requires at least one).", REISSUE);
        break;
      }
      case id_ce_subjectKeyIdentifier:
        subjectKeyId = hex(parseExtensionValue(value, SubjectKeyIdentifier, 'subjectKeyIdentifier').buffer);
        break;
      case id_ce_authorityKeyIdentifier: {
        const aki = parseExtensionValue(value, AuthorityKeyIdentifier, 'authorityKeyIdentifier');
        if (aki.keyIdentifier) authorityKeyId = hex(aki.keyIdentifier.buffer);
        break;
      }
      case id_pe_authorityInfoAccess:
        if (parseExtensionValue(value, AuthorityInfoAccessSyntax, 'authorityInfoAccess').length === 0) {
          throw certError('ERR_CERT_PARSE', "The certificate's authorityInfoAccess extension is empty (RFC 5280 §4.2.2.1 requires at least one access description).", REISSUE);
        }
        break;
      case id_ce_cRLDistributionPoints:
        if (parseExtensionValue(value, CRLDistributionPoints, 'cRLDistributionPoints').length === 0) {
          throw certError('ERR_CERT_PARSE', "The certificate's cRLDistributionPoints extension is empty (RFC 5280 §4.2.1.13 requires at least one point).", REISSUE);
        }
        break;
      case id_ce_certificatePolicies:
        if (parseExtensionValue(value, CertificatePolicies, 'certificatePolicies').length === 0) {
          throw certError('ERR_CERT_PARSE', "The certificate's certificatePolicies extension is empty (RFC 5280 §4.2.1.4 requires at least one policy).", REISSUE);
        }
        break;
      case id_ce_nameConstraints:
        parseExtensionValue(value, NameConstraintsSchema, 'nameConstraints');
        nameConstraints = readNameConstraints(value);
        break;
    }
  }

  const digest = x5tS256(der);
  return {
    der,
    x5t: digest,
    sha256Hex: Buffer.from(digest, 'base64url').toString('hex'),
    subject,
    subjectRfc4514: formatRfc4514(subject),
    subjectCanonical,
    issuer,
    issuerRfc4514: formatRfc4514(issuer),
    issuerCanonical,
    san,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    serialNumber: hex(tbs.serialNumber),
    extendedKeyUsage,
    version: tbs.version + 1,
    basicConstraints,
    keyUsage,
    criticalExtensions,
    isSelfIssued: subjectCanonical === issuerCanonical,
    spkiSha256: spkiSha256(tbs.subjectPublicKeyInfo),
    ...(nameConstraints === undefined ? {} : { nameConstraints }),
    ...(subjectKeyId === undefined ? {} : { subjectKeyId }),
    ...(authorityKeyId === undefined ? {} : { authorityKeyId }),
  };
}

export const EKU_CLIENT_AUTH = id_kp_clientAuth;
export const EKU_ANY = anyExtendedKeyUsage;

/**
 * X-12: the EKU does not forbid TLS client authentication: no EKU extension, or one that lists clientAuth
 * (1.3.6.1.5.5.7.3.2). anyExtendedKeyUsage alone does not count, as OpenSSL's sslclient purpose decides.
 * Whether a certificate without EKU is accepted is the leaf policy's decision (leaf-policy.ts).
 */
export function hasClientAuthEku(cert: Pick<ParsedCertificate, 'extendedKeyUsage'>): boolean {
  const eku = cert.extendedKeyUsage;
  return eku === undefined || eku.includes(EKU_CLIENT_AUTH);
}
