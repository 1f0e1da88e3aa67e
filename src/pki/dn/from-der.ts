/**
 * Certificate names (DER) to DistinguishedNames. The DER is parsed with @peculiar/asn1-schema into raw
 * string bytes, and der.ts decodes the bytes, strictly: @peculiar/x509's `Name` (asn1js) decodes
 * UniversalString incorrectly and invalid UTF-8 leniently (X-1, X-3).
 */
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { type AsnBlockView, decodeStringValue, parseWithSchema } from '../der.js';
import { certificateError } from '../errors.js';
import { type Ava, attributeTypeName, type DistinguishedName, type Rdn } from './attributes.js';

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

/** `AttributeTypeAndValue` with the value kept as raw bytes (der.ts decodes the string, strictly). */
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

/** Converts an asn1-schema `RawName` into a DistinguishedName, decoding every string strictly. */
export function dnFromRawName(name: RawName, label = 'subject'): DistinguishedName {
  const dn: DistinguishedName = [];
  for (const [rdnIndex, rdn] of name.entries()) {
    if (rdn.length === 0) {
      throw certificateError('ERR_CERT_PARSE', `The certificate ${label} has an empty RDN (#${rdnIndex + 1}).`, 'The certificate is malformed; reissue it.');
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
    throw certificateError(
      'ERR_CERT_CONTROL_CHARACTER',
      `The certificate ${where} ${decoded.problem}.`,
      'Names with NUL or other control characters are refused (RFC 8705 §7.5); reissue the certificate without them.',
    );
  }
  throw certificateError(
    'ERR_CERT_STRING_ENCODING',
    `The certificate ${where} is badly encoded: ${decoded.problem}.`,
    'Reissue the certificate with UTF8String (or PrintableString for plain ASCII) name values.',
  );
}

/**
 * Decodes the DER of an X.501 `Name` (e.g. a certificate's subject or issuer) into a DistinguishedName.
 * Throws `ERR_CERT_PARSE`, `ERR_CERT_STRING_ENCODING` or `ERR_CERT_CONTROL_CHARACTER`.
 */
export function dnFromCertificateName(der: Uint8Array | ArrayBuffer): DistinguishedName {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  const name = parseWithSchema(bytes, RawName, 'The name', 'ERR_CERT_PARSE', 'Pass the DER of a Name (SEQUENCE OF SET OF AttributeTypeAndValue).');
  return dnFromRawName(name, 'name');
}
