import { createHash } from 'node:crypto';

/** 43 base64url characters, no padding; the last character carries 4 data bits (BT-10). */
const X5T_S256 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * RFC 8705 §3.1 `x5t#S256`: base64url (no padding) of SHA-256 over the certificate's DER encoding —
 * the whole certificate as received, never a re-encoding of a parsed one.
 *
 * @example
 * const thumbprint = x5tS256(new X509Certificate(pem).raw); // 'v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes'
 */
export function x5tS256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** True when `value` is a strictly formatted `x5t#S256` (BT-10, BT-11). */
export function isWellFormedX5tS256(value: unknown): value is string {
  return typeof value === 'string' && X5T_S256.test(value);
}

/**
 * Exact comparison of two thumbprints (BT-11): both must be well formed, then equal byte for byte.
 * Constant-time over the 43 characters.
 */
export function thumbprintsEqual(expected: unknown, actual: unknown): boolean {
  return isWellFormedX5tS256(expected) && isWellFormedX5tS256(actual) && sameWellFormedThumbprints(expected, actual);
}

/**
 * The comparison step of thumbprintsEqual, for values already known to be well formed (checked once,
 * e.g. when a verified token was cached): equal character for character, in time independent of where
 * they differ, without allocating.
 */
export function sameWellFormedThumbprints(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Converts a hex SHA-256 digest (Envoy `Hash=`, CloudFront, OpenSSL fingerprint with colons) to `x5t#S256`. */
export function hexDigestToX5tS256(hex: string): string | undefined {
  const clean = hex.replace(/:/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(clean)) return undefined;
  return Buffer.from(clean, 'hex').toString('base64url');
}

/** SHA-256 of a certificate's SubjectPublicKeyInfo, base64url — how trust anchors are pinned. */
export function spkiSha256(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64url');
}
