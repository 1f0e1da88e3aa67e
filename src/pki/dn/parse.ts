/**
 * RFC 4514 text to a DistinguishedName (MD-3, X-4..X-6): the form a client's `tls_client_auth_subject_dn`
 * is registered in. Strict, with messages that say where the problem is and how to write it instead.
 */
import { InvalidInputError } from '../../errors/index.js';
import { describeCodePoint, decodeStringValue, findControlCharacter, readSingleElement, TAG_CLASS, type Tlv } from '../der.js';
import { type Ava, attributeTypeByName, type DistinguishedName, type Rdn } from './attributes.js';
import { escapeRfc4514Value } from './format.js';

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

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
    const known = attributeTypeByName(keyword);
    if (!known) {
      throw syntax(
        `Invalid DN: unknown attribute type '${keyword}' ${this.at(start)}.`,
        `Use a standard keyword (CN, O, OU, L, ST, C, STREET, DC, UID, emailAddress, serialNumber, ...) or the dotted OID, e.g. 2.5.4.3=value.`,
      );
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
      throw syntax(
        `Invalid DN: '#' ${this.at(start)} starts a hex-encoded BER value, but '${next}' ${this.at()} is not a hex digit.`,
        'A value starting with # must be # followed by the hex of a BER encoding; write a literal # as \\#.',
      );
    }
    if (hex.length === 0 || hex.length % 2 !== 0) {
      throw syntax(
        `Invalid DN: the hex value ${this.at(start)} has ${hex.length} hex digits; it needs a positive, even number.`,
        'Write a BER value as #<hex pairs>, e.g. #0c03616263; write a literal # as \\#.',
      );
    }
    const raw = new Uint8Array(Buffer.from(hex, 'hex'));
    let element: Tlv;
    try {
      element = readSingleElement(raw, 'The #hex value', 'ERR_DN_SYNTAX');
    } catch (cause) {
      throw syntax(
        `Invalid DN: the #hex value ${this.at(start)}..${end} is not one complete BER element.`,
        'Give the hex of the full BER encoding (tag, length and content), e.g. #0c03616263 for UTF8String "abc".',
        { cause: (cause as Error).message },
      );
    }
    if (element.tagClass !== TAG_CLASS.universal || element.constructed) return { type, value: undefined, raw };
    const decoded = decodeStringValue(element.tagNumber, element.content);
    if (decoded.ok) return { type, value: decoded.value, raw };
    if (decoded.kind === 'not-a-string') return { type, value: undefined, raw };
    throw syntax(
      `Invalid DN: the #hex value ${this.at(start)} ${decoded.problem}.`,
      decoded.kind === 'control' ? 'Control characters (such as NUL) are never allowed in a DN value.' : 'Fix the encoded string.',
    );
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
          throw syntax(
            `Invalid DN: bad escape ${what} ${this.at()}.`,
            'After a backslash write one of , + " \\ < > ; = # or a space, or two hex digits (\\2C is a comma, \\C3\\AB is ë).',
          );
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
        throw syntax(
          `Invalid DN: the value ${this.at(start)} contains the control character ${describeCodePoint(cp)} ${this.at()}.`,
          'Control characters (such as NUL) are never allowed in a DN value (RFC 8705 §7.5).',
        );
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
        throw syntax(
          `Invalid DN: the value ${this.at(start)} contains the control character ${describeCodePoint(control)} (from a \\hh escape).`,
          'Control characters (such as NUL) are never allowed in a DN value (RFC 8705 §7.5).',
        );
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
