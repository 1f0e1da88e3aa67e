/** canonicalDn, dnEquals: structural comparison and string preparation (src/pki/dn/compare.ts). */
import { describe, expect, it } from 'vitest';
import { canonicalDn, dnEquals, parseCertificate, parseRfc4514 } from '../../../src/pki/index.js';
import { craftCertificate, der, name, OID } from '../../helpers/asn1.js';
import { dnMatches } from './fixtures.js';

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
