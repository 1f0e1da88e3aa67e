/**
 * A model of distinguished names for the DN properties, independent of src/pki/dn.ts: attribute types
 * with their keywords and matching rule, values built from tokens whose RFC 4518 preparation is written
 * out here by hand, an RFC 4514 renderer with every allowed spelling variant, and the reference
 * equality that says precisely which differences distinguishedNameMatch folds (PKI-4, X-4..X-7).
 */
import fc from 'fast-check';

export type Rule = 'caseIgnore' | 'exact';

export interface TypeModel {
  oid: string;
  /** Keywords accepted for the type (any case); empty: only the dotted OID may be written. */
  names: readonly string[];
  rule: Rule;
}

/** The types the properties use: directoryString ones (caseIgnore), serialNumber (exact, X-7), an unknown OID (exact). */
export const TYPES: readonly TypeModel[] = [
  { oid: '2.5.4.3', names: ['CN', 'commonName'], rule: 'caseIgnore' },
  { oid: '2.5.4.10', names: ['O', 'organizationName'], rule: 'caseIgnore' },
  { oid: '2.5.4.11', names: ['OU', 'organizationalUnitName'], rule: 'caseIgnore' },
  { oid: '2.5.4.6', names: ['C', 'countryName'], rule: 'caseIgnore' },
  { oid: '2.5.4.8', names: ['ST', 'S', 'stateOrProvinceName'], rule: 'caseIgnore' },
  { oid: '0.9.2342.19200300.100.1.25', names: ['DC', 'domainComponent'], rule: 'caseIgnore' },
  { oid: '0.9.2342.19200300.100.1.1', names: ['UID', 'userId'], rule: 'caseIgnore' },
  { oid: '1.2.840.113549.1.9.1', names: ['emailAddress', 'E', 'email'], rule: 'caseIgnore' },
  { oid: '2.5.4.5', names: ['serialNumber'], rule: 'exact' },
  { oid: '1.3.6.1.4.1.99999.7', names: [], rule: 'exact' },
];

export const TYPE_BY_OID = new Map(TYPES.map((t) => [t.oid, t]));

/**
 * Value tokens: ASCII letters and digits, every RFC 4514 special, spaces (ASCII and other Unicode
 * separators), letters with case pairs outside ASCII, decomposed and compatibility forms (NFKC), letters
 * whose case folding is not a plain lower-casing (ß, ẞ, final sigma, dotless ı, dotted İ), and U+FEFF,
 * which RFC 4518 maps to nothing (it is not a space).
 */
export const VALUE_TOKENS: readonly string[] = [
  'a',
  'b',
  'z',
  'A',
  'B',
  'Z',
  'i',
  'I',
  's',
  'S',
  'k',
  'K',
  'e',
  'E',
  '0',
  '7',
  ' ',
  ',',
  '+',
  '"',
  '\\',
  '<',
  '>',
  ';',
  '#',
  '=',
  '-',
  '.',
  '/',
  'é',
  'É',
  'e\u0301',
  'E\u0301',
  'ß',
  'ẞ',
  'σ',
  'Σ',
  'ς',
  'ı',
  'İ',
  'ﬁ',
  '\u212a',
  '\u00a0',
  '\u2003',
  '\u3000',
  '\ufeff',
];

/** Full case folding (Unicode CaseFolding.txt, statuses C and F) of every code point NFKC leaves of the tokens above. */
const FOLD: Record<string, string> = {
  A: 'a',
  B: 'b',
  Z: 'z',
  I: 'i',
  S: 's',
  K: 'k',
  E: 'e',
  F: 'f',
  É: 'é',
  ß: 'ss',
  ẞ: 'ss',
  Σ: 'σ',
  ς: 'σ',
  İ: 'i\u0307',
};

/**
 * RFC 4518 preparation as this project decided it (X-7, minimum viable): NFKC; every separator
 * (Zs, Zl, Zp) is a space; insignificant spaces (leading, trailing, runs) removed; case folded. Nothing
 * else is mapped: U+FEFF and other format characters stay significant.
 */
export function prepareCaseIgnore(value: string): string {
  const spaced = value.normalize('NFKC').replace(/[\p{Zs}\p{Zl}\p{Zp}]/gu, ' ');
  const trimmed = spaced.replace(/ +/g, ' ').replace(/^ | $/g, '');
  return [...trimmed].map(foldCodePoint).join('').normalize('NFKC');
}

/**
 * Folds one code point: by the table, or, for a precomposed letter (the combining accent composes with
 * whatever letter precedes it, so `A` + U+0301 becomes `Á`), by folding its base letter.
 */
function foldCodePoint(c: string): string {
  if (FOLD[c] !== undefined) return FOLD[c];
  const [base, ...marks] = [...c.normalize('NFD')];
  return marks.length > 0 && base !== undefined ? `${FOLD[base] ?? base}${marks.join('')}` : c;
}

export interface AvaModel {
  oid: string;
  value: string;
}
export type DnModel = AvaModel[][];

export function prepared(ava: AvaModel): string {
  return TYPE_BY_OID.get(ava.oid)?.rule === 'caseIgnore' ? prepareCaseIgnore(ava.value) : ava.value;
}

/**
 * The reference distinguishedNameMatch: the same number of RDNs in the same order, and in each RDN the
 * same multiset of (type, prepared value); AVA order inside an RDN does not matter.
 */
export function modelEquals(a: DnModel, b: DnModel): boolean {
  if (a.length !== b.length) return false;
  return a.every((rdn, i) => {
    const key = (r: AvaModel[]) =>
      r
        .map((ava) => `${ava.oid}\u0000${prepared(ava)}`)
        .sort()
        .join('\u0001');
    return key(rdn) === key(b[i]!);
  });
}

export const valueArb = fc.array(fc.constantFrom(...VALUE_TOKENS), { maxLength: 8 }).map((t) => t.join(''));
export const typeArb = fc.constantFrom(...TYPES);
export const avaArb: fc.Arbitrary<AvaModel> = fc.record({ oid: typeArb.map((t) => t.oid), value: valueArb });
/** RDNs in ASN.1 order, like `DistinguishedName`. */
export const dnArb: fc.Arbitrary<DnModel> = fc.array(fc.array(avaArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 });

// ---------------------------------------------------------------------------------------------------------------
// Rendering with spelling variants that never change the DN

/** Choices for one rendering; every combination spells the same DN. */
export interface Spelling {
  /** Per AVA: how the type is written (index into names, or -1 for the dotted OID, -2 for `OID.` + OID). */
  typeForm: number[];
  /** Per AVA: flip the case of the keyword's letters by this mask. */
  caseMask: number[];
  /** Per character position (cycled): 0 plain where allowed, 1 `\c` where allowed, 2 `\hh` upper, 3 `\hh` lower. */
  escapes: number[];
  /** Per separator (cycled): spaces added around it. */
  spaces: number[];
  /** Per RDN: rotation of its AVAs. */
  rotate: number[];
}

export const spellingArb: fc.Arbitrary<Spelling> = fc.record({
  typeForm: fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 1, maxLength: 12 }),
  caseMask: fc.array(fc.nat({ max: 0xffff }), { minLength: 1, maxLength: 12 }),
  escapes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 16 }),
  spaces: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
  rotate: fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 4 }),
});

/** The plain spelling: first keyword as written, minimal escaping, no extra spaces, AVAs in order. */
export const PLAIN: Spelling = { typeForm: [0], caseMask: [0], escapes: [0], spaces: [0], rotate: [0] };

const at = (list: number[], i: number) => list[i % list.length]!;
const hexBytes = (c: string, upper: boolean) =>
  [...Buffer.from(c, 'utf8')]
    .map((b) => `\\${b.toString(16).padStart(2, '0')}`)
    .map((h) => (upper ? h.toUpperCase() : h))
    .join('');

function renderType(type: TypeModel, form: number, mask: number): string {
  if (type.names.length === 0 || form === -1) return type.oid;
  if (form === -2) return `${mask & 1 ? 'oid' : 'OID'}.${type.oid}`;
  const name = type.names[form % type.names.length]!;
  return [...name].map((c, i) => ((mask >> i) & 1 ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join('');
}

function renderValue(value: string, s: Spelling, counter: { n: number }): string {
  const chars = [...value];
  return chars
    .map((c, i) => {
      const choice = at(s.escapes, counter.n++);
      const mustEscape = ',+"\\<>;'.includes(c) || (i === 0 && (c === '#' || c === ' ')) || (i === chars.length - 1 && c === ' ');
      const mayEscapeAsItself = mustEscape || c === '=' || c === '#' || c === ' ';
      if (choice >= 2) return hexBytes(c, choice === 2);
      if (choice === 1 && mayEscapeAsItself) return `\\${c}`;
      if (mustEscape) return `\\${c}`;
      return c;
    })
    .join('');
}

/** RFC 4514 text of a model DN (last RDN first), spelled per `s`. */
export function render(dn: DnModel, s: Spelling = PLAIN): string {
  const counter = { n: 0 };
  let sep = 0;
  const pad = () => ' '.repeat(at(s.spaces, sep++));
  let avaIndex = 0;
  return [...dn]
    .map((rdn, r) => {
      const k = at(s.rotate, r) % rdn.length;
      const rotated = [...rdn.slice(k), ...rdn.slice(0, k)];
      return rotated
        .map((ava) => {
          const type = TYPE_BY_OID.get(ava.oid)!;
          const i = avaIndex++;
          return `${pad()}${renderType(type, at(s.typeForm, i), at(s.caseMask, i))}${pad()}=${pad()}${renderValue(ava.value, s, counter)}`;
        })
        .join(`${pad()}+`);
    })
    .reverse()
    .join(`${pad()},`);
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations of a model DN

export type Mutation =
  | { kind: 'replaceChar'; rdn: number; ava: number; at: number; token: string }
  | { kind: 'insertChar'; rdn: number; ava: number; at: number; token: string }
  | { kind: 'deleteChar'; rdn: number; ava: number; at: number }
  | { kind: 'flipCase'; rdn: number; ava: number }
  | { kind: 'padSpaces'; rdn: number; ava: number; token: string }
  | { kind: 'changeType'; rdn: number; ava: number; oid: string }
  | { kind: 'swapRdns'; a: number; b: number }
  | { kind: 'dropRdn'; rdn: number }
  | { kind: 'duplicateRdn'; rdn: number }
  | { kind: 'moveAva'; rdn: number; ava: number; to: number }
  | { kind: 'reverse' };

const idx = fc.nat({ max: 16 });
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replaceChar' as const), rdn: idx, ava: idx, at: idx, token: fc.constantFrom(...VALUE_TOKENS) }),
  fc.record({ kind: fc.constant('insertChar' as const), rdn: idx, ava: idx, at: idx, token: fc.constantFrom(...VALUE_TOKENS) }),
  fc.record({ kind: fc.constant('deleteChar' as const), rdn: idx, ava: idx, at: idx }),
  fc.record({ kind: fc.constant('flipCase' as const), rdn: idx, ava: idx }),
  fc.record({ kind: fc.constant('padSpaces' as const), rdn: idx, ava: idx, token: fc.constantFrom(' ', '  ', '\u00a0', '\u3000', '\ufeff') }),
  fc.record({ kind: fc.constant('changeType' as const), rdn: idx, ava: idx, oid: typeArb.map((t) => t.oid) }),
  fc.record({ kind: fc.constant('swapRdns' as const), a: idx, b: idx }),
  fc.record({ kind: fc.constant('dropRdn' as const), rdn: idx }),
  fc.record({ kind: fc.constant('duplicateRdn' as const), rdn: idx }),
  fc.record({ kind: fc.constant('moveAva' as const), rdn: idx, ava: idx, to: idx }),
  fc.constant({ kind: 'reverse' as const }),
);

const flip = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

/** Applies a mutation to a copy of `dn`; the result always has at least one RDN. */
export function mutate(dn: DnModel, m: Mutation): DnModel {
  const out = dn.map((rdn) => rdn.map((ava) => ({ ...ava })));
  const rdnAt = (i: number) => out[i % out.length]!;
  const avaAt = (r: number, a: number) => {
    const rdn = rdnAt(r);
    return rdn[a % rdn.length]!;
  };
  const editValue = (r: number, a: number, edit: (chars: string[]) => void) => {
    const ava = avaAt(r, a);
    const chars = [...ava.value];
    edit(chars);
    ava.value = chars.join('');
  };
  switch (m.kind) {
    case 'replaceChar':
      editValue(m.rdn, m.ava, (c) => {
        if (c.length > 0) c.splice(m.at % c.length, 1, m.token);
        else c.push(m.token);
      });
      break;
    case 'insertChar':
      editValue(m.rdn, m.ava, (c) => c.splice(m.at % (c.length + 1), 0, m.token));
      break;
    case 'deleteChar':
      editValue(m.rdn, m.ava, (c) => {
        if (c.length > 0) c.splice(m.at % c.length, 1);
      });
      break;
    case 'flipCase':
      editValue(m.rdn, m.ava, (c) => c.splice(0, c.length, ...c.map(flip)));
      break;
    case 'padSpaces':
      editValue(m.rdn, m.ava, (c) => c.splice(0, c.length, m.token, ...c.map((x) => (x === ' ' ? `${x}${m.token}` : x)), m.token));
      break;
    case 'changeType':
      avaAt(m.rdn, m.ava).oid = m.oid;
      break;
    case 'swapRdns': {
      const a = m.a % out.length;
      const b = m.b % out.length;
      [out[a], out[b]] = [out[b]!, out[a]!];
      break;
    }
    case 'dropRdn':
      if (out.length > 1) out.splice(m.rdn % out.length, 1);
      break;
    case 'duplicateRdn': {
      const i = m.rdn % out.length;
      out.splice(
        i,
        0,
        out[i]!.map((ava) => ({ ...ava })),
      );
      break;
    }
    case 'moveAva': {
      const from = m.rdn % out.length;
      const rdn = out[from]!;
      const [ava] = rdn.splice(m.ava % rdn.length, 1);
      const to = m.to % (out.length + 1);
      if (to === out.length) out.push([ava!]);
      else out[to]!.push(ava!);
      for (let i = out.length - 1; i >= 0; i--) if (out[i]!.length === 0) out.splice(i, 1);
      break;
    }
    case 'reverse':
      out.reverse();
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// A coarse text fold, for arbitrary character edits

const KEYWORD_OID = new Map(TYPES.flatMap((t) => t.names.map((n) => [n.toLowerCase(), t.oid] as const)));

/**
 * Folds an RFC 4514 string so that any two spellings of the same DN fold alike (a necessary condition
 * only): NFKC, separators to spaces, case folded, spaces and backslashes dropped, keywords replaced by
 * their OID. If an edited string matches a DN, its fold must equal the DN's fold.
 */
export function coarseFold(text: string): string {
  const folded = [...text.normalize('NFKC').replace(/[\p{Zs}\p{Zl}\p{Zp}]/gu, ' ')]
    .map((c) => FOLD[c] ?? foldCodePoint(c).toLowerCase())
    .join('')
    .normalize('NFKC')
    .replace(/[ \\]/g, '');
  return folded.replace(/(^|[,+])(oid\.)?([a-z][a-z0-9-]*)=/g, (whole, lead: string, _oid, keyword: string) => {
    const oid = KEYWORD_OID.get(keyword);
    return oid ? `${lead}${oid}=` : whole;
  });
}
