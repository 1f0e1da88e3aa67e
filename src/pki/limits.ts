/** the size caps on certificates, applied before and during parsing. */
import { certificateError } from './errors.js';

export const CERTIFICATE_LIMITS = Object.freeze({
  /** Bytes of DER per certificate. */
  maxCertificateBytes: 16 * 1024,
  /** GeneralNames in the SAN extension. */
  maxSanEntries: 100,
  /** Certificates in one PEM bundle (trust anchors, chains). */
  maxBundleCertificates: 1000,
});

/** Refuses a certificate larger than `maxCertificateBytes` (`ERR_CERT_TOO_LARGE`). */
export function checkCertificateSize(der: Uint8Array): void {
  if (der.byteLength > CERTIFICATE_LIMITS.maxCertificateBytes) {
    throw certificateError(
      'ERR_CERT_TOO_LARGE',
      `The certificate is ${der.byteLength} bytes; the limit is ${CERTIFICATE_LIMITS.maxCertificateBytes}.`,
      'Client certificates are normally under 4 KiB; issue a smaller certificate.',
    );
  }
}
