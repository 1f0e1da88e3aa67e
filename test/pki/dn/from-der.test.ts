/** dnFromCertificateName: the string types of certificate names (src/pki/dn/from-der.ts). */
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { dnEquals, dnFromCertificateName, formatRfc4514, parseRfc4514 } from '../../../src/pki/index.js';
import { der, name, OID } from '../../helpers/asn1.js';
import { dnMatches, errorOf, useDnPki } from './fixtures.js';

const { subjectOf } = useDnPki();

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
