/**
 * Distinguished names: RFC 4514 text parsing (parse.ts), DER decoding of certificate names (from-der.ts),
 * structural comparison in the spirit of RFC 5280 §7.1 / RFC 4517 distinguishedNameMatch (compare.ts),
 * and formatting (format.ts) (PKI-4, MD-3, X-1..X-7).
 *
 * A `DistinguishedName` is always held in **ASN.1 order** (index 0 = first RDN in the certificate, the
 * least specific one, e.g. `C=US`). RFC 4514 strings list RDNs the other way round (X-5).
 *
 * Why not @peculiar/x509's `Name`: its string parser reads RDNs in the wrong order, rejects lowercase
 * attribute types and does not decode `\hh` escapes, and asn1js decodes UniversalString incorrectly and
 * invalid UTF-8 leniently (spec §5.1). So the DER is parsed with @peculiar/asn1-schema into raw string
 * bytes, and the bytes are decoded strictly (../der.ts).
 */
export { type Ava, type DistinguishedName, type Rdn, attributeTypeName, attributeValues, OID_COMMON_NAME } from './attributes.js';
export { canonicalDn, dnEquals, isReversedOf } from './compare.js';
export { escapeRfc4514Value, formatOneline, formatRfc4514 } from './format.js';
export { dnFromCertificateName } from './from-der.js';
export { parseRfc4514 } from './parse.js';
