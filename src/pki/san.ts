/**
 * Registered certificate-subject values (RFC 8705 §2.1.2, MD-3..MD-7) and the certificate's SAN values,
 * brought into one canonical space so that matching is a plain string equality. The kinds themselves are
 * defined in mapping/kinds.ts; their canonical forms are the rule tables here, one entry per kind
 * (`REGISTERED_VALUE_RULES`, `CERTIFICATE_VALUE_RULES`): a DNS name in lowercase ASCII without a trailing
 * dot (`*` has no wildcard meaning), a URI exactly as given, an IP address as the lowercase hex of its 4
 * or 16 bytes (compared as binary), an e-mail address with its local part exact and its domain in
 * lowercase, and a subject DN as `canonicalDn(parseRfc4514(value))`.
 */
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { CertboundError, InvalidInputError } from '../errors/index.js';
import { isMappingKind, MAPPING_KIND_DEFINITIONS, MAPPING_KIND_PARAMETER, MAPPING_KINDS, type MappingKind, SAN_KINDS, type SanKind } from '../mapping/kinds.js';
import { describeCodePoint, findControlCharacter } from './der.js';
import { canonicalDn, parseRfc4514 } from './dn/index.js';
import type { CertificateSans } from './san-extension.js';

export { MAPPING_KIND_PARAMETER, MAPPING_KINDS, type MappingKind, SAN_KINDS, type SanKind };

const MAX_VALUE_LENGTH = 4096;

// ---------------------------------------------------------------------------------------------------------------
// Validators: each returns a problem sentence (and optionally a hint) or undefined.

interface Problem {
  message: string;
  hint: string;
}

const DNS_HINT = 'Register the DNS name as it appears in the certificate SAN, in ASCII (A-labels for IDNs), without a trailing dot, e.g. client.example.com.';

function dnsProblem(value: string, allowWildcardLabel: boolean): Problem | undefined {
  if (/[^\x21-\x7e]/.test(value)) {
    if (/[\s\x00-\x1f\x7f]/.test(value)) return { message: 'contains whitespace or a control character', hint: DNS_HINT };
    const alabel = domainToASCII(value);
    return {
      message: 'contains non-ASCII characters',
      hint: `Internationalized names must be registered as A-labels${alabel ? ` (here: ${alabel})` : ' (xn--...)'}, as certificates carry them.`,
    };
  }
  if (value.length > 253) return { message: `is ${value.length} characters long (a DNS name has at most 253)`, hint: DNS_HINT };
  if (value.endsWith('.')) return { message: 'ends with a dot', hint: `Remove the trailing dot: ${value.replace(/\.+$/, '')}.` };
  const labels = value.split('.');
  for (const [i, label] of labels.entries()) {
    if (label === '') return { message: 'has an empty label (two dots in a row, or a leading dot)', hint: DNS_HINT };
    if (label === '*' && i === 0 && allowWildcardLabel) continue;
    if (label.length > 63) return { message: `has a label longer than 63 characters ('${label.slice(0, 20)}...')`, hint: DNS_HINT };
    if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(label)) {
      return {
        message: `has an invalid label '${label}'`,
        hint: label.includes('*')
          ? 'A * is only allowed as the whole first label (*.example.com), and it is matched literally: it never stands for other names.'
          : 'Labels use letters, digits and hyphens, and do not start or end with a hyphen.',
      };
    }
  }
  return undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Strict dotted-decimal IPv4: four decimal octets, no leading zeros, no shorthand (`127.1`), no hex. */
function parseIPv4(text: string): Uint8Array | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  return Uint8Array.from(m.slice(1, 5), Number);
}

/** IPv6 text (RFC 4291 §2.2, with an optional strict dotted-quad tail) to 16 bytes. Zone ids are refused. */
function parseIPv6(text: string): Uint8Array | undefined {
  if (text.includes('%') || !isIPv6(text)) return undefined;
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (!v4) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  for (const [i, g] of groups.entries()) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
    const n = Number.parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  }
  return bytes;
}

function ipBytes(value: string): { bytes?: Uint8Array; problem?: Problem } {
  if (value.includes(':')) {
    if (value.includes('%')) {
      return {
        problem: { message: 'has an IPv6 zone id (%...)', hint: `Zone ids are local to a host and never appear in certificates; register ${value.slice(0, value.indexOf('%'))}.` },
      };
    }
    const bytes = parseIPv6(value);
    return bytes ? { bytes } : { problem: { message: 'is not a valid IPv6 address', hint: 'Write IPv6 in colon-hex form (RFC 5952), e.g. 2001:db8::1.' } };
  }
  const bytes = parseIPv4(value);
  if (bytes) return { bytes };
  return {
    problem: {
      message: 'is not a strict dotted-decimal IPv4 address',
      hint: 'Write four decimal octets without leading zeros, e.g. 192.0.2.1 (not 127.1, 192.000.002.001 or 0x7f.0.0.1).',
    },
  };
}

const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

function uriProblem(value: string): Problem | undefined {
  const hint = 'Register the URI exactly as it appears in the certificate SAN: an absolute URI with a scheme, e.g. spiffe://example.org/client (no normalization is applied).';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:./.test(value)) return { message: 'is not an absolute URI with a scheme', hint };
  if (!URI_CHARS.test(value)) {
    return { message: 'contains characters a URI cannot contain (spaces, non-ASCII or others)', hint: `${hint} Percent-encode such characters as the certificate does.` };
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(value)) return { message: "has a '%' that is not followed by two hex digits", hint };
  return undefined;
}

function splitEmail(value: string): { local: string; domain: string } | undefined {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return undefined;
  return { local: value.slice(0, at), domain: value.slice(at + 1) };
}

/** RFC 5321 §4.1.2 Dot-string: atoms of atext joined by single dots. */
const DOT_STRING = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

/**
 * An rfc822Name is a mailbox (RFC 5280 §4.2.1.6, RFC 5321 §4.1.2): one `@` between a local part and a
 * domain name. Quoted local parts (`"a@b"@example.com`) are not registrable: RFC 5321 asks mailboxes
 * not to need them, and with them the `@` would no longer say where the domain starts.
 */
function emailProblem(value: string): Problem | undefined {
  const hint = 'Register the e-mail address as it appears in the certificate SAN (rfc822Name, a mailbox local@domain), e.g. ops@example.com; the local part is case-sensitive.';
  const ats = value.split('@').length - 1;
  if (ats > 1) return { message: `has ${ats} "@" characters (a mailbox has exactly one, between the local part and the domain)`, hint };
  const parts = splitEmail(value);
  if (!parts) return { message: 'is not of the form local@domain', hint };
  if (!/^[\x21-\x7e]+$/.test(parts.local)) return { message: 'has a local part with spaces, control or non-ASCII characters', hint };
  if (parts.local.length > 64) return { message: 'has a local part longer than 64 characters', hint };
  if (!DOT_STRING.test(parts.local)) {
    return { message: "has a local part that is not a dot-string (letters, digits and !#$%&'*+-/=?^_`{|}~, with single dots between them, RFC 5321 §4.1.2)", hint };
  }
  const domain = dnsProblem(parts.domain, false);
  if (domain) return { message: `has a domain that ${domain.message}`, hint: domain.hint };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Registration values

function mappingError(kind: MappingKind, value: string, problem: Problem, cause?: unknown): InvalidInputError {
  const shown = value.length > 200 ? `${value.slice(0, 200)}...` : value;
  return new InvalidInputError('ERR_MAPPING_VALUE', `The ${MAPPING_KIND_PARAMETER[kind]} value ${JSON.stringify(shown)} ${problem.message}.`, {
    hint: problem.hint,
    details: { kind },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Validates a registered mapping value and returns its canonical form (the rules at the top of this
 * file). Throws `InvalidInputError('ERR_MAPPING_VALUE')` with a hint; for `subject_dn` the RFC 4514
 * syntax error (`ERR_DN_SYNTAX`) is carried as `cause` and its message and hint are reused.
 *
 * @example
 * canonicalizeMappingValue('san_ip', '2001:DB8::1'); // '20010db8000000000000000000000001'
 * canonicalizeMappingValue('san_dns', 'Client.Example.COM'); // 'client.example.com'
 */
export function canonicalizeMappingValue(kind: MappingKind, value: string): string {
  if (typeof value !== 'string') throw new TypeError('canonicalizeMappingValue expects a string value');
  if (!isMappingKind(kind)) throw new TypeError(`unknown mapping kind ${String(kind)}`);
  if (value.length === 0) return fail(kind, value, { message: 'is empty', hint: `Give a ${MAPPING_KIND_PARAMETER[kind]} value.` });
  if (value.length > MAX_VALUE_LENGTH) return fail(kind, value, { message: `is longer than ${MAX_VALUE_LENGTH} characters`, hint: 'Register a shorter value.' });
  if (kind === 'subject_dn') {
    let dn: ReturnType<typeof parseRfc4514>;
    try {
      dn = parseRfc4514(value);
    } catch (cause) {
      if (cause instanceof CertboundError) {
        throw mappingError(kind, value, { message: `is not a valid RFC 4514 DN: ${cause.message.replace(/^Invalid DN: /, '')}`, hint: cause.hint ?? '' }, cause);
      }
      throw cause;
    }
    // An empty value (`CN=`) is valid RFC 4514 and stays allowed: certificates with an empty attribute
    // exist, and `--from-cert` must be able to register their subject.
    return canonicalDn(dn);
  }
  const control = findControlCharacter(value);
  if (control !== undefined) {
    return fail(kind, value, {
      message: `contains the control character ${describeCodePoint(control)}`,
      hint: 'Control characters (such as NUL) are never valid here (RFC 8705 §7.5).',
    });
  }
  if (value.trim() !== value) {
    return fail(kind, value, { message: 'has leading or trailing whitespace', hint: `Register ${JSON.stringify(value.trim())}.` });
  }
  return REGISTERED_VALUE_RULES[kind](value, kind);
}

/** The canonical form of a registered SAN value of each kind, or the refusal (thrown, with its hint). */
const REGISTERED_VALUE_RULES: { readonly [K in SanKind]: (value: string, kind: SanKind) => string } = {
  san_dns(value, kind) {
    const problem = dnsProblem(value, true);
    if (problem) return fail(kind, value, problem);
    return value.toLowerCase();
  },
  san_uri(value, kind) {
    const problem = uriProblem(value);
    if (problem) return fail(kind, value, problem);
    return value;
  },
  san_ip(value, kind) {
    const { bytes, problem } = ipBytes(value);
    if (!bytes) return fail(kind, value, problem!);
    return Buffer.from(bytes).toString('hex');
  },
  san_email(value, kind) {
    const problem = emailProblem(value);
    if (problem) return fail(kind, value, problem);
    const { local, domain } = splitEmail(value)!;
    return `${local}@${domain.toLowerCase()}`;
  },
};

function fail(kind: MappingKind, value: string, problem: Problem): never {
  throw mappingError(kind, value, problem);
}

// ---------------------------------------------------------------------------------------------------------------
// Certificate values

function sanError(code: string, message: string, hint: string): CertboundError {
  return new CertboundError(code, message, { status: 400, hint });
}

/**
 * Canonicalizes a SAN value read from a certificate into the same space as
 * {@link canonicalizeMappingValue}. IP addresses come as their 4 or 16 raw bytes (other lengths, such as
 * name-constraint forms, are malformed in a SAN). DNS, URI and e-mail values must be ASCII (they are
 * IA5Strings) and free of control characters; they are otherwise not validated, so an odd value (a
 * trailing dot, say) simply never equals a registration.
 * Throws `ERR_CERT_CONTROL_CHARACTER` (X-1) or `ERR_CERT_SAN_MALFORMED` (X-11), status 400.
 */
export function canonicalizeCertificateSan(kind: SanKind, rawValue: string | Uint8Array): string {
  return CERTIFICATE_VALUE_RULES[kind](rawValue, kind);
}

/**
 * A certificate's SAN values of one kind in canonical form, what registrations are compared with. The
 * values were checked when the certificate was parsed (pki/certificate.ts); IP addresses are kept there
 * in canonical form already.
 */
export function canonicalSanValues(san: CertificateSans, kind: SanKind): readonly string[] {
  const field = MAPPING_KIND_DEFINITIONS[kind].generalName!.field;
  return field === 'ip' ? san.ip : san[field].map((v) => canonicalizeCertificateSan(kind, v));
}

/** An IA5String SAN value as text: free of control characters (X-1) and ASCII only. */
function ia5Text(kind: SanKind, rawValue: string | Uint8Array): string {
  const value = typeof rawValue === 'string' ? rawValue : Buffer.from(rawValue).toString('latin1');
  const { label } = MAPPING_KIND_DEFINITIONS[kind];
  const control = findControlCharacter(value);
  if (control !== undefined) {
    throw sanError(
      'ERR_CERT_CONTROL_CHARACTER',
      `The certificate ${label} SAN ${JSON.stringify(value)} contains the control character ${describeCodePoint(control)}.`,
      'SAN values with NUL or other control characters are refused (RFC 8705 §7.5); reissue the certificate.',
    );
  }
  if (/[^\x00-\x7f]/.test(value)) {
    throw sanError(
      'ERR_CERT_SAN_MALFORMED',
      `The certificate ${label} SAN contains non-ASCII characters, which an IA5String cannot hold.`,
      'Reissue the certificate with ASCII SAN values (A-labels for IDNs, percent-encoding in URIs).',
    );
  }
  return value;
}

/** The canonical form of a certificate's SAN value of each kind, or the refusal (thrown, status 400). */
const CERTIFICATE_VALUE_RULES: { readonly [K in SanKind]: (rawValue: string | Uint8Array, kind: SanKind) => string } = {
  san_dns: (rawValue, kind) => ia5Text(kind, rawValue).toLowerCase(),
  san_uri: (rawValue, kind) => ia5Text(kind, rawValue),
  san_ip(rawValue) {
    if (typeof rawValue === 'string') {
      const { bytes } = ipBytes(rawValue);
      if (!bytes)
        throw sanError('ERR_CERT_SAN_MALFORMED', `The certificate IP SAN ${JSON.stringify(rawValue)} is not an IP address.`, 'Reissue the certificate with a valid iPAddress SAN.');
      return Buffer.from(bytes).toString('hex');
    }
    if (rawValue.length !== 4 && rawValue.length !== 16) {
      throw sanError(
        'ERR_CERT_SAN_MALFORMED',
        `The certificate has an IP SAN of ${rawValue.length} bytes; an address has 4 (IPv4) or 16 (IPv6).`,
        'Reissue the certificate with a valid iPAddress SAN.',
      );
    }
    return Buffer.from(rawValue).toString('hex');
  },
  san_email(rawValue, kind) {
    const value = ia5Text(kind, rawValue);
    const problem = certificateEmailProblem(value);
    if (problem) {
      throw sanError(
        'ERR_CERT_SAN_MALFORMED',
        `The certificate e-mail SAN ${JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value)} is not a mailbox (local@domain): it ${problem}.`,
        'Reissue the certificate with well-formed rfc822Name SAN entries (RFC 5280 §4.2.1.6: a Mailbox of RFC 5321, such as ops@example.com).',
      );
    }
    const parts = splitEmail(value)!;
    return `${parts.local}@${parts.domain.toLowerCase()}`;
  },
};

/**
 * Why an rfc822Name SAN is not a mailbox, or undefined. A malformed entry next to valid ones must not
 * pass (x509-limbo nc-permits-invalid-email-san): name constraints and registrations reason about the
 * domain after the one `@`, so an address with two of them has no single meaning.
 */
function certificateEmailProblem(value: string): string | undefined {
  const at = value.indexOf('@');
  if (at === -1) return 'has no @';
  if (value.indexOf('@', at + 1) !== -1) return 'has more than one @';
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length === 0 || local.length > 64 || !DOT_STRING.test(local)) return 'has an invalid local part'; // the registration rule: a quoted local part neither
  const problem = dnsProblem(domain, false);
  return problem ? `has a domain that ${problem.message}` : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Display

/** Text form of a canonical IP (hex of 4 or 16 bytes): dotted decimal, or RFC 5952 IPv6 (`::ffff:a.b.c.d` for mapped). */
export function ipTextFromCanonical(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return hex;
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16));
  // RFC 5952 §4.2: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
