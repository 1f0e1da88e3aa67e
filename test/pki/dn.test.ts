import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalDn,
  type DistinguishedName,
  dnEquals,
  dnFromCertificateName,
  formatOneline,
  formatRfc4514,
  isReversedOf,
  parseCertificate,
  parseRfc4514,
} from '../../src/pki/index.js';
import { craftCertificate, der, name, OID } from '../helpers/asn1.js';
import { createTestPki, type NameSpec, type TestPki } from '../helpers/pki.js';
import { errorOf as errorOfAny } from '../helpers/errors.js';

/** The subject DN of a certificate issued by the test PKI with this JSON name (ASN.1 order). */
let pki: TestPki;
async function subjectOf(spec: NameSpec): Promise<DistinguishedName> {
  const leaf = await pki.client({ subject: spec });
  return parseCertificate(leaf.der).subject;
}

const errorOf = (fn: () => unknown) => errorOfAny<{ code?: string; message: string; hint?: string; status?: number }>(fn);

const dnMatches = (registered: string, cert: DistinguishedName) => dnEquals(parseRfc4514(registered), cert);

beforeAll(async () => {
  pki = await createTestPki('DN');
});

describe('parseRfc4514 structure', () => {
  it('X-5: the rightmost RDN is the first ASN.1 RDN', () => {
    expect(parseRfc4514('CN=client1,OU=Eng,O=Acme,C=US')).toEqual([
      [{ type: '2.5.4.6', value: 'US' }],
      [{ type: '2.5.4.10', value: 'Acme' }],
      [{ type: '2.5.4.11', value: 'Eng' }],
      [{ type: '2.5.4.3', value: 'client1' }],
    ]);
  });

  it('X-5 / PKI-4: registered CN=client1,OU=Eng,O=Acme,C=US matches the certificate; C=US,O=Acme,OU=Eng,CN=client1 does not', async () => {
    const cert = await subjectOf([{ C: ['US'] }, { O: ['Acme'] }, { OU: ['Eng'] }, { CN: ['client1'] }]);
    expect(dnMatches('CN=client1,OU=Eng,O=Acme,C=US', cert)).toBe(true);
    expect(dnMatches('C=US,O=Acme,OU=Eng,CN=client1', cert)).toBe(false);
    expect(isReversedOf(parseRfc4514('C=US,O=Acme,OU=Eng,CN=client1'), cert)).toBe(true);
    expect(isReversedOf(parseRfc4514('CN=client1,OU=Eng,O=Acme,C=US'), cert)).toBe(false);
  });

  it('X-6: attribute types are case-insensitive, and dotted OIDs (with or without OID.) are the same types', async () => {
    const cert = await subjectOf([{ C: ['US'] }, { O: ['Acme'] }, { OU: ['Eng'] }, { CN: ['client1'] }]);
    for (const text of ['cn=client1,ou=Eng,o=Acme,c=US', 'Cn=client1,oU=Eng,O=Acme,C=US', '2.5.4.3=client1,2.5.4.11=Eng,2.5.4.10=Acme,2.5.4.6=US', 'OID.2.5.4.3=client1,oid.2.5.4.11=Eng,O=Acme,C=US']) {
      expect(dnMatches(text, cert), text).toBe(true);
    }
  });

  it('X-6: keyword aliases map to their OIDs (emailAddress/E, serialNumber, SN, GN, title, DC, UID, STREET)', () => {
    const dn = parseRfc4514('E=a@x,emailAddress=b@x,serialNumber=1,SN=Doe,GN=Jane,title=Dr,DC=example,UID=jd,STREET=Main St,L=Paris,ST=IDF');
    expect(dn.map((rdn) => rdn[0]!.type).reverse()).toEqual([
      '1.2.840.113549.1.9.1',
      '1.2.840.113549.1.9.1',
      '2.5.4.5',
      '2.5.4.4',
      '2.5.4.42',
      '2.5.4.12',
      '0.9.2342.19200300.100.1.25',
      '0.9.2342.19200300.100.1.1',
      '2.5.4.9',
      '2.5.4.7',
      '2.5.4.8',
    ]);
  });

  it('X-2: a multi-valued RDN matches whatever the AVA order inside it', async () => {
    const cert = await subjectOf([{ O: ['Acme'] }, { CN: ['x'], '0.9.2342.19200300.100.1.1': ['y'] }]);
    expect(cert[1]).toHaveLength(2);
    expect(dnMatches('CN=x+UID=y,O=Acme', cert)).toBe(true);
    expect(dnMatches('UID=y+CN=x,O=Acme', cert)).toBe(true);
    expect(dnMatches('O=Acme,UID=y+CN=x', cert)).toBe(false);
    expect(dnMatches('CN=x,O=Acme', cert)).toBe(false);
    expect(dnMatches('CN=x,UID=y,O=Acme', cert)).toBe(false);
  });

  it('X-2: two CN RDNs: only the whole DN in RFC 4514 order matches', async () => {
    const cert = await subjectOf([{ O: ['Acme'] }, { CN: ['first'] }, { CN: ['second'] }]);
    expect(dnMatches('CN=second,CN=first,O=Acme', cert)).toBe(true);
    expect(dnMatches('CN=first,CN=second,O=Acme', cert)).toBe(false);
    expect(dnMatches('CN=first,O=Acme', cert)).toBe(false);
    expect(dnMatches('CN=second,O=Acme', cert)).toBe(false);
    expect(dnMatches('CN=second+CN=first,O=Acme', cert)).toBe(false);
  });

  it('MD-3: spaces around separators and unescaped trailing spaces are ignored; escaped spaces are kept', () => {
    expect(parseRfc4514('CN = a , O = b ')).toEqual(parseRfc4514('CN=a,O=b'));
    expect(parseRfc4514('CN=a\\ ')[0]![0]!.value).toBe('a ');
    expect(parseRfc4514('CN=\\ a')[0]![0]!.value).toBe(' a');
  });

  it('MD-3: an empty value is allowed (CN=)', () => {
    expect(parseRfc4514('CN=,O=x')[1]).toEqual([{ type: '2.5.4.3', value: '' }]);
  });
});

describe('parseRfc4514 escaping (X-4)', () => {
  it('X-4: CN=a\\,b, CN=a\\2Cb and cn=a\\2cb all match the certificate CN "a,b"', async () => {
    const cert = await subjectOf([{ O: ['Acme, Inc.'] }, { CN: ['a,b'] }]);
    for (const text of ['CN=a\\,b,O=Acme\\, Inc.', 'CN=a\\2Cb,O=Acme\\2C Inc.', 'cn=a\\2cb,o=Acme\\, Inc.']) {
      expect(dnMatches(text, cert), text).toBe(true);
    }
    // Unescaped, the comma splits the value: 'b' is then read as an attribute type, and refused.
    expect(errorOf(() => parseRfc4514('CN=a,b,O=Acme\\, Inc.')).code).toBe('ERR_DN_SYNTAX');
    expect(dnMatches('CN=a\\,b,O=Acme\\,Inc.', cert)).toBe(false);
  });

  it('X-4: every special character can be escaped with a backslash', () => {
    const value = parseRfc4514('CN=\\#\\"\\+\\,\\;\\<\\>\\=\\\\\\ ')[0]![0]!.value;
    expect(value).toBe('#"+,;<>=\\ ');
  });

  it('X-4: hex pairs are UTF-8 bytes: \\C3\\AB is ë', () => {
    expect(parseRfc4514('CN=Zo\\C3\\AB')[0]![0]!.value).toBe('Zoë');
    expect(parseRfc4514('CN=\\e2\\82\\ac 5')[0]![0]!.value).toBe('€ 5');
  });

  it('X-4: an unescaped = or # inside a value is allowed, as in RFC 4514', () => {
    expect(parseRfc4514('CN=a=b#c')[0]![0]!.value).toBe('a=b#c');
  });

  it('X-4: the OpenSSL oneline form /CN=a,b/O=x is refused with a hint to use RFC 4514', () => {
    const err = errorOf(() => parseRfc4514('/CN=a,b/O=x'));
    expect(err.code).toBe('ERR_DN_SYNTAX');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/oneline/);
    expect(err.hint).toMatch(/RFC 4514/);
    expect(err.hint).toContain('CN=a\\,b');
    expect(err.hint).toContain('O=x,CN=a\\,b');
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['CN=a;O=b', /';'/],
    ['CN=a,O=b;', /';'/],
    ['CN="a,b"', /'"'/],
    ['CN=a<b', /'<'/],
    ['XX=a', /unknown attribute type 'XX'/],
    ['CN', /expected '='/],
    ['=a', /expected an attribute type/],
    ['CN=a,', /ends with ','/],
    ['CN=a\\zz', /bad escape/],
    ['CN=a\\', /bad escape at the end/],
    ['CN=a\\4', /bad escape/],
    ['CN=\\EB', /not valid UTF-8/],
    ['CN=#abc', /even number/],
    ['CN=#', /even number/],
    ['CN=#zz', /not a hex digit/],
    ['CN=#0c05616263', /not one complete BER element/],
    ['2.05.4.3=a', /leading zero/],
    ['CN=a+', /expected an attribute type/],
  ])('MD-3: %j is refused with ERR_DN_SYNTAX', (text, message) => {
    const err = errorOf(() => parseRfc4514(text));
    expect(err.code).toBe('ERR_DN_SYNTAX');
    expect(err.message).toMatch(message);
    expect(err.hint).toBeTruthy();
  });

  it('MD-3: syntax errors say where the problem is', () => {
    expect(errorOf(() => parseRfc4514('CN=abc;O=b')).message).toContain('at character 7');
  });

  it.each([
    ['CN=a\\00b', 'U+0000'],
    ['CN=good.example.com\0attacker.net', 'U+0000'],
    ['CN=a\tb', 'U+0009'],
    ['CN=a\\0Ab', 'U+000A'],
    ['CN=a\\7F', 'U+007F'],
    ['CN=#0c03610062', 'U+0000'],
  ])('X-1: %j (a control character) is refused', (text, codePoint) => {
    const err = errorOf(() => parseRfc4514(text));
    expect(err.code).toBe('ERR_DN_SYNTAX');
    expect(err.message).toContain(codePoint);
  });
});

describe('#hex values', () => {
  it('MD-3: a #hex string value is decoded and compares like text', () => {
    const dn = parseRfc4514('CN=#0c03414243');
    expect(dn[0]![0]!.value).toBe('ABC');
    expect(Buffer.from(dn[0]![0]!.raw!).toString('hex')).toBe('0c03414243');
    expect(dnEquals(dn, parseRfc4514('CN=abc'))).toBe(true);
    expect(dnEquals(parseRfc4514('CN=#1e06004100420043'), parseRfc4514('CN=abc'))).toBe(true);
  });

  it('X-7: a #hex value that is not a string is compared byte for byte', () => {
    const dn = parseRfc4514('1.2.3.4=#04020102');
    expect(dn[0]![0]!.value).toBeUndefined();
    expect(canonicalDn(dn)).toBe('1.2.3.4=#04020102');
    expect(dnEquals(dn, parseRfc4514('1.2.3.4=#04020103'))).toBe(false);
    expect(dnEquals(parseRfc4514('1.2.3.4=#04024142'), parseRfc4514('1.2.3.4=AB'))).toBe(false);
    expect(dnEquals(parseRfc4514('1.2.3.4=#0c024142'), parseRfc4514('1.2.3.4=AB'))).toBe(true);
  });
});

describe('canonicalDn and value comparison (X-7)', () => {
  it('X-7: CN=ACME  Client matches CN=acme client (case, inner and outer whitespace)', () => {
    expect(dnEquals(parseRfc4514('CN=ACME  Client'), parseRfc4514('CN=acme client'))).toBe(true);
    expect(dnEquals(parseRfc4514('CN=\\ ACME\\  Client\\ '), parseRfc4514('CN=acme client'))).toBe(true);
    expect(canonicalDn(parseRfc4514('CN=ACME  Client,C=US'))).toBe('2.5.4.6=us,2.5.4.3=acme client');
  });

  it('X-7: NFKC: full-width and compatibility characters equal their plain forms; ß folds to ss', () => {
    expect(dnEquals(parseRfc4514('CN=ＡＣＭＥ'), parseRfc4514('CN=acme'))).toBe(true);
    expect(dnEquals(parseRfc4514('O=Stra\\C3\\9Fe'), parseRfc4514('O=STRASSE'))).toBe(true);
    expect(dnEquals(parseRfc4514('CN=Zo\\C3\\AB'), parseRfc4514('CN=Zoe\\CC\\88'))).toBe(true);
  });

  it('X-7/SC-6: dotless ı (U+0131) is not folded to i, so CN=admın is not CN=admin; İ (U+0130) is not I either', () => {
    expect(dnEquals(parseRfc4514('CN=adm\u0131n,O=Acme'), parseRfc4514('CN=admin,O=Acme'))).toBe(false);
    expect(dnEquals(parseRfc4514('CN=adm\u0131n,O=Acme'), parseRfc4514('CN=ADMIN,O=Acme'))).toBe(false);
    expect(dnEquals(parseRfc4514('CN=ADM\u0131N,O=Acme'), parseRfc4514('CN=adm\u0131n,O=acme'))).toBe(true);
    expect(canonicalDn(parseRfc4514('CN=Adm\u0131n'))).toBe('2.5.4.3=adm\u0131n');
    expect(dnEquals(parseRfc4514('CN=\u0130stanbul'), parseRfc4514('CN=istanbul'))).toBe(false);
  });

  it('X-7: capital ẞ (U+1E9E) folds to ss like ß', () => {
    expect(dnEquals(parseRfc4514('O=STRA\u1E9EE'), parseRfc4514('O=strasse'))).toBe(true);
    expect(dnEquals(parseRfc4514('O=STRA\u1E9EE'), parseRfc4514('O=Stra\u00dfe'))).toBe(true);
  });

  it('X-7: C and DC are case-insensitive; emailAddress is case-folded as a whole (PKCS#9)', () => {
    expect(dnEquals(parseRfc4514('C=us'), parseRfc4514('C=US'))).toBe(true);
    expect(dnEquals(parseRfc4514('DC=Example,DC=COM'), parseRfc4514('DC=example,DC=com'))).toBe(true);
    expect(dnEquals(parseRfc4514('emailAddress=Ops@Example.com'), parseRfc4514('E=ops@example.COM'))).toBe(true);
  });

  it('X-7: a difference in serialNumber case is a mismatch', () => {
    expect(dnEquals(parseRfc4514('serialNumber=AB12,CN=x'), parseRfc4514('serialNumber=ab12,CN=x'))).toBe(false);
    expect(dnEquals(parseRfc4514('serialNumber=AB12,CN=x'), parseRfc4514('2.5.4.5=AB12,cn=X'))).toBe(true);
  });

  it('X-7: unknown OIDs are compared exactly', () => {
    expect(dnEquals(parseRfc4514('1.2.3.4=Abc'), parseRfc4514('1.2.3.4=abc'))).toBe(false);
    expect(dnEquals(parseRfc4514('1.2.3.4=Abc'), parseRfc4514('1.2.3.4=Abc'))).toBe(true);
  });

  it('X-2: different numbers of RDNs never match', () => {
    expect(dnEquals(parseRfc4514('CN=x,O=y'), parseRfc4514('CN=x'))).toBe(false);
  });

  it('canonical forms are injective: escaped separators never collide with real ones', () => {
    const texts = ['CN=a\\,O\\=b', 'CN=a,O=b', 'CN=a+O=b', 'CN=a\\+O\\=b', 'CN=\\#0c00', 'CN=#0c00', 'CN=a\\\\,O=b', 'CN=a\\\\\\,O\\=b'];
    const canon = texts.map((t) => canonicalDn(parseRfc4514(t)));
    expect(new Set(canon).size).toBe(texts.length);
  });
});

describe('formatting', () => {
  it('formatRfc4514 writes the last RDN first with keywords and escapes, and round-trips', () => {
    const dn = parseRfc4514('CN=\\ a\\,b+UID=x\\+y,O=Acme\\, Inc.,OU=\\#1,C=US,1.2.3.4=#04020102,serialNumber=trail\\ ');
    const text = formatRfc4514(dn);
    expect(text).toBe('CN=\\ a\\,b+UID=x\\+y,O=Acme\\, Inc.,OU=\\#1,C=US,1.2.3.4=#04020102,serialNumber=trail\\ ');
    expect(parseRfc4514(text)).toEqual(dn);
  });

  it('formatOneline prints certificate order, for display', () => {
    expect(formatOneline(parseRfc4514('CN=x+UID=y,O=Acme,C=US'))).toBe('/C=US/O=Acme/CN=x+UID=y');
  });
});

describe('dnFromCertificateName: string types (X-3)', () => {
  it('X-3: registered CN=Zoë Client matches a BMPString CN', async () => {
    const cert = await subjectOf([{ CN: [{ bmpString: 'Zoë Client' }] }]);
    expect(cert[0]![0]!.raw![0]).toBe(0x1e);
    expect(dnMatches('CN=Zo\\C3\\AB Client', cert)).toBe(true);
    expect(dnMatches('CN=Zoë Client', cert)).toBe(true);
  });

  it('X-3: PrintableString, UTF8String, IA5String, TeletexString (ASCII), BMPString and UniversalString all compare by value', () => {
    const values = [der.printable('Acme'), der.utf8('Acme'), der.ia5('Acme'), der.t61('Acme'), der.bmp('Acme'), der.universal('Acme')];
    const dns = values.map((v) => dnFromCertificateName(name([[[OID.O, v]]])));
    for (const dn of dns) expect(dnEquals(dn, parseRfc4514('O=acme'))).toBe(true);
  });

  it('X-3: UniversalString decodes characters outside the BMP', () => {
    expect(dnFromCertificateName(name([[[OID.CN, der.universal('a😀b')]]]))[0]![0]!.value).toBe('a😀b');
  });

  it.each([
    ['a non-ASCII TeletexString', der.t61(Uint8Array.of(0x41, 0xe9)), /TeletexString contains the non-ASCII byte 0xe9/],
    ['invalid UTF-8', der.utf8(Uint8Array.of(0x41, 0xc3)), /not valid UTF-8/],
    ['an odd-length BMPString', der.bmp(Uint8Array.of(0x00, 0x41, 0x00)), /BMPString has an odd length/],
    ['a BMPString surrogate', der.bmp(Uint8Array.of(0xd8, 0x3d)), /surrogate/],
    ['a UniversalString of 5 bytes', der.universal(Uint8Array.of(0, 0, 0, 0x41, 0)), /not a multiple of 4/],
    ['a UniversalString above U+10FFFF', der.universal(Uint8Array.of(0, 0x11, 0, 0)), /invalid code point/],
    ['a non-ASCII PrintableString', der.printable(Uint8Array.of(0x41, 0xe9)), /non-ASCII/],
  ])('X-3: %s is refused with ERR_CERT_STRING_ENCODING', (_label, value, message) => {
    const err = errorOf(() => dnFromCertificateName(name([[[OID.CN, value]]])));
    expect(err.code).toBe('ERR_CERT_STRING_ENCODING');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['UTF8String', der.utf8('good.example.com\0attacker.net')],
    ['BMPString', der.bmp('good\0bad')],
    ['PrintableString', der.printable('a\x01b')],
  ])('X-1: a control character in a %s name value is refused with ERR_CERT_CONTROL_CHARACTER', (_label, value) => {
    const err = errorOf(() => dnFromCertificateName(name([[[OID.CN, value]]])));
    expect(err.code).toBe('ERR_CERT_CONTROL_CHARACTER');
  });

  it('a value that is not a string keeps its raw DER and compares as #hex', () => {
    const dn = dnFromCertificateName(name([[['1.2.3.4', der.octets(Uint8Array.of(1, 2))]]]));
    expect(dn[0]![0]!.value).toBeUndefined();
    expect(dnEquals(dn, parseRfc4514('1.2.3.4=#04020102'))).toBe(true);
    expect(formatRfc4514(dn)).toBe('1.2.3.4=#04020102');
  });

  it('refuses trailing bytes, empty RDNs and non-Names with ERR_CERT_PARSE', () => {
    const valid = name([[[OID.CN, der.utf8('x')]]]);
    expect(errorOf(() => dnFromCertificateName(Buffer.concat([valid, Uint8Array.of(0)]))).code).toBe('ERR_CERT_PARSE');
    expect(errorOf(() => dnFromCertificateName(der.seq(der.set()))).code).toBe('ERR_CERT_PARSE');
    expect(errorOf(() => dnFromCertificateName(der.utf8('x'))).code).toBe('ERR_CERT_PARSE');
    expect(errorOf(() => dnFromCertificateName(new Uint8Array(0))).code).toBe('ERR_CERT_PARSE');
  });

  it('agrees with @peculiar/x509 on the DER of an ordinary name (ArrayBuffer input)', () => {
    const n = new x509.Name([{ C: ['US'] }, { O: ['Acme'] }, { CN: ['client1'] }]);
    expect(formatRfc4514(dnFromCertificateName(n.toArrayBuffer()))).toBe('CN=client1,O=Acme,C=US');
  });
});

describe('U+FEFF is not a space (X-7, found by test/fuzz/dn.fuzz.test.ts)', () => {
  // RFC 4518 §2.2 maps the separators (Zs, Zl, Zp) to SPACE; U+FEFF is a format character, which it
  // never turns into a space. Treating it as one let a certificate for "a<U+FEFF>b" pass as "a b".
  it.each([
    ['CN=a b', 'a\ufeffb'],
    ['CN=a', 'a\ufeff'],
    ['CN=a', '\ufeffa'],
    ['CN=', '\ufeff\ufeff'],
  ])('PKI-4: registered %s does not match a certificate whose CN is %j', async (registered, cn) => {
    const cert = parseCertificate(craftCertificate({ subject: name([[[OID.CN, der.utf8(cn)]]]) }).der);
    expect(cert.subjectCanonical).not.toBe(canonicalDn(parseRfc4514(registered)));
    expect(dnMatches(registered, cert.subject)).toBe(false);
  });

  it('PKI-4: the Unicode separators U+00A0, U+2003, U+3000 and U+2028 still compare as spaces', () => {
    for (const space of ['\u00a0', '\u2003', '\u3000', '\u2028']) {
      const cert = parseCertificate(craftCertificate({ subject: name([[[OID.CN, der.utf8(`a${space}${space}b${space}`)]]]) }).der);
      expect(dnMatches('CN=A B', cert.subject)).toBe(true);
    }
  });
});
