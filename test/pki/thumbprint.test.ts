import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hexDigestToX5tS256, isWellFormedX5tS256, parseCertificate, thumbprintsEqual, x5tS256 } from '../../src/pki/index.js';
import { RFC9440_PEM, RFC9440_X5T } from '../forwarded/fixtures.js';
import { craftCertificate, toPem } from '../helpers/asn1.js';

const RFC9440_FINGERPRINT = 'BF:AF:1F:7E:07:0F:9F:A8:DD:62:90:5F:15:8D:A7:3F:84:A1:13:66:24:FB:AF:CC:93:93:C8:F7:28:7A:69:EB';

/**
 * The same certificate with a different last line (a corrupted ECDSA signature `s` value). It was handed
 * around as "the RFC 9440 certificate"; it is still a parsable certificate, but not the RFC's, and its
 * thumbprint is not the vector. Kept to show that the thumbprint covers the signature too (BT-9).
 */
const CORRUPTED_SIGNATURE_PEM = RFC9440_PEM.replace('SkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=', 'SkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoAHmcBfKvLE=');

const BT10 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

describe('x5t#S256 (BT-9, BT-10)', () => {
  it('BT-9: the RFC 9440 certificate has x5t#S256 v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes', () => {
    const cert = parseCertificate(RFC9440_PEM);
    expect(cert.x5t).toBe(RFC9440_X5T);
    expect(cert.sha256Hex).toBe(RFC9440_FINGERPRINT.replace(/:/g, '').toLowerCase());
    expect(hexDigestToX5tS256(RFC9440_FINGERPRINT)).toBe(RFC9440_X5T);
    expect(x5tS256(new X509Certificate(RFC9440_PEM).raw)).toBe(RFC9440_X5T);
  });

  it('the RFC 9440 certificate parses to the documented names', () => {
    const cert = parseCertificate(RFC9440_PEM);
    expect(cert.subjectRfc4514).toBe('CN=BC');
    expect(cert.issuerRfc4514).toBe("CN=LA Intermediate CA,O=Let's Authenticate");
    expect(cert.san.email).toEqual(['bdc@example.com']);
    expect(cert.serialNumber).toBe('07');
  });

  it('BT-9: the thumbprint covers the whole certificate, signature included', () => {
    const corrupted = parseCertificate(CORRUPTED_SIGNATURE_PEM);
    expect(corrupted.subjectRfc4514).toBe('CN=BC');
    expect(corrupted.x5t).not.toBe(RFC9440_X5T);
    expect(corrupted.x5t).toBe('ZEhY4ZKMfDh7lAxNn_dONTGdem3TqlZYHp4OuBzlKb0');
  });

  it('BT-10: thumbprints are 43 base64url characters, no padding, last character carrying 4 bits', () => {
    expect(RFC9440_X5T).toMatch(BT10);
    for (let i = 0; i < 64; i++) {
      const value = x5tS256(createHash('sha256').update(String(i)).digest());
      expect(value).toMatch(BT10);
      expect(isWellFormedX5tS256(value)).toBe(true);
    }
    expect(parseCertificate(craftCertificate().der).x5t).toMatch(BT10);
  });

  it('BT-10 / BT-11: malformed thumbprints are not well formed and never equal', () => {
    for (const bad of [`${RFC9440_X5T}=`, RFC9440_X5T.replace('-', '+'), `${RFC9440_X5T.slice(0, 42)}t`, RFC9440_X5T.slice(1), ` ${RFC9440_X5T}`]) {
      expect(isWellFormedX5tS256(bad), bad).toBe(false);
      expect(thumbprintsEqual(RFC9440_X5T, bad)).toBe(false);
    }
    expect(thumbprintsEqual(RFC9440_X5T, RFC9440_X5T)).toBe(true);
  });
});

describe('thumbprint input (X-14)', () => {
  it('X-14: PEM with any line width, CRLF, or the DER itself give the same thumbprint', () => {
    const der = new X509Certificate(RFC9440_PEM).raw;
    for (const input of [der, toPem(der, 64), toPem(der, 76), toPem(der, 16).replace(/\n/g, '\r\n'), RFC9440_PEM]) {
      expect(parseCertificate(input).x5t).toBe(RFC9440_X5T);
    }
  });

  it('X-14: the thumbprint is over the bytes received, never a re-encoding', () => {
    // A BER re-encoding of the outer length (0x82 → 0x83 0x00): same certificate content, different bytes.
    const der = new X509Certificate(RFC9440_PEM).raw;
    const ber = Buffer.concat([Buffer.of(0x30, 0x83, 0x00), der.subarray(2)]);
    const parsed = parseCertificate(ber);
    expect(parsed.subjectRfc4514).toBe('CN=BC');
    expect(parsed.x5t).toBe(x5tS256(ber));
    expect(parsed.x5t).not.toBe(RFC9440_X5T);
    expect(parsed.der.equals(ber)).toBe(true);
  });
});
