/**
 * PKI-5 building blocks: CRL decoding and signature verification (pkijs), and lookups.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRevocation, decodeCrl, isCrlStale, parseCertificate, revocationMode, verifyCrl } from '../../src/pki/index.js';
import { createCrl } from '../helpers/crl.js';
import { createCa, createTestPki, type TestPki } from '../helpers/pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

describe('verifyCrl', () => {
  it('accepts PEM or DER, verifies the signature with the issuer, and lists revoked serials with their reason', async () => {
    const leaf = await pki.client({ subject: [{ CN: ['r'] }] });
    const { pem, der } = await createCrl(pki.intermediate, { revoked: [leaf] });
    expect(decodeCrl(pem)).toEqual(der);
    const crl = await verifyCrl(der, pki.intermediate.pem);
    expect(crl).toMatchObject({ issuerRfc4514: 'CN=Test Issuing CA,O=Test PKI', issuerSpki: parseCertificate(pki.intermediate.pem).spkiSha256 });
    expect(crl.revoked.get(parseCertificate(leaf.pem).serialNumber)).toMatchObject({ reason: 'keyCompromise' });
  });

  it('refuses a CRL of another issuer (ERR_CRL_ISSUER) and one signed by another key with the same name (ERR_CRL_SIGNATURE)', async () => {
    const { pem } = await createCrl(pki.intermediate);
    await expect(verifyCrl(pem, pki.root.pem)).rejects.toMatchObject({ code: 'ERR_CRL_ISSUER' });
    const impostor = await createCa({ name: [{ O: ['Test PKI'] }, { CN: ['Test Issuing CA'] }] });
    await expect(verifyCrl((await createCrl(impostor)).pem, pki.intermediate.pem)).rejects.toMatchObject({ code: 'ERR_CRL_SIGNATURE' });
    await expect(verifyCrl(pki.root.pem.replace(/CERTIFICATE/g, 'X509 CRL'), pki.root.pem)).rejects.toMatchObject({ code: 'ERR_CRL_PARSE' });
  });
});

describe('checkRevocation and revocationMode', () => {
  it('revoked / good / stale / no_crl, matched on the issuer name and key', async () => {
    const now = new Date();
    const revoked = parseCertificate((await pki.client({ subject: [{ CN: ['r'] }] })).pem);
    const good = parseCertificate((await pki.client({ subject: [{ CN: ['g'] }] })).pem);
    const fresh = await verifyCrl((await createCrl(pki.intermediate, { revoked: [revoked.serialNumber] })).pem, pki.intermediate.pem);
    expect(checkRevocation(revoked, [fresh], now)).toMatchObject({ status: 'revoked' });
    expect(checkRevocation(good, [fresh], now)).toMatchObject({ status: 'good' });
    expect(checkRevocation(good, [fresh], now, 'another-spki')).toEqual({ status: 'no_crl' });
    const stale = await verifyCrl(
      (await createCrl(pki.intermediate, { revoked: [revoked.serialNumber], thisUpdate: new Date(now.getTime() - 7200_000), nextUpdate: new Date(now.getTime() - 3600_000) })).pem,
      pki.intermediate.pem,
    );
    expect(isCrlStale(stale, now)).toBe(true);
    expect(checkRevocation(good, [stale], now)).toMatchObject({ status: 'stale' });
    expect(checkRevocation(revoked, [stale], now)).toMatchObject({ status: 'revoked' });
    expect(revocationMode([], 'fail-closed', now)).toBe('off');
    expect(revocationMode([fresh, stale], 'fail-closed', now)).toBe('enforce');
    expect(revocationMode([fresh, stale], 'fail-open', now)).toBe('known-revoked-only');
    expect(revocationMode([fresh], 'fail-open', now)).toBe('enforce');
  });
});
