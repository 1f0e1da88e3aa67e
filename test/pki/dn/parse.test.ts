/** parseRfc4514: RFC 4514 structure, escapes and #hex values (src/pki/dn/parse.ts). */
import { describe, expect, it } from 'vitest';
import { canonicalDn, dnEquals, isReversedOf, parseRfc4514 } from '../../../src/pki/index.js';
import { dnMatches, errorOf, useDnPki } from './fixtures.js';

const { subjectOf } = useDnPki();

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
    for (const text of [
      'cn=client1,ou=Eng,o=Acme,c=US',
      'Cn=client1,oU=Eng,O=Acme,C=US',
      '2.5.4.3=client1,2.5.4.11=Eng,2.5.4.10=Acme,2.5.4.6=US',
      'OID.2.5.4.3=client1,oid.2.5.4.11=Eng,O=Acme,C=US',
    ]) {
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
