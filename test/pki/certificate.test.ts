import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CERTIFICATE_LIMITS, hasClientAuthEku, parseCertificate, parsePemCertificates } from '../../src/pki/index.js';
import { craftCertificate, der, ekuExtension, extension, name, OID, sanExtension, toPem } from '../helpers/asn1.js';
import { createTestPki, EKU_CLIENT_AUTH, EKU_SERVER_AUTH, type Issued, selfSigned, type TestPki } from '../helpers/pki.js';
import { errorOf as errorOfAny } from '../helpers/errors.js';

const errorOf = (fn: () => unknown) => errorOfAny<{ code?: string; message: string; hint?: string; status?: number }>(fn);

function expectCode(fn: () => unknown, code: string) {
  const err = errorOf(fn);
  expect(err.code, err.message).toBe(code);
  expect(err.status).toBe(400);
  expect(err.hint).toBeTruthy();
  return err;
}

let pki: TestPki;
let leaf: Issued;

beforeAll(async () => {
  pki = await createTestPki('Cert');
  leaf = await pki.client({
    subject: [{ C: ['US'] }, { O: ['Acme'] }, { OU: ['Eng'] }, { CN: ['client1'] }],
    san: [
      { type: 'dns', value: 'Client.Example.COM' },
      { type: 'dns', value: 'b.example.com' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'ip', value: '192.0.2.1' },
      { type: 'url', value: 'spiffe://example.org/client' },
      { type: 'email', value: 'Ops@Example.COM' },
    ],
  });
});

describe('parseCertificate fields', () => {
  it('PKI-4: extracts subject, issuer, SANs, validity and identifiers, agreeing with Node', () => {
    const cert = parseCertificate(leaf.pem);
    const node = new X509Certificate(leaf.der);
    expect(cert.der.equals(leaf.der)).toBe(true);
    expect(cert.subjectRfc4514).toBe('CN=client1,OU=Eng,O=Acme,C=US');
    expect(cert.issuerRfc4514).toBe('CN=Cert Issuing CA,O=Cert PKI');
    expect(cert.subjectCanonical).toBe('2.5.4.6=us,2.5.4.10=acme,2.5.4.11=eng,2.5.4.3=client1');
    expect(cert.san).toEqual({
      dns: ['Client.Example.COM', 'b.example.com'],
      uri: ['spiffe://example.org/client'],
      ip: ['20010db8000000000000000000000001', 'c0000201'],
      ipText: ['2001:db8::1', '192.0.2.1'],
      email: ['Ops@Example.COM'],
    });
    expect(cert.notBefore.toISOString()).toBe(new Date(node.validFrom).toISOString());
    expect(cert.notAfter.toISOString()).toBe(new Date(node.validTo).toISOString());
    expect(cert.serialNumber.replace(/^0+/, '')).toBe(node.serialNumber.toLowerCase().replace(/^0+/, ''));
    expect(cert.sha256Hex).toBe(node.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(cert.x5t).toBe(createHash('sha256').update(node.raw).digest('base64url'));
    const spki = node.publicKey.export({ type: 'spki', format: 'der' });
    expect(cert.spkiSha256).toBe(createHash('sha256').update(spki).digest('base64url'));
    expect(cert.extendedKeyUsage).toEqual([EKU_CLIENT_AUTH]);
    expect(cert.isSelfIssued).toBe(false);
    expect(cert.subjectKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.authorityKeyId).toBe(parseCertificate(pki.intermediate.der).subjectKeyId);
  });

  it('accepts DER bytes, PEM text and PEM bytes alike', () => {
    const a = parseCertificate(leaf.der);
    const b = parseCertificate(leaf.pem);
    const c = parseCertificate(new Uint8Array(Buffer.from(leaf.pem)));
    expect(b.x5t).toBe(a.x5t);
    expect(c.x5t).toBe(a.x5t);
  });

  it('isSelfIssued is true for a root and a self-signed certificate', async () => {
    expect(parseCertificate(pki.root.der).isSelfIssued).toBe(true);
    const ss = await selfSigned({ subject: [{ CN: ['device-1'] }] });
    expect(parseCertificate(ss.der).isSelfIssued).toBe(true);
  });

  it('a certificate with no SAN and no EKU has empty SAN lists and extendedKeyUsage undefined', async () => {
    const plain = await pki.client({ subject: [{ CN: ['client.example.com'] }], eku: null });
    const cert = parseCertificate(plain.der);
    expect(cert.san).toEqual({ dns: [], uri: [], ip: [], ipText: [], email: [] });
    expect(cert.extendedKeyUsage).toBeUndefined();
  });

  it('parses hand-crafted certificates (empty subject with SAN only)', () => {
    const crafted = craftCertificate({ subject: der.seq(), extensions: [sanExtension([{ dns: 'only-san.example.com' }])] });
    const cert = parseCertificate(crafted.der);
    expect(cert.subject).toEqual([]);
    expect(cert.subjectRfc4514).toBe('');
    expect(cert.san.dns).toEqual(['only-san.example.com']);
    expect(cert.spkiSha256).toBe(createHash('sha256').update(crafted.spki).digest('base64url'));
  });
});

describe('strict input (PEM and DER)', () => {
  it('refuses trailing bytes after the DER with ERR_CERT_PARSE', () => {
    expectCode(() => parseCertificate(Buffer.concat([leaf.der, Buffer.of(0)])), 'ERR_CERT_PARSE');
  });

  it('refuses a truncated certificate, garbage and empty input with ERR_CERT_PARSE', () => {
    expectCode(() => parseCertificate(leaf.der.subarray(0, leaf.der.length - 1)), 'ERR_CERT_PARSE');
    expectCode(() => parseCertificate(Buffer.from('not a certificate')), 'ERR_CERT_PARSE');
    expectCode(() => parseCertificate(new Uint8Array(0)), 'ERR_CERT_PARSE');
    expectCode(() => parseCertificate(der.seq(der.int(1))), 'ERR_CERT_PARSE');
  });

  it('refuses a PEM string with two certificates where one is expected', () => {
    const err = expectCode(() => parseCertificate(leaf.pem + pki.intermediate.pem), 'ERR_CERT_PARSE');
    expect(err.message).toMatch(/2 certificates/);
  });

  it.each([
    ['no PEM block', () => 'hello'],
    ['text before the block', () => `subject=CN=x\n${leaf.pem}`],
    ['a missing END line', () => leaf.pem.replace('-----END CERTIFICATE-----\n', '')],
    ['a private key block', () => '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'],
    ['base64url characters', () => toPem(leaf.der).replace(/[+/]/g, (c) => (c === '+' ? '-' : '_'))],
    ['spaces inside a line', () => leaf.pem.replace(/\n(.{10})/, '\n$1 ')],
    ['a header line', () => leaf.pem.replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n')],
    ['non-canonical padding', () => toPem(leaf.der).replace(/=*\n-----END/, '====\n-----END')],
  ])('refuses PEM with %s (ERR_CERT_PARSE)', (_label, make) => {
    expectCode(() => parseCertificate(make()), 'ERR_CERT_PARSE');
  });

  it('the base64url case above really changes the PEM (precondition)', () => {
    expect(leaf.der.toString('base64')).toMatch(/[+/]/);
  });

  it('accepts CRLF line endings and other line widths', () => {
    expect(parseCertificate(leaf.pem.replace(/\n/g, '\r\n')).x5t).toBe(parseCertificate(leaf.der).x5t);
    expect(parseCertificate(toPem(leaf.der, 76)).x5t).toBe(parseCertificate(leaf.der).x5t);
  });
});

describe('parsePemCertificates', () => {
  it('returns every certificate of a bundle in order, tolerating comment lines between blocks', () => {
    const bundle = `# Test bundle\nIssuing CA\n==========\n${pki.intermediate.pem}\n# root\n${pki.root.pem}`;
    const ders = parsePemCertificates(bundle);
    expect(ders.map((d) => d.equals(pki.intermediate.der) || d.equals(pki.root.der))).toEqual([true, true]);
    expect(ders[0]!.equals(pki.intermediate.der)).toBe(true);
  });

  it('refuses bundles with keys, broken blocks or no certificate', () => {
    expectCode(() => parsePemCertificates(`${leaf.pem}${leaf.keyPem}`), 'ERR_CERT_PARSE');
    expectCode(() => parsePemCertificates('# nothing here\n'), 'ERR_CERT_PARSE');
    expectCode(() => parsePemCertificates(toPem(Buffer.concat([leaf.der, Buffer.of(0)]))), 'ERR_CERT_PARSE');
  });
});

describe('size caps (X-10)', () => {
  it('X-10: a certificate over 16 KiB is refused with ERR_CERT_TOO_LARGE, DER or PEM', () => {
    const big = craftCertificate({ extensions: [extension('1.2.3.4', der.octets(new Uint8Array(CERTIFICATE_LIMITS.maxCertificateBytes)))] });
    expect(big.der.length).toBeGreaterThan(16 * 1024);
    expectCode(() => parseCertificate(big.der), 'ERR_CERT_TOO_LARGE');
    expectCode(() => parseCertificate(big.pem), 'ERR_CERT_TOO_LARGE');
  });

  it('X-10: 100 SAN entries are accepted; 101 are refused with ERR_CERT_TOO_LARGE', () => {
    const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ dns: `n${i}.example.com` }));
    expect(parseCertificate(craftCertificate({ extensions: [sanExtension(entries(100))] }).der).san.dns).toHaveLength(100);
    expectCode(() => parseCertificate(craftCertificate({ extensions: [sanExtension(entries(101))] }).der), 'ERR_CERT_TOO_LARGE');
  });
});

describe('malformed SAN extension (X-11)', () => {
  it('X-11: two SAN extensions are refused with ERR_CERT_SAN_MALFORMED', () => {
    const crafted = craftCertificate({ extensions: [sanExtension([{ dns: 'a.example.com' }]), sanExtension([{ dns: 'b.example.com' }])] });
    // Node/OpenSSL still parses it, which is why it must be refused here.
    expect(new X509Certificate(crafted.der).subjectAltName).toBeTruthy();
    expectCode(() => parseCertificate(crafted.der), 'ERR_CERT_SAN_MALFORMED');
  });

  it.each([
    ['not a SEQUENCE', der.octets(Uint8Array.of(1))],
    ['an empty SEQUENCE', der.seq()],
    ['trailing bytes', Buffer.concat([der.seq(der.implicit(2, Buffer.from('a.example.com'))), Buffer.of(0)])],
    ['an unknown tag [9]', der.seq(der.implicit(9, Uint8Array.of(1)))],
    ['a universal-class entry', der.seq(der.utf8('a.example.com'))],
    ['an IP of 5 bytes', der.seq(der.implicit(7, Uint8Array.of(1, 2, 3, 4, 5)))],
    ['a primitive directoryName', der.seq(der.implicit(4, Uint8Array.of(1)))],
    ['non-ASCII in a dNSName', der.seq(der.implicit(2, Uint8Array.of(0x61, 0xe9)))],
    ['an empty dNSName', der.seq(der.implicit(2, new Uint8Array(0)))],
    ['truncated DER', Uint8Array.of(0x30, 0x05, 0x82, 0x01)],
  ])('X-11: a SAN with %s is refused with ERR_CERT_SAN_MALFORMED', (_label, value) => {
    expectCode(() => parseCertificate(craftCertificate({ extensions: [extension(OID.subjectAltName, value)] }).der), 'ERR_CERT_SAN_MALFORMED');
  });

  it('X-11: any other duplicated extension is refused with ERR_CERT_PARSE', () => {
    expectCode(() => parseCertificate(craftCertificate({ extensions: [ekuExtension([EKU_CLIENT_AUTH]), ekuExtension([EKU_CLIENT_AUTH])] }).der), 'ERR_CERT_PARSE');
  });

  it('X-11: otherName, directoryName and registeredID entries are skipped, not refused', () => {
    const otherName = der.explicit(0, Buffer.concat([der.oid('1.3.6.1.4.1.311.20.2.3'), der.explicit(0, der.utf8('upn@example.com'))]));
    const directoryName = tlv4(name([[[OID.CN, der.utf8('dir')]]]));
    const registeredId = der.implicit(8, Uint8Array.of(0x2a, 0x03));
    const value = der.seq(otherName, directoryName, registeredId, der.implicit(2, Buffer.from('ok.example.com')));
    expect(parseCertificate(craftCertificate({ extensions: [extension(OID.subjectAltName, value)] }).der).san.dns).toEqual(['ok.example.com']);
  });
});

/** [4] EXPLICIT Name (directoryName). */
function tlv4(inner: Uint8Array): Uint8Array {
  return der.explicit(4, inner);
}

describe('control characters (X-1) and string types (X-3) in certificates', () => {
  it('X-1: a NUL in the subject CN is refused with ERR_CERT_CONTROL_CHARACTER', () => {
    const crafted = craftCertificate({ subject: name([[[OID.CN, der.utf8('good.example.com\u0000attacker.net')]]]) });
    expectCode(() => parseCertificate(crafted.der), 'ERR_CERT_CONTROL_CHARACTER');
  });

  it('X-1: a NUL in the issuer is refused too', () => {
    const crafted = craftCertificate({ issuer: name([[[OID.O, der.printable('Evil\u0000CA')]]]) });
    expectCode(() => parseCertificate(crafted.der), 'ERR_CERT_CONTROL_CHARACTER');
  });

  it.each([
    ['dNSName', { dns: 'good.example.com\u0000attacker.net' }],
    ['rfc822Name', { email: 'ops@good.example.com\u0000.attacker.net' }],
    ['uniformResourceIdentifier', { uri: 'https://good.example.com/\u0000' }],
  ] as const)('X-1: a NUL in a %s SAN is refused with ERR_CERT_CONTROL_CHARACTER', (_label, entry) => {
    expectCode(() => parseCertificate(craftCertificate({ extensions: [sanExtension([entry])] }).der), 'ERR_CERT_CONTROL_CHARACTER');
  });

  it('X-3: a TeletexString CN in ASCII is decoded; non-ASCII T61 is refused with ERR_CERT_STRING_ENCODING', () => {
    expect(parseCertificate(craftCertificate({ subject: name([[[OID.CN, der.t61('teletex')]]]) }).der).subjectRfc4514).toBe('CN=teletex');
    expectCode(() => parseCertificate(craftCertificate({ subject: name([[[OID.CN, der.t61(Uint8Array.of(0x5a, 0x6f, 0xeb))]]]) }).der), 'ERR_CERT_STRING_ENCODING');
  });

  it('X-3: an odd-length BMPString and invalid UTF-8 are refused with ERR_CERT_STRING_ENCODING', () => {
    expectCode(() => parseCertificate(craftCertificate({ subject: name([[[OID.CN, der.bmp(Uint8Array.of(0, 0x5a, 0))]]]) }).der), 'ERR_CERT_STRING_ENCODING');
    expectCode(() => parseCertificate(craftCertificate({ subject: name([[[OID.CN, der.utf8(Uint8Array.of(0x5a, 0xff))]]]) }).der), 'ERR_CERT_STRING_ENCODING');
  });
});

describe('EKU helper (X-12)', () => {
  it.each([
    ['no EKU extension', undefined, true],
    ['clientAuth', [EKU_CLIENT_AUTH], true],
    ['serverAuth and clientAuth', [EKU_SERVER_AUTH, EKU_CLIENT_AUTH], true],
    // H15-4: anyExtendedKeyUsage alone is not clientAuth (OpenSSL's sslclient purpose agrees).
    ['anyExtendedKeyUsage', ['2.5.29.37.0'], false],
    ['serverAuth only', [EKU_SERVER_AUTH], false],
    ['emailProtection only', ['1.3.6.1.5.5.7.3.4'], false],
  ] as const)('X-12: %s → %s', (_label, eku, expected) => {
    const crafted = craftCertificate({ extensions: eku ? [ekuExtension(eku)] : [] });
    const cert = parseCertificate(crafted.der);
    expect(cert.extendedKeyUsage).toEqual(eku);
    expect(hasClientAuthEku(cert)).toBe(expected);
  });

  it('X-12: the test PKI server certificate (serverAuth only) is not usable for client authentication', () => {
    expect(hasClientAuthEku(parseCertificate(pki.server.der))).toBe(false);
    expect(hasClientAuthEku(parseCertificate(leaf.der))).toBe(true);
  });
});
