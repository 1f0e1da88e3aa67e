/**
 * CRLs made at test time with @peculiar/x509 (X509CrlGenerator), PEM-encoded with the `X509 CRL` label
 * OpenSSL and Node's `crl` option expect.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { Issued } from './pki.js';

export interface CrlOptions {
  /** Certificates (or hex serials) to list as revoked. */
  revoked?: (Issued | string)[];
  thisUpdate?: Date;
  /** Default: in one day. `null` omits nextUpdate. */
  nextUpdate?: Date | null;
  /** Default keyCompromise. */
  reason?: x509.X509CrlReason;
}

export async function createCrl(issuer: Issued, options: CrlOptions = {}): Promise<{ pem: string; der: Buffer }> {
  const now = Date.now();
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subjectName,
    thisUpdate: options.thisUpdate ?? new Date(now - 60_000),
    ...(options.nextUpdate === null ? {} : { nextUpdate: options.nextUpdate ?? new Date(now + 86_400_000) }),
    entries: (options.revoked ?? []).map((r) => ({
      serialNumber: typeof r === 'string' ? r : r.cert.serialNumber,
      revocationDate: new Date(now - 30_000),
      // Always a reason: without one, X509CrlGenerator writes an empty crlEntryExtensions SEQUENCE, which
      // RFC 5280 forbids (SIZE (1..MAX)) and pkijs rightly refuses.
      reason: options.reason ?? x509.X509CrlReason.keyCompromise,
    })),
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuer.cert)],
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    signingKey: issuer.keys.privateKey,
  });
  const der = Buffer.from(crl.rawData);
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return { pem: `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`, der };
}
