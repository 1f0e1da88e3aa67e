/**
 * Certificate revocation lists (PKI-5): decoding, signature verification against the issuing CA (pkijs,
 * not hand-written crypto, SC-7), and lookups of a certificate in a set of verified CRLs.
 *
 * The TLS listener hands the same CRLs to OpenSSL (Node's `crl` option); the lookups here serve the
 * diagnosis, forwarded certificates, and resumed TLS sessions (which OpenSSL does not re-verify).
 * Node always sets OpenSSL's CRL_CHECK and CRL_CHECK_ALL together, so once any CRL is configured,
 * every certificate below a trust anchor needs a current CRL from its issuer: `revocationMode` and
 * `checkRevocation` apply exactly that rule so the diagnosis says what the TLS stack will do.
 */
import { createHash } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { CertboundError } from '../errors/index.js';
import { type ParsedCertificate, parseCertificate } from './certificate.js';
import { canonicalDn, dnFromCertificateName, formatRfc4514 } from './dn/index.js';
import { loadPkijs } from './pkijs.js';

/** What happens when a CRL is past its nextUpdate. */
export type CrlStalePolicy = 'fail-closed' | 'fail-open';
export const CRL_STALE_POLICIES: readonly CrlStalePolicy[] = Object.freeze(['fail-closed', 'fail-open']);

/** Largest CRL accepted (file or URL). */
export const MAX_CRL_BYTES = 16 * 1024 * 1024;

export interface RevokedEntry {
  revokedAt: Date;
  /** RFC 5280 §5.3.1 reason name, when the entry carries one. */
  reason?: string;
}

/** A CRL whose signature was verified with its issuer's certificate. */
export interface VerifiedCrl {
  der: Buffer;
  /** Lowercase hex SHA-256 of `der`. */
  sha256Hex: string;
  issuerRfc4514: string;
  issuerCanonical: string;
  /** SPKI hash (base64url SHA-256) of the CA key that signed this CRL. */
  issuerSpki: string;
  /** Subject key identifier of the signing CA (lowercase hex), when it has one. */
  issuerKeyId?: string;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** CRL number (hex), when present. */
  crlNumber?: string;
  /** Serial number (lowercase hex of the content octets, as ParsedCertificate.serialNumber) → entry. */
  revoked: ReadonlyMap<string, RevokedEntry>;
}

const REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

function crlError(code: string, message: string, hint: string, cause?: unknown): CertboundError {
  return new CertboundError(code, message, { status: 400, hint, ...(cause === undefined ? {} : { cause }) });
}

/** PEM (`X509 CRL` or `CRL` label) or DER bytes → DER. */
export function decodeCrl(input: Uint8Array | string): Buffer {
  const text = typeof input === 'string' ? input : Buffer.from(input.subarray(0, 64)).toString('latin1').includes('-----BEGIN') ? Buffer.from(input).toString('latin1') : undefined;
  let der: Buffer;
  if (text !== undefined) {
    const blocks = [...text.matchAll(/-----BEGIN (X509 CRL|CRL)-----([\s\S]*?)-----END \1-----/g)];
    if (blocks.length !== 1) {
      throw crlError(
        'ERR_CRL_PARSE',
        blocks.length ? `The file holds ${blocks.length} CRLs; one is expected.` : 'The file holds no -----BEGIN X509 CRL----- block.',
        'Give one CRL, in PEM or DER.',
      );
    }
    const b64 = blocks[0]![2]!.replace(/\s+/g, '');
    der = Buffer.from(b64, 'base64');
    if (der.toString('base64') !== b64) throw crlError('ERR_CRL_PARSE', 'The CRL PEM body is not canonical base64.', 'Re-export the CRL.');
  } else {
    der = Buffer.from(input as Uint8Array);
  }
  if (der.byteLength === 0) throw crlError('ERR_CRL_PARSE', 'The CRL is empty.', 'Give the CRL file the CA publishes (PEM or DER).');
  if (der.byteLength > MAX_CRL_BYTES) throw crlError('ERR_CRL_TOO_LARGE', `The CRL is ${der.byteLength} bytes; the limit is ${MAX_CRL_BYTES}.`, 'Check the CRL source.');
  return der;
}

/** PEM with the `X509 CRL` label OpenSSL (and Node's `crl` option) expects. */
export function crlToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
}

function hex(view: ArrayBuffer | Uint8Array): string {
  return Buffer.from(view instanceof Uint8Array ? view : new Uint8Array(view)).toString('hex');
}

/**
 * Parses a CRL and verifies its signature with the issuing CA's certificate. Throws `ERR_CRL_PARSE`,
 * `ERR_CRL_ISSUER` (the CRL names another issuer) or `ERR_CRL_SIGNATURE`.
 *
 * @example
 * const crl = await verifyCrl(readFileSync('issuing-ca.crl'), issuingCaDer);
 * crl.revoked.has(parseCertificate(leafPem).serialNumber);
 */
export async function verifyCrl(input: Uint8Array | string, issuerCertificate: Uint8Array | string | ParsedCertificate): Promise<VerifiedCrl> {
  const der = decodeCrl(input);
  const issuer = typeof issuerCertificate === 'string' || issuerCertificate instanceof Uint8Array ? parseCertificate(issuerCertificate) : issuerCertificate;
  const P = await loadPkijs();
  let crl: pkijs.CertificateRevocationList;
  try {
    crl = P.CertificateRevocationList.fromBER(new Uint8Array(der));
  } catch (cause) {
    throw crlError('ERR_CRL_PARSE', `The input is not a CRL: ${(cause as Error).message}`, 'Give the CRL file the CA publishes (PEM or DER), not a certificate.', cause);
  }
  const issuerDn = dnFromCertificateName(crl.issuer.toSchema().toBER(false));
  const issuerCanonical = canonicalDn(issuerDn);
  if (issuerCanonical !== issuer.subjectCanonical) {
    throw crlError(
      'ERR_CRL_ISSUER',
      `The CRL is issued by ${formatRfc4514(issuerDn)}, not by ${issuer.subjectRfc4514}.`,
      'Give the CRL of this CA, or the certificate of the CA that issued the CRL (--issuer-cert).',
    );
  }
  let valid = false;
  try {
    valid = await crl.verify({ issuerCertificate: P.Certificate.fromBER(new Uint8Array(issuer.der)) });
  } catch (cause) {
    throw crlError('ERR_CRL_SIGNATURE', `The CRL signature could not be checked: ${(cause as Error).message}`, 'Check that the CRL and the CA certificate belong together.', cause);
  }
  if (!valid) {
    throw crlError(
      'ERR_CRL_SIGNATURE',
      `The CRL signature does not verify with the key of ${issuer.subjectRfc4514}.`,
      'The CRL was not signed by this CA (or was altered); fetch it again from the CA.',
    );
  }
  const revoked = new Map<string, RevokedEntry>();
  for (const entry of crl.revokedCertificates ?? []) {
    const serial = hex(entry.userCertificate.valueBlock.valueHexView);
    const reasonExt = entry.crlEntryExtensions?.extensions.find((e) => e.extnID === '2.5.29.21');
    const reasonCode = (reasonExt?.parsedValue as { valueBlock?: { valueDec?: number } } | undefined)?.valueBlock?.valueDec;
    const reason = reasonCode === undefined ? undefined : REASONS[reasonCode];
    revoked.set(serial, { revokedAt: entry.revocationDate.value, ...(reason ? { reason } : {}) });
  }
  const numberExt = crl.crlExtensions?.extensions.find((e) => e.extnID === '2.5.29.20');
  const crlNumberView = (numberExt?.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
  return {
    der,
    sha256Hex: createHash('sha256').update(der).digest('hex'),
    issuerRfc4514: formatRfc4514(issuerDn),
    issuerCanonical,
    issuerSpki: issuer.spkiSha256,
    ...(issuer.subjectKeyId ? { issuerKeyId: issuer.subjectKeyId } : {}),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value,
    ...(crlNumberView ? { crlNumber: hex(crlNumberView) } : {}),
    revoked,
  };
}

/** A CRL is stale once `now` is past its nextUpdate (a CRL without nextUpdate never is). */
export function isCrlStale(crl: Pick<VerifiedCrl, 'nextUpdate'>, now: Date): boolean {
  return crl.nextUpdate !== undefined && now.getTime() > crl.nextUpdate.getTime();
}

/**
 * How revocation is enforced with these CRLs at `now`:
 * - `off`: no CRL configured; nothing is checked.
 * - `enforce`: OpenSSL checks every certificate of every chain (CRL_CHECK_ALL); a certificate whose
 *   issuer has no CRL is refused (CRL_UNAVAILABLE), a stale CRL refuses its certificates (CRL_STALE).
 * - `known-revoked-only`: a CRL is stale and the policy is `fail-open`; the CRLs are taken out of the TLS
 *   context and only certificates listed in a CRL (stale or not) are refused.
 */
export type RevocationMode = 'off' | 'enforce' | 'known-revoked-only';

export function revocationMode(crls: readonly VerifiedCrl[], policy: CrlStalePolicy, now: Date): RevocationMode {
  if (crls.length === 0) return 'off';
  if (policy === 'fail-open' && crls.some((c) => isCrlStale(c, now))) return 'known-revoked-only';
  return 'enforce';
}

export type RevocationStatus =
  | { status: 'good'; crl: VerifiedCrl }
  | { status: 'revoked'; crl: VerifiedCrl; entry: RevokedEntry }
  | { status: 'stale'; crl: VerifiedCrl }
  | { status: 'no_crl' };

/**
 * Looks a certificate up in the CRLs of its issuer. The CRL must name the certificate's issuer and,
 * when known, be signed by the issuer's key (`issuerSpki`, from a validated chain) or carry the key id
 * the certificate's AKI names. A listed serial is `revoked` even in a stale CRL.
 */
export function checkRevocation(
  cert: Pick<ParsedCertificate, 'serialNumber' | 'issuerCanonical' | 'authorityKeyId'>,
  crls: readonly VerifiedCrl[],
  now: Date,
  issuerSpki?: string,
): RevocationStatus {
  const candidates = crls.filter((c) => {
    if (c.issuerCanonical !== cert.issuerCanonical) return false;
    if (issuerSpki !== undefined) return c.issuerSpki === issuerSpki;
    return cert.authorityKeyId === undefined || c.issuerKeyId === undefined || c.issuerKeyId === cert.authorityKeyId;
  });
  if (candidates.length === 0) return { status: 'no_crl' };
  for (const crl of candidates) {
    const entry = crl.revoked.get(cert.serialNumber);
    if (entry) return { status: 'revoked', crl, entry };
  }
  const newest = candidates.reduce((a, b) => (b.thisUpdate.getTime() > a.thisUpdate.getTime() ? b : a));
  return isCrlStale(newest, now) ? { status: 'stale', crl: newest } : { status: 'good', crl: newest };
}
