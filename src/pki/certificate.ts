/**
 * Parses a client certificate once into everything the server, the mapping rules and the diagnosis need
 * (the server caches the result by thumbprint). Parsing is strict: one PEM block with a canonical base64
 * body, one DER structure with no trailing bytes, size caps, one well-formed SAN extension,
 * no control characters in names and strictly decoded strings.
 *
 * The DER is parsed once by @peculiar/asn1-schema (with its own asn1js); subject and issuer keep their raw
 * string bytes (decoded strictly by dn/from-der.ts) and the SPKI keeps its exact encoding for pinning.
 * PEM is read by pem.ts, the SAN extension by san-extension.ts. Signatures and chains are NOT verified
 * here: that is the TLS stack's job (SC-7).
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
import { type AsnBlockView, parseWithSchema } from './der.js';
import { canonicalDn, type DistinguishedName, formatRfc4514 } from './dn/index.js';
import { dnFromRawName, RawName } from './dn/from-der.js';
import { certificateError, REISSUE } from './errors.js';
import { checkCertificateSize } from './limits.js';
import { type NameConstraints, readNameConstraints } from './name-constraints.js';
import { certificateDerOf } from './pem.js';
import { type CertificateSans, parseSanExtension } from './san-extension.js';
import { spkiSha256, x5tS256 } from './thumbprint.js';

export interface ParsedCertificate {
  /** The exact DER received: the thumbprint input. */
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
// Extensions

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

/**
 * Parses one client certificate (PEM text or DER bytes). Throws a `CertboundError` with status 400 and
 * one of: `ERR_CERT_PARSE` (not exactly one well-formed certificate, trailing bytes, several PEM blocks,
 * duplicate extensions), `ERR_CERT_TOO_LARGE` (> 16 KiB or > 100 SAN entries, X-10),
 * `ERR_CERT_SAN_MALFORMED` (duplicate or unparsable SAN, X-11), `ERR_CERT_CONTROL_CHARACTER`,
 * `ERR_CERT_STRING_ENCODING`.
 *
 * @example
 * const cert = parseCertificate(pem);
 * cert.x5t; // 'v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes' for the RFC 9440 example certificate
 */
export function parseCertificate(input: Uint8Array | string): ParsedCertificate {
  const der = certificateDerOf(input);
  checkCertificateSize(der);
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
  if (tbs.version > 2) throw certificateError('ERR_CERT_PARSE', `The certificate has the unknown version number ${tbs.version + 1}.`, REISSUE);
  if (tbs.extensions && tbs.version !== 2)
    throw certificateError('ERR_CERT_PARSE', `The certificate is version ${tbs.version + 1} but carries extensions, which only version 3 allows.`, REISSUE);
  if (tbs.extensions && tbs.extensions.length === 0)
    throw certificateError('ERR_CERT_PARSE', 'The certificate has an empty extensions list (RFC 5280 §4.1 requires at least one).', REISSUE);
  for (const extension of tbs.extensions ?? []) {
    const oid = extension.extnID;
    if (seen.has(oid)) {
      if (oid === id_ce_subjectAltName) {
        throw certificateError(
          'ERR_CERT_SAN_MALFORMED',
          'The certificate has more than one subjectAltName extension.',
          'RFC 5280 §4.2 allows each extension once; reissue the certificate with a single SAN extension.',
        );
      }
      throw certificateError(
        'ERR_CERT_PARSE',
        `The certificate has the extension ${extensionName(oid)} more than once.`,
        'RFC 5280 §4.2 allows each extension once; reissue the certificate.',
      );
    }
    seen.add(oid);
    if (extension.critical) criticalExtensions.push(oid);
    const value = new Uint8Array(extension.extnValue.buffer);
    // Every extension certbound knows is decoded in full, even when nothing here uses its content, so that
    // a malformed one is refused rather than skipped (X-11, SC-6).
    switch (oid) {
      case id_ce_subjectAltName:
        san = parseSanExtension(value);
        break;
      case id_ce_extKeyUsage:
        extendedKeyUsage = [...parseExtensionValue(value, ExtendedKeyUsage, 'extendedKeyUsage')];
        if (extendedKeyUsage.length === 0)
          throw certificateError('ERR_CERT_PARSE', "The certificate's extendedKeyUsage extension lists no purpose (RFC 5280 §4.2.1.12 requires at least one).", REISSUE);
        break;
      case id_ce_basicConstraints: {
        const bc = parseExtensionValue(value, BasicConstraints, 'basicConstraints');
        basicConstraints = { ca: bc.cA, ...(bc.pathLenConstraint === undefined ? {} : { pathLength: bc.pathLenConstraint }) };
        break;
      }
      case id_ce_keyUsage: {
        const flags = parseExtensionValue(value, KeyUsage, 'keyUsage').toNumber();
        keyUsage = KEY_USAGE_NAMES.filter((_, bit) => (flags & (1 << bit)) !== 0);
        if (keyUsage.length === 0)
          throw certificateError('ERR_CERT_PARSE', "The certificate's keyUsage extension has no bit set (RFC 5280 §4.2.1.3 requires at least one).", REISSUE);
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
          throw certificateError(
            'ERR_CERT_PARSE',
            "The certificate's authorityInfoAccess extension is empty (RFC 5280 §4.2.2.1 requires at least one access description).",
            REISSUE,
          );
        }
        break;
      case id_ce_cRLDistributionPoints:
        if (parseExtensionValue(value, CRLDistributionPoints, 'cRLDistributionPoints').length === 0) {
          throw certificateError('ERR_CERT_PARSE', "The certificate's cRLDistributionPoints extension is empty (RFC 5280 §4.2.1.13 requires at least one point).", REISSUE);
        }
        break;
      case id_ce_certificatePolicies:
        if (parseExtensionValue(value, CertificatePolicies, 'certificatePolicies').length === 0) {
          throw certificateError('ERR_CERT_PARSE', "The certificate's certificatePolicies extension is empty (RFC 5280 §4.2.1.4 requires at least one policy).", REISSUE);
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
 * the EKU does not forbid TLS client authentication: no EKU extension, or one that lists clientAuth
 * (1.3.6.1.5.5.7.3.2). anyExtendedKeyUsage alone does not count, as OpenSSL's sslclient purpose decides.
 * Whether a certificate without EKU is accepted is the leaf policy's decision (leaf-policy.ts).
 */
export function hasClientAuthEku(cert: Pick<ParsedCertificate, 'extendedKeyUsage'>): boolean {
  const eku = cert.extendedKeyUsage;
  return eku === undefined || eku.includes(EKU_CLIENT_AUTH);
}
