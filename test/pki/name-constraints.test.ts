import { describe, expect, it } from 'vitest';
import { nameConstraintViolation, type ParsedCertificate } from '../../src/pki/index.js';
import { readNameConstraints } from '../../src/pki/name-constraints.js';
import { der, name, OID } from '../helpers/asn1.js';

/** nameConstraints value: permitted [0] / excluded [1] subtrees of raw GeneralName bases. */
function constraints(permitted: Uint8Array[], excluded: Uint8Array[] = []) {
  const subtrees = (bases: Uint8Array[]) => bases.map((b) => der.seq(b));
  const parts = [...(permitted.length ? [tlvCtx(0xa0, subtrees(permitted))] : []), ...(excluded.length ? [tlvCtx(0xa1, subtrees(excluded))] : [])];
  return readNameConstraints(der.seq(...parts));
}
function tlvCtx(tag: number, items: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(items.map((i) => Buffer.from(i)));
  return Uint8Array.from([tag, body.length, ...body]);
}
const email = (v: string) => der.implicit(1, Buffer.from(v));
const dns = (v: string) => der.implicit(2, Buffer.from(v));
const uri = (v: string) => der.implicit(6, Buffer.from(v));
const ip = (...bytes: number[]) => der.implicit(7, Uint8Array.from(bytes));

function cert(san: Partial<ParsedCertificate['san']>, subject: ParsedCertificate['subject'] = []): Pick<ParsedCertificate, 'subject' | 'san'> {
  return { subject, san: { dns: [], uri: [], ip: [], ipText: [], email: [], ...san } };
}

describe("trust anchor name constraints, OpenSSL's matching (H15-4, SC-6)", () => {
  it.each([
    ['a mailbox matches exactly (local part case-sensitive)', [email('foo@example.com')], 'foo@EXAMPLE.com', true],
    ['a mailbox does not match another local part', [email('foo@example.com')], 'Foo@example.com', false],
    ['a host matches any mailbox on it', [email('example.com')], 'a@example.com', true],
    ['a host does not match a subdomain', [email('example.com')], 'a@sub.example.com', false],
    ['.domain matches subdomains only', [email('.example.com')], 'a@sub.example.com', true],
    ['* is literal', [email('*@example.com')], 'user@example.com', false],
  ])('H15-4: rfc822Name: %s', (_label, bases, mailbox, ok) => {
    expect(nameConstraintViolation(constraints(bases), cert({ email: [mailbox] })) === undefined).toBe(ok);
  });

  it.each([
    ['the base itself', 'example.com', 'example.com', true],
    ['a subdomain', 'example.com', 'a.example.com', true],
    ['a suffix that is not a label boundary', 'example.com', 'badexample.com', false],
    ['.domain: the apex is not covered', '.example.com', 'example.com', false],
  ])('H15-4: dNSName: %s', (_label, base, name, ok) => {
    expect(nameConstraintViolation(constraints([dns(base)]), cert({ dns: [name] })) === undefined).toBe(ok);
  });

  it('H15-4: URI hosts, IP ranges and excluded subtrees', () => {
    expect(nameConstraintViolation(constraints([uri('example.com')]), cert({ uri: ['https://example.com/x'] }))).toBeUndefined();
    expect(nameConstraintViolation(constraints([uri('example.com')]), cert({ uri: ['https://evil.com/x'] }))).toMatch(/outside/);
    expect(nameConstraintViolation(constraints([ip(10, 0, 0, 0, 255, 0, 0, 0)]), cert({ ip: ['0a010203'], ipText: ['10.1.2.3'] }))).toBeUndefined();
    expect(nameConstraintViolation(constraints([ip(10, 0, 0, 0, 255, 0, 0, 0)]), cert({ ip: ['0b010203'], ipText: ['11.1.2.3'] }))).toMatch(/IP 11\.1\.2\.3/);
    expect(nameConstraintViolation(constraints([], [dns('bad.example.com')]), cert({ dns: ['x.bad.example.com'] }))).toMatch(/excludes/);
    // a constraint of one form says nothing about names of another form
    expect(nameConstraintViolation(constraints([dns('example.com')]), cert({ email: ['a@other.test'] }))).toBeUndefined();
  });

  it('H15-4: directoryName: the subject must be below the base', () => {
    const base = der.explicit(4, name([[[OID.O, der.utf8('Acme')]]]));
    const acme = [[{ type: OID.O, value: 'Acme' }], [{ type: OID.CN, value: 'x' }]];
    const other = [[{ type: OID.O, value: 'Evil' }], [{ type: OID.CN, value: 'x' }]];
    expect(nameConstraintViolation(constraints([base]), cert({}, acme))).toBeUndefined();
    expect(nameConstraintViolation(constraints([base]), cert({}, other))).toMatch(/subject/);
  });

  it('H15-4: a constraint that cannot be read refuses every chain (x509-limbo invalid-email-address, invalid-dnsname-wildcard)', () => {
    expect(nameConstraintViolation(constraints([email('invalid@invalid@example.com')]), cert({ email: ['example@example.com'] }))).toMatch(/more than one @/);
    expect(nameConstraintViolation(constraints([dns('*.example.com')]), cert({ dns: ['a.example.com'] }))).toMatch(/wildcard/);
    expect(nameConstraintViolation(constraints([ip(10, 0, 0, 0)]), cert({ ip: ['0a000001'], ipText: ['10.0.0.1'] }))).toMatch(/4 bytes/);
  });
});
