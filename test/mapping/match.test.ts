import { beforeAll, describe, expect, it } from 'vitest';
import { type CertificateMapping, isMappingValidAt, MAPPING_REASONS, type MatchResult, matchCertificateToClient } from '../../src/mapping/index.js';
import { canonicalizeMappingValue, type MappingKind, type ParsedCertificate, parseCertificate } from '../../src/pki/index.js';
import { craftCertificate, der, name, OID, sanExtension } from '../helpers/asn1.js';
import { createTestPki, type LeafOptions, type TestPki } from '../helpers/pki.js';

const NOW = new Date('2030-06-01T00:00:00Z');
let pki: TestPki;
let nextId = 0;

function mapping(kind: MappingKind, value: string, extra: Partial<CertificateMapping> = {}): CertificateMapping {
  nextId++;
  return { id: `m${nextId}`, kind, value, canonical: canonicalizeMappingValue(kind, value), ...extra };
}

async function client(options: LeafOptions): Promise<ParsedCertificate> {
  return parseCertificate((await pki.client(options)).der);
}

function match(cert: ParsedCertificate, mappings: CertificateMapping[], anchorSpki?: string): MatchResult {
  return matchCertificateToClient(cert, mappings, { now: NOW, anchorSpki });
}

/** The single refusal reason for one mapping. */
function reason(cert: ParsedCertificate, m: CertificateMapping, anchorSpki?: string) {
  const result = match(cert, [m], anchorSpki);
  if (result.matched) throw new Error(`expected no match for ${m.kind}=${m.value}`);
  expect(result.reasons).toHaveLength(1);
  const [r] = result.reasons;
  expect(r!.mappingId).toBe(m.id);
  expect(r!.message.length).toBeGreaterThan(10);
  expect(r!.hint.length).toBeGreaterThan(10);
  return r!;
}

function matches(cert: ParsedCertificate, m: CertificateMapping, anchorSpki?: string): boolean {
  return match(cert, [m], anchorSpki).matched;
}

beforeAll(async () => {
  pki = await createTestPki('Mapping');
});

describe('subject_dn (PKI-4, MD-3, X-2, X-5)', () => {
  let cert: ParsedCertificate;
  beforeAll(async () => {
    cert = await client({ subject: [{ C: ['US'] }, { O: ['Acme'] }, { OU: ['Eng'] }, { CN: ['client1'] }] });
  });

  it('X-5: registered CN=client1,OU=Eng,O=Acme,C=US matches; the reversed DN is refused as SUBJECT_DN_ORDER_REVERSED', () => {
    expect(matches(cert, mapping('subject_dn', 'CN=client1,OU=Eng,O=Acme,C=US'))).toBe(true);
    const r = reason(cert, mapping('subject_dn', 'C=US,O=Acme,OU=Eng,CN=client1'));
    expect(r.code).toBe('SUBJECT_DN_ORDER_REVERSED');
    expect(r.hint).toContain('CN=client1,OU=Eng,O=Acme,C=US');
  });

  it('X-6 / X-7: case, aliases and whitespace differences still match', () => {
    expect(matches(cert, mapping('subject_dn', 'cn=CLIENT1, ou=eng, o=ACME, c=us'))).toBe(true);
    expect(matches(cert, mapping('subject_dn', '2.5.4.3=client1,2.5.4.11=Eng,2.5.4.10=Acme,2.5.4.6=US'))).toBe(true);
  });

  it('MD-9 / X-2: the whole DN is compared, never just the CN', () => {
    const r = reason(cert, mapping('subject_dn', 'CN=client1'));
    expect(r.code).toBe('SUBJECT_DN_MISMATCH');
    expect(r.message).toBe('The certificate subject is CN=client1,OU=Eng,O=Acme,C=US; this client expects CN=client1.');
    expect(reason(cert, mapping('subject_dn', 'CN=client1,OU=Eng,O=Acme,C=US,DC=extra')).code).toBe('SUBJECT_DN_MISMATCH');
    expect(reason(cert, mapping('subject_dn', 'CN=client2,OU=Eng,O=Acme,C=US')).code).toBe('SUBJECT_DN_MISMATCH');
  });

  it('PKI-6: a new certificate with the same subject and a new key matches the same mapping', async () => {
    const m = mapping('subject_dn', 'CN=client1,OU=Eng,O=Acme,C=US');
    const rotated = await client({ subject: [{ C: ['US'] }, { O: ['Acme'] }, { OU: ['Eng'] }, { CN: ['client1'] }] });
    expect(rotated.x5t).not.toBe(cert.x5t);
    expect(matches(rotated, m)).toBe(true);
  });

  it('X-2: multi-valued RDNs and repeated CNs', async () => {
    const multi = await client({ subject: [{ O: ['Acme'] }, { CN: ['x'], '0.9.2342.19200300.100.1.1': ['y'] }] });
    expect(matches(multi, mapping('subject_dn', 'UID=y+CN=x,O=Acme'))).toBe(true);
    expect(matches(multi, mapping('subject_dn', 'CN=x+UID=y,O=Acme'))).toBe(true);
    expect(reason(multi, mapping('subject_dn', 'CN=x,O=Acme')).code).toBe('SUBJECT_DN_MISMATCH');

    const twoCn = await client({ subject: [{ O: ['Acme'] }, { CN: ['first'] }, { CN: ['second'] }] });
    expect(matches(twoCn, mapping('subject_dn', 'CN=second,CN=first,O=Acme'))).toBe(true);
    expect(reason(twoCn, mapping('subject_dn', 'CN=first,O=Acme')).code).toBe('SUBJECT_DN_MISMATCH');
    // Swapping two RDNs is a different DN, and not a full reversal either.
    expect(reason(twoCn, mapping('subject_dn', 'CN=first,CN=second,O=Acme')).code).toBe('SUBJECT_DN_MISMATCH');
    expect(reason(twoCn, mapping('subject_dn', 'O=Acme,CN=first,CN=second')).code).toBe('SUBJECT_DN_ORDER_REVERSED');
  });

  it('X-4: escaped commas match the certificate value "a,b"', async () => {
    const comma = await client({ subject: [{ O: ['Acme, Inc.'] }, { CN: ['a,b'] }] });
    for (const value of ['CN=a\\,b,O=Acme\\, Inc.', 'CN=a\\2Cb,O=Acme\\2C Inc.', 'cn=a\\2cb,o=acme\\, inc.']) {
      expect(matches(comma, mapping('subject_dn', value)), value).toBe(true);
    }
  });

  it('X-3: registered CN=Zoë Client matches a BMPString CN', async () => {
    const bmp = await client({ subject: [{ CN: [{ bmpString: 'Zoë Client' }] }] });
    expect(matches(bmp, mapping('subject_dn', 'CN=Zo\\C3\\AB Client'))).toBe(true);
  });

  it('X-7: a serialNumber attribute is compared exactly', async () => {
    const serial = await client({ subject: [{ '2.5.4.5': ['AB12'] }, { CN: ['device'] }] });
    expect(matches(serial, mapping('subject_dn', 'CN=device,serialNumber=AB12'))).toBe(true);
    expect(reason(serial, mapping('subject_dn', 'CN=device,serialNumber=ab12')).code).toBe('SUBJECT_DN_MISMATCH');
  });

  it('X-8: a certificate with only a CN and no SAN authenticates through subject_dn', async () => {
    const cnOnly = await client({ subject: [{ CN: ['client.example.com'] }] });
    expect(matches(cnOnly, mapping('subject_dn', 'CN=client.example.com'))).toBe(true);
  });
});

describe('SAN mappings (MD-4..MD-8)', () => {
  let cert: ParsedCertificate;
  beforeAll(async () => {
    cert = await client({
      subject: [{ O: ['Acme'] }, { CN: ['client'] }],
      san: [
        { type: 'dns', value: 'a.example.com' },
        { type: 'dns', value: 'Client.Example.COM' },
        { type: 'ip', value: '2001:db8::1' },
        { type: 'ip', value: '192.0.2.1' },
        { type: 'url', value: 'https://client.example.com/id' },
        { type: 'email', value: 'Ops@Example.COM' },
      ],
    });
  });

  it('MD-8: the registered value only needs to be present among the SANs of that type', () => {
    expect(matches(cert, mapping('san_dns', 'a.example.com'))).toBe(true);
    expect(matches(cert, mapping('san_dns', 'client.example.com'))).toBe(true);
  });

  it('MD-4: DNS comparison is case-insensitive', () => {
    expect(matches(cert, mapping('san_dns', 'CLIENT.example.com'))).toBe(true);
  });

  it('MD-4: a DNS mismatch lists the certificate DNS SANs and the expected value', () => {
    const r = reason(cert, mapping('san_dns', 'other.example.com'));
    expect(r.code).toBe('SAN_MISMATCH');
    expect(r.message).toBe("The certificate's DNS SANs are a.example.com, Client.Example.COM; this client expects other.example.com.");
  });

  it('MD-5: URIs match exactly, without normalization', () => {
    expect(matches(cert, mapping('san_uri', 'https://client.example.com/id'))).toBe(true);
    for (const other of ['https://client.example.com/id/', 'https://client.example.com/%69d', 'HTTPS://client.example.com/id']) {
      expect(reason(cert, mapping('san_uri', other)).code).toBe('SAN_MISMATCH');
    }
  });

  it('MD-6: IP addresses are compared as bytes, whatever the text form', () => {
    for (const text of ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8:0000::0001', '192.0.2.1']) {
      expect(matches(cert, mapping('san_ip', text)), text).toBe(true);
    }
  });

  it('MD-6: ::ffff:192.0.2.1 does not match the IPv4 SAN 192.0.2.1, and the message explains why', () => {
    const r = reason(cert, mapping('san_ip', '::ffff:192.0.2.1'));
    expect(r.code).toBe('SAN_MISMATCH');
    expect(r.message).toContain('2001:db8::1, 192.0.2.1');
    expect(r.message).toContain('::ffff:192.0.2.1');
    expect(r.message).toMatch(/IPv4-mapped/);
  });

  it('MD-7: e-mail local part exact, domain case-insensitive', () => {
    expect(matches(cert, mapping('san_email', 'Ops@example.com'))).toBe(true);
    const r = reason(cert, mapping('san_email', 'ops@example.com'));
    expect(r.code).toBe('SAN_MISMATCH');
    expect(r.message).toMatch(/case-sensitively/);
  });

  it('SAN_MISSING: no SAN of that type', async () => {
    const dnsOnly = await client({ subject: [{ CN: ['x'] }], san: [{ type: 'dns', value: 'x.example.com' }] });
    const r = reason(dnsOnly, mapping('san_uri', 'spiffe://example.org/x'));
    expect(r.code).toBe('SAN_MISSING');
    expect(r.message).toBe('The certificate has no URI SAN; this client expects URI SAN spiffe://example.org/x.');
  });
});

describe('no CN fallback (MD-9, X-8)', () => {
  it('MD-9: registered san_dns=client.example.com with CN=client.example.com and no SAN → CN_MATCHES_BUT_SAN_EXPECTED', async () => {
    const cnOnly = await client({ subject: [{ CN: ['client.example.com'] }] });
    const r = reason(cnOnly, mapping('san_dns', 'client.example.com'));
    expect(r.code).toBe('CN_MATCHES_BUT_SAN_EXPECTED');
    expect(r.message).toContain('no DNS SAN');
    expect(r.hint).toBe(MAPPING_REASONS.CN_MATCHES_BUT_SAN_EXPECTED);
  });

  it('X-8: no IP, e-mail or URI identity is derived from the CN either', async () => {
    const ipCn = await client({ subject: [{ CN: ['192.0.2.7'] }] });
    expect(reason(ipCn, mapping('san_ip', '192.0.2.7')).code).toBe('CN_MATCHES_BUT_SAN_EXPECTED');
    const mailCn = await client({ subject: [{ CN: ['ops@example.com'] }] });
    expect(reason(mailCn, mapping('san_email', 'ops@example.com')).code).toBe('CN_MATCHES_BUT_SAN_EXPECTED');
    const uriCn = await client({ subject: [{ CN: ['spiffe://example.org/x'] }] });
    expect(reason(uriCn, mapping('san_uri', 'spiffe://example.org/x')).code).toBe('CN_MATCHES_BUT_SAN_EXPECTED');
  });

  it('MD-9: the CN equals the registered value while the DNS SANs are others → still refused', async () => {
    const both = await client({ subject: [{ CN: ['client.example.com'] }], san: [{ type: 'dns', value: 'other.example.com' }] });
    const r = reason(both, mapping('san_dns', 'client.example.com'));
    expect(r.code).toBe('CN_MATCHES_BUT_SAN_EXPECTED');
    expect(r.message).toContain('other.example.com');
  });
});

describe('wildcards (X-9)', () => {
  it('X-9: SAN *.example.com does not match a.example.com; it matches only the literal *.example.com', async () => {
    const wildcard = await client({ subject: [{ CN: ['w'] }], san: [{ type: 'dns', value: '*.example.com' }] });
    const r = reason(wildcard, mapping('san_dns', 'a.example.com'));
    expect(r.code).toBe('SAN_MISMATCH');
    expect(r.message).toMatch(/never expanded/);
    expect(matches(wildcard, mapping('san_dns', '*.example.com'))).toBe(true);
  });

  it('X-9: a registered *.example.com does not match SAN a.example.com', async () => {
    const plain = await client({ subject: [{ CN: ['w'] }], san: [{ type: 'dns', value: 'a.example.com' }] });
    expect(reason(plain, mapping('san_dns', '*.example.com')).code).toBe('SAN_MISMATCH');
  });
});

describe('NUL bytes (X-1)', () => {
  it('X-1: a certificate with NUL in CN or SAN never reaches matching: parsing refuses it', () => {
    const nulCn = craftCertificate({ subject: name([[[OID.CN, der.utf8('good.example.com\u0000attacker.net')]]]) });
    const nulSan = craftCertificate({ extensions: [sanExtension([{ dns: 'good.example.com\u0000attacker.net' }])] });
    for (const crafted of [nulCn, nulSan]) {
      expect(() => parseCertificate(crafted.der)).toThrow(expect.objectContaining({ code: 'ERR_CERT_CONTROL_CHARACTER' }));
    }
  });
});

describe('trust anchor pinning (SC-5, X-13) and mapping validity', () => {
  let cert: ParsedCertificate;
  const pinned = 'A'.repeat(43);
  beforeAll(async () => {
    cert = await client({ subject: [{ CN: ['pinned'] }] });
  });

  it('SC-5: a pinned mapping matches only when the chain ended at that anchor', () => {
    const m = mapping('subject_dn', 'CN=pinned', { trustAnchorSpki: pinned, trustAnchorName: 'Partner CA' });
    expect(matches(cert, m, pinned)).toBe(true);
    const wrong = reason(cert, m, 'B'.repeat(43));
    expect(wrong.code).toBe('WRONG_TRUST_ANCHOR');
    expect(wrong.message).toContain('Partner CA');
    expect(reason(cert, m).code).toBe('TRUST_ANCHOR_UNKNOWN');
  });

  it('SC-5: an unpinned mapping ignores the anchor', () => {
    expect(matches(cert, mapping('subject_dn', 'CN=pinned', { trustAnchorSpki: null }), 'B'.repeat(43))).toBe(true);
  });

  it('a mapping is refused before notBefore and after notAfter, and matches inside the window', () => {
    const early = mapping('subject_dn', 'CN=pinned', { notBefore: new Date('2031-01-01T00:00:00Z') });
    expect(reason(cert, early).code).toBe('MAPPING_NOT_YET_VALID');
    const late = mapping('subject_dn', 'CN=pinned', { notAfter: new Date('2030-01-01T00:00:00Z') });
    expect(reason(cert, late).code).toBe('MAPPING_EXPIRED');
    const inside = mapping('subject_dn', 'CN=pinned', { notBefore: new Date('2030-01-01T00:00:00Z'), notAfter: new Date(NOW.getTime() + 1) });
    expect(matches(cert, inside)).toBe(true);
  });

  it('the window is [notBefore, notAfter): at exactly notAfter the mapping has ended, as the server and the last-mapping guard (isMappingValidAt) see it', () => {
    const ending = mapping('subject_dn', 'CN=pinned', { notAfter: NOW });
    expect(reason(cert, ending).code).toBe('MAPPING_EXPIRED');
    expect(isMappingValidAt(ending, NOW.getTime())).toBe(false);
    const starting = mapping('subject_dn', 'CN=pinned', { notBefore: NOW });
    expect(matches(cert, starting)).toBe(true);
    expect(isMappingValidAt(starting, NOW.getTime())).toBe(true);
  });
});

describe('several mappings and edge cases', () => {
  it('NO_MAPPINGS when the client has none', async () => {
    const cert = await client({ subject: [{ CN: ['x'] }] });
    const result = match(cert, []);
    expect(result).toEqual({
      matched: false,
      reasons: [{ mappingId: '', code: 'NO_MAPPINGS', message: 'This client has no certificate mappings.', hint: MAPPING_REASONS.NO_MAPPINGS }],
    });
  });

  it('returns the first matching mapping, and one reason per mapping otherwise', async () => {
    const cert = await client({ subject: [{ CN: ['x'] }], san: [{ type: 'dns', value: 'x.example.com' }] });
    const a = mapping('san_dns', 'y.example.com');
    const b = mapping('san_dns', 'x.example.com');
    const c = mapping('subject_dn', 'CN=x');
    const result = match(cert, [a, b, c]);
    expect(result).toEqual({ matched: true, mapping: b });
    const refused = match(cert, [a, mapping('subject_dn', 'CN=z')]);
    expect(refused.matched).toBe(false);
    if (!refused.matched) expect(refused.reasons.map((r) => r.code)).toEqual(['SAN_MISMATCH', 'SUBJECT_DN_MISMATCH']);
  });

  it('a mapping without a canonical value is MAPPING_INVALID, never a match', async () => {
    const cert = await client({ subject: [{ CN: ['x'] }] });
    expect(reason(cert, { id: 'bad', kind: 'subject_dn', value: 'CN=x', canonical: '' }).code).toBe('MAPPING_INVALID');
  });

  it('every reason code has a default hint in MAPPING_REASONS', () => {
    for (const [code, hint] of Object.entries(MAPPING_REASONS)) {
      expect(hint.length, code).toBeGreaterThan(20);
    }
    expect(Object.isFrozen(MAPPING_REASONS)).toBe(true);
  });
});

describe('SC-6: look-alike subject names', () => {
  it('a certificate CN "admın" (U+0131 dotless i) does not authenticate the client registered as CN=admin,O=Acme; its own registration does', async () => {
    const spoof = parseCertificate((await pki.client({ subject: [{ O: ['Acme'] }, { CN: ['adm\u0131n'] }] })).der);
    const mapping = (value: string) => ({ id: 'm1', kind: 'subject_dn' as const, value, canonical: canonicalizeMappingValue('subject_dn', value) });
    expect(spoof.subjectRfc4514).toBe('CN=adm\u0131n,O=Acme');
    expect(matchCertificateToClient(spoof, [mapping('CN=admin,O=Acme')], { now: new Date() }).matched).toBe(false);
    expect(matchCertificateToClient(spoof, [mapping('CN=adm\u0131n,O=Acme')], { now: new Date() }).matched).toBe(true);
  });
});
