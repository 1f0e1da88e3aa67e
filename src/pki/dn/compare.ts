/**
 * DN comparison in the spirit of RFC 5280 §7.1 / RFC 4517 distinguishedNameMatch (PKI-4, X-2, X-7): a
 * canonical form in which two DNs are equal exactly when they match, with the minimum viable RFC 4518
 * string preparation per attribute type.
 */
import { toHex } from '../der.js';
import { attributeTypeByOid, type Ava, type DistinguishedName, type Rdn } from './attributes.js';

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
  const rule = attributeTypeByOid(ava.type)?.match ?? 'exact';
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
 * by `+`, types as dotted OIDs, values prepared per X-7 (see the attribute types in attributes.ts): caseIgnore types
 * NFKC + trim + collapsed whitespace + case-fold; `serialNumber` and unknown types exact; values known
 * only as BER as `#` + lowercase hex. `\`, `,`, `+` and a leading `#` in values are backslash-escaped,
 * so two different DNs never share a canonical form.
 *
 * @example canonicalDn(parseRfc4514('CN=ACME  Client,C=US')) // '2.5.4.6=us,2.5.4.3=acme client'
 */
export function canonicalDn(dn: DistinguishedName): string {
  return dn.map(canonicalRdn).join(',');
}

/** Structural DN equality: same number of RDNs, same order, same set of AVAs per RDN, values. */
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
