/**
 * RFC 5280 §4.2.1.10 name constraints of a trust anchor, applied as OpenSSL applies them
 * (crypto/x509/v3_ncons.c): OpenSSL enforces the constraints of every CA on the path, the trust anchor
 * included, while pkijs (the proxy path's validator, SC-7) starts below the anchor. The proxy path calls
 * this for the anchor's constraints so that both paths refuse the same chains (H15-4). Constraints of
 * intermediates stay pkijs's.
 *
 * Supported forms, as OpenSSL: rfc822Name, dNSName, uniformResourceIdentifier (its host), iPAddress and
 * directoryName. A constraint certbound cannot read (a second `@` in a mailbox, a wildcard in a DNS
 * name, an address whose mask is not 4/16 bytes) refuses every chain through the anchor.
 */
import { readTlv, TAG_CLASS, type Tlv } from './der.js';
import { canonicalDn, type DistinguishedName, dnFromCertificateName } from './dn/index.js';
import type { ParsedCertificate } from './certificate.js';

export type NameConstraint =
  | { type: 'email' | 'dns' | 'uri'; value: string }
  | { type: 'ip'; address: Uint8Array; mask: Uint8Array }
  | { type: 'dn'; value: DistinguishedName }
  | { type: 'other'; tag: number };

export interface NameConstraints {
  permitted: NameConstraint[];
  excluded: NameConstraint[];
  /** Why a constraint cannot be applied; such an anchor refuses every chain. */
  malformed?: string;
}

function children(tlv: Tlv): Tlv[] | string {
  const out: Tlv[] = [];
  for (let offset = 0; offset < tlv.content.length; ) {
    const r = readTlv(tlv.content, offset);
    if ('problem' in r) return r.problem;
    out.push(r.tlv);
    offset = r.end;
  }
  return out;
}

function readBase(base: Tlv): NameConstraint | string {
  if (base.tagClass !== TAG_CLASS.context) return 'a subtree base is not a GeneralName';
  const text = () => Buffer.from(base.content).toString('latin1');
  switch (base.tagNumber) {
    case 1: {
      const v = text();
      if (v.split('@').length > 2) return `the rfc822Name constraint ${JSON.stringify(v)} has more than one @`;
      return { type: 'email', value: v };
    }
    case 2: {
      const v = text();
      if (v.includes('*')) return `the dNSName constraint ${JSON.stringify(v)} contains a wildcard`;
      return { type: 'dns', value: v };
    }
    case 6:
      return { type: 'uri', value: text() };
    case 7: {
      const n = base.content.length;
      if (n !== 8 && n !== 32) return `an iPAddress constraint has ${n} bytes (8 or 32: address and mask)`;
      return { type: 'ip', address: base.content.subarray(0, n / 2), mask: base.content.subarray(n / 2) };
    }
    case 4: {
      const inner = children(base);
      if (typeof inner === 'string' || inner.length !== 1) return 'a directoryName constraint is malformed';
      try {
        return { type: 'dn', value: dnFromCertificateName(base.content) };
      } catch (err) {
        return `a directoryName constraint is malformed (${(err as Error).message})`;
      }
    }
    default:
      return { type: 'other', tag: base.tagNumber };
  }
}

/** Reads the DER of a nameConstraints extension value (already checked against the ASN.1 schema). */
export function readNameConstraints(value: Uint8Array): NameConstraints {
  const out: NameConstraints = { permitted: [], excluded: [] };
  const fail = (why: string): NameConstraints => ({ ...out, malformed: why });
  const root = readTlv(value);
  if ('problem' in root) return fail(root.problem);
  const parts = children(root.tlv);
  if (typeof parts === 'string') return fail(parts);
  for (const part of parts) {
    const list = part.tagNumber === 0 ? out.permitted : part.tagNumber === 1 ? out.excluded : undefined;
    if (!list || part.tagClass !== TAG_CLASS.context) return fail('unexpected element in nameConstraints');
    const subtrees = children(part);
    if (typeof subtrees === 'string') return fail(subtrees);
    for (const subtree of subtrees) {
      const fields = children(subtree);
      if (typeof fields === 'string' || fields.length === 0) return fail('a GeneralSubtree is malformed');
      const base = readBase(fields[0]!);
      if (typeof base === 'string') return fail(base);
      list.push(base);
    }
  }
  return out;
}

function lower(s: string): string {
  return s.toLowerCase();
}

/** OpenSSL nc_dns: the name equals the base or ends with "." + base; a base with a leading dot matches subdomains only. */
function dnsMatches(name: string, base: string): boolean {
  if (base === '') return true;
  const n = lower(name);
  const b = lower(base);
  if (n.length < b.length || !n.endsWith(b)) return false;
  return n.length === b.length || b.startsWith('.') || n[n.length - b.length - 1] === '.';
}

/** OpenSSL nc_email: a mailbox (exact local part), a host, or `.domain` (any host below it). */
function emailMatches(mailbox: string, base: string): boolean {
  const at = mailbox.lastIndexOf('@');
  if (at === -1) return false;
  const local = mailbox.slice(0, at);
  const host = mailbox.slice(at + 1);
  const baseAt = base.lastIndexOf('@');
  if (baseAt === -1 && base.startsWith('.')) return lower(host).endsWith(lower(base));
  let baseHost = base;
  if (baseAt !== -1) {
    if (baseAt > 0 && base.slice(0, baseAt) !== local) return false;
    baseHost = base.slice(baseAt + 1);
  }
  return lower(baseHost) === lower(host);
}

/** OpenSSL nc_uri: the URI's host against a host or a `.domain`. */
function uriMatches(uri: string, base: string): boolean {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(uri);
  const found = m?.[1];
  if (!found) return false;
  const host = lower(found);
  const b = lower(base);
  return b.startsWith('.') ? host.endsWith(b) : host === b;
}

function ipMatches(hex: string, c: { address: Uint8Array; mask: Uint8Array }): boolean {
  const ip = Buffer.from(hex, 'hex');
  if (ip.length !== c.address.length) return false;
  return ip.every((byte, i) => (byte & c.mask[i]!) === (c.address[i]! & c.mask[i]!));
}

function dnMatches(subject: DistinguishedName, base: DistinguishedName): boolean {
  if (base.length > subject.length) return false;
  return canonicalDn(subject.slice(0, base.length)) === canonicalDn(base);
}

type Names = Pick<ParsedCertificate, 'subject' | 'san'>;

const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

function namesOf(cert: Names): { type: NameConstraint['type']; check: (c: NameConstraint) => boolean; shown: string }[] {
  const emails = [...cert.san.email];
  // OpenSSL also holds subject emailAddress attributes to the rfc822Name constraints.
  for (const rdn of cert.subject) for (const ava of rdn) if (ava.type === EMAIL_ADDRESS && ava.value !== undefined) emails.push(ava.value);
  return [
    ...(cert.subject.length ? [{ type: 'dn' as const, shown: 'the subject', check: (c: NameConstraint) => c.type === 'dn' && dnMatches(cert.subject, c.value) }] : []),
    ...emails.map((e) => ({ type: 'email' as const, shown: `e-mail ${e}`, check: (c: NameConstraint) => c.type === 'email' && emailMatches(e, c.value) })),
    ...cert.san.dns.map((d) => ({ type: 'dns' as const, shown: `DNS ${d}`, check: (c: NameConstraint) => c.type === 'dns' && dnsMatches(d, c.value) })),
    ...cert.san.uri.map((u) => ({ type: 'uri' as const, shown: `URI ${u}`, check: (c: NameConstraint) => c.type === 'uri' && uriMatches(u, c.value) })),
    ...cert.san.ip.map((ip, i) => ({ type: 'ip' as const, shown: `IP ${cert.san.ipText[i]}`, check: (c: NameConstraint) => c.type === 'ip' && ipMatches(ip, c) })),
  ];
}

/**
 * Why `cert`'s names break `constraints` (a sentence), or undefined when they do not.
 *
 * @example
 * nameConstraintViolation(anchor.nameConstraints, leaf); // 'e-mail a@other.example is outside the permitted names'
 */
export function nameConstraintViolation(constraints: NameConstraints, cert: Names): string | undefined {
  if (constraints.malformed) return `the trust anchor has a name constraint that cannot be applied: ${constraints.malformed}`;
  for (const name of namesOf(cert)) {
    const permitted = constraints.permitted.filter((c) => c.type === name.type);
    if (permitted.length && !permitted.some(name.check)) return `${name.shown} is outside the names the trust anchor permits`;
    if (constraints.excluded.some(name.check)) return `${name.shown} is among the names the trust anchor excludes`;
  }
  return undefined;
}
