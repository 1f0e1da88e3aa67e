/** What a DN is made of: attributes, RDNs, and the attribute types certbound knows by name. */

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

/**
 * How values of an attribute type are compared (X-7, minimum viable RFC 4518 string preparation).
 * - `caseIgnore`: NFKC, trim, collapse inner whitespace, case-fold.
 * - `exact`: code-unit equality, no preparation at all.
 */
export type MatchRule = 'caseIgnore' | 'exact';

export interface AttributeType {
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

/** The known attribute type with this dotted OID. */
export function attributeTypeByOid(oid: string): AttributeType | undefined {
  return BY_OID.get(oid);
}

/** The known attribute type with this keyword (case-insensitive: `cn`, `CN`, `commonName`). */
export function attributeTypeByName(keyword: string): AttributeType | undefined {
  return BY_NAME.get(keyword.toLowerCase());
}

/** The display keyword of an attribute type (`CN`), or its dotted OID when unknown. */
export function attributeTypeName(oid: string): string {
  return BY_OID.get(oid)?.names[0] ?? oid;
}

/** The values of one attribute type, in ASN.1 order (e.g. all CNs). */
export function attributeValues(dn: DistinguishedName, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of dn) for (const ava of rdn) if (ava.type === oid && ava.value !== undefined) out.push(ava.value);
  return out;
}

export const OID_COMMON_NAME = '2.5.4.3';
