import { describe, expect, it } from 'vitest';
import { canonicalizeCertificateSan, canonicalizeMappingValue, ipTextFromCanonical, type MappingKind } from '../../src/pki/index.js';
import { errorOf as errorOfAny } from '../helpers/errors.js';

const errorOf = (fn: () => unknown) => errorOfAny<{ code?: string; message: string; hint?: string; status?: number; cause?: { code?: string } }>(fn);

function refused(kind: MappingKind, value: string) {
  const err = errorOf(() => canonicalizeMappingValue(kind, value));
  expect(err.code).toBe('ERR_MAPPING_VALUE');
  expect(err.status).toBe(400);
  expect(err.hint).toBeTruthy();
  return err;
}

describe('san_dns (MD-4)', () => {
  it('MD-4: lowercases, so registered client.example.com equals SAN Client.Example.COM', () => {
    expect(canonicalizeMappingValue('san_dns', 'client.example.com')).toBe('client.example.com');
    expect(canonicalizeMappingValue('san_dns', 'Client.Example.COM')).toBe('client.example.com');
    expect(canonicalizeCertificateSan('san_dns', 'Client.Example.COM')).toBe('client.example.com');
  });

  it('MD-4 / X-9: *.example.com is accepted as a literal that equals only *.example.com', () => {
    expect(canonicalizeMappingValue('san_dns', '*.Example.com')).toBe('*.example.com');
    expect(canonicalizeCertificateSan('san_dns', '*.example.com')).not.toBe(canonicalizeMappingValue('san_dns', 'a.example.com'));
  });

  it('MD-4: IDNs must be registered as A-labels; the hint gives the A-label', () => {
    const err = refused('san_dns', 'bücher.example');
    expect(err.message).toMatch(/non-ASCII/);
    expect(err.hint).toContain('xn--bcher-kva.example');
    expect(canonicalizeMappingValue('san_dns', 'xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
  });

  it.each([
    ['client.example.com.', /ends with a dot/],
    ['client..example.com', /empty label/],
    ['.example.com', /empty label/],
    ['a.*.example.com', /invalid label/],
    ['*client.example.com', /invalid label/],
    ['-a.example.com', /invalid label/],
    ['a b.example.com', /whitespace/],
    ['client.example.com ', /whitespace/],
    [`${'a'.repeat(64)}.example.com`, /longer than 63/],
    [`${'a.'.repeat(127)}aa`, /253/],
    ['', /empty/],
    ['a\u0000b.example.com', /U\+0000/],
  ])('MD-4: %j is refused with ERR_MAPPING_VALUE', (value, message) => {
    expect(refused('san_dns', value).message).toMatch(message);
  });
});

describe('san_ip (MD-6)', () => {
  it('MD-6: IPv6 text forms that denote the same 16 bytes have the same canonical form', () => {
    const expected = '20010db8000000000000000000000001';
    for (const text of ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8:0000::0001']) {
      expect(canonicalizeMappingValue('san_ip', text), text).toBe(expected);
    }
    expect(canonicalizeCertificateSan('san_ip', Buffer.from(expected, 'hex'))).toBe(expected);
  });

  it('MD-6: 192.0.2.1 (4 bytes) does not equal ::ffff:192.0.2.1 (16 bytes)', () => {
    expect(canonicalizeMappingValue('san_ip', '192.0.2.1')).toBe('c0000201');
    expect(canonicalizeMappingValue('san_ip', '::ffff:192.0.2.1')).toBe('00000000000000000000ffffc0000201');
    expect(canonicalizeCertificateSan('san_ip', Uint8Array.of(192, 0, 2, 1))).toBe('c0000201');
  });

  it('MD-6: the IPv6 forms ::, ::1 and 1:: parse', () => {
    expect(canonicalizeMappingValue('san_ip', '::')).toBe('0'.repeat(32));
    expect(canonicalizeMappingValue('san_ip', '::1')).toBe(`${'0'.repeat(31)}1`);
    expect(canonicalizeMappingValue('san_ip', '1::')).toBe(`0001${'0'.repeat(28)}`);
  });

  it.each([
    ['fe80::1%eth0', /zone id/],
    ['127.1', /strict dotted-decimal/],
    ['0x7f.0.0.1', /strict dotted-decimal/],
    ['192.000.002.001', /strict dotted-decimal/],
    ['01.2.3.4', /strict dotted-decimal/],
    ['256.1.1.1', /strict dotted-decimal/],
    ['1.2.3.4/24', /strict dotted-decimal/],
    ['2001:db8::1::2', /IPv6/],
    ['2001:db8:0:0:0:0:0:0:1', /IPv6/],
    ['::ffff:192.000.2.1', /IPv6/],
    ['[2001:db8::1]', /IPv6/],
    ['localhost', /strict dotted-decimal/],
  ])('MD-6: %j is refused with ERR_MAPPING_VALUE', (value, message) => {
    expect(refused('san_ip', value).message).toMatch(message);
  });

  it('MD-6: the zone-id hint names the address without the zone', () => {
    expect(refused('san_ip', 'fe80::1%eth0').hint).toContain('fe80::1');
  });

  it('MD-6: a certificate IP SAN that is not 4 or 16 bytes is malformed (X-11)', () => {
    expect(errorOf(() => canonicalizeCertificateSan('san_ip', Uint8Array.of(1, 2, 3, 4, 255, 255, 255, 0))).code).toBe('ERR_CERT_SAN_MALFORMED');
  });

  it('ipTextFromCanonical prints dotted decimal and RFC 5952 text', () => {
    expect(ipTextFromCanonical('c0000201')).toBe('192.0.2.1');
    expect(ipTextFromCanonical('20010db8000000000000000000000001')).toBe('2001:db8::1');
    expect(ipTextFromCanonical('20010db8000000010000000000000001')).toBe('2001:db8:0:1::1');
    expect(ipTextFromCanonical('20010db8000000000001000000000001')).toBe('2001:db8::1:0:0:1');
    expect(ipTextFromCanonical('20010db8000100010001000100010001')).toBe('2001:db8:1:1:1:1:1:1');
    expect(ipTextFromCanonical('00000000000000000000ffffc0000201')).toBe('::ffff:192.0.2.1');
    expect(ipTextFromCanonical('0'.repeat(32))).toBe('::');
  });
});

describe('san_uri (MD-5)', () => {
  it('MD-5: the canonical form is the exact string: no normalization at all', () => {
    const value = 'https://client.example.com/id';
    expect(canonicalizeMappingValue('san_uri', value)).toBe(value);
    expect(canonicalizeMappingValue('san_uri', 'https://client.example.com/id/')).not.toBe(value);
    expect(canonicalizeMappingValue('san_uri', 'https://client.example.com/%69d')).not.toBe(value);
    expect(canonicalizeMappingValue('san_uri', 'HTTPS://Client.Example.com/id')).not.toBe(value);
    expect(canonicalizeMappingValue('san_uri', 'spiffe://example.org/ns/prod/sa/client')).toBe('spiffe://example.org/ns/prod/sa/client');
    expect(canonicalizeMappingValue('san_uri', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66')).toBe('urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66');
  });

  it.each([
    ['client.example.com/id', /absolute URI/],
    ['/relative/path', /absolute URI/],
    ['https:', /absolute URI/],
    ['https://client.example.com/a b', /characters a URI cannot contain/],
    ['https://bücher.example/', /characters a URI cannot contain/],
    ['https://client.example.com/%zz', /'%'/],
  ])('MD-5: %j is refused with ERR_MAPPING_VALUE', (value, message) => {
    expect(refused('san_uri', value).message).toMatch(message);
  });
});

describe('san_email (MD-7)', () => {
  it('MD-7: the local part is exact and the domain case-insensitive', () => {
    expect(canonicalizeMappingValue('san_email', 'Ops@Example.COM')).toBe('Ops@example.com');
    expect(canonicalizeCertificateSan('san_email', 'Ops@Example.COM')).toBe(canonicalizeMappingValue('san_email', 'Ops@example.com'));
    expect(canonicalizeCertificateSan('san_email', 'ops@example.com')).not.toBe(canonicalizeMappingValue('san_email', 'Ops@example.com'));
  });

  it.each([
    ['ops', /local@domain/],
    ['@example.com', /local@domain/],
    ['ops@', /local@domain/],
    ['ops@example.com.', /domain that ends with a dot/],
    ['o ps@example.com', /local part/],
    ['jöns@example.com', /local part/],
  ])('MD-7: %j is refused with ERR_MAPPING_VALUE', (value, message) => {
    expect(refused('san_email', value).message).toMatch(message);
  });

  it.each([
    ['a@b@c.example', /has 2 "@" characters/],
    ['"a@b"@c.example', /has 2 "@" characters/],
    ['"ops"@example.com', /not a dot-string/],
    ['.ops@example.com', /not a dot-string/],
    ['ops.@example.com', /not a dot-string/],
    ['o..ps@example.com', /not a dot-string/],
    ['o(ps)@example.com', /not a dot-string/],
  ])('MD-7 (ADMIN-070): %j is not a mailbox (RFC 5280 §4.2.1.6): refused, naming the parameter, with an example', (value, message) => {
    const err = refused('san_email', value);
    expect(err.message).toMatch(message);
    expect(err.message).toContain('tls_client_auth_san_email');
    expect(err.hint).toContain('ops@example.com');
  });

  it.each(["o'brien+tag@example.com", 'first.last@Example.COM', 'a_b-c=d@sub.example.com', '!#$%&*/?^`{|}~@example.com'])('MD-7: the mailbox %j is registrable', (value) => {
    const at = value.lastIndexOf('@');
    expect(canonicalizeMappingValue('san_email', value)).toBe(`${value.slice(0, at)}@${value.slice(at + 1).toLowerCase()}`);
  });
});

describe('subject_dn (MD-3)', () => {
  it('MD-3: canonical form of an RFC 4514 DN', () => {
    expect(canonicalizeMappingValue('subject_dn', 'CN=Client1, O=Acme, C=US')).toBe('2.5.4.6=us,2.5.4.10=acme,2.5.4.3=client1');
  });

  it('MD-3 / X-4: an invalid DN is ERR_MAPPING_VALUE carrying the ERR_DN_SYNTAX cause and hint', () => {
    const err = refused('subject_dn', '/CN=a,b/O=x');
    expect(err.cause?.code).toBe('ERR_DN_SYNTAX');
    expect(err.message).toContain('tls_client_auth_subject_dn');
    expect(err.hint).toMatch(/RFC 4514/);
  });

  it('MD-3: an empty attribute value (CN=) is valid RFC 4514 and kept: certificates with one exist, and --from-cert registers their subject', () => {
    expect(canonicalizeMappingValue('subject_dn', 'CN=,O=Acme')).toBe('2.5.4.10=acme,2.5.4.3=');
    expect(canonicalizeMappingValue('subject_dn', 'CN=billing+UID=,O=Acme')).toMatch(/^2\.5\.4\.10=acme,/);
  });
});

describe('certificate SAN values (X-1)', () => {
  it.each(['san_dns', 'san_uri', 'san_email'] as const)('X-1: a NUL byte in a %s SAN is refused with ERR_CERT_CONTROL_CHARACTER', (kind) => {
    const err = errorOf(() => canonicalizeCertificateSan(kind, 'good.example.com\u0000attacker.net'));
    expect(err.code).toBe('ERR_CERT_CONTROL_CHARACTER');
    expect(err.status).toBe(400);
  });

  it('X-3: non-ASCII bytes in an IA5String SAN are malformed', () => {
    expect(errorOf(() => canonicalizeCertificateSan('san_dns', Uint8Array.of(0x61, 0xe9))).code).toBe('ERR_CERT_SAN_MALFORMED');
  });
});
