/** The revocation step: each certificate below the anchor against the CRLs, as the TLS stack checks it. */
import { checkRevocation, revocationMode } from '../../pki/index.js';
import type { ChainResult } from '../chain.js';
import type { AddFinding } from '../findings.js';
import type { DiagnoseInput, Diagnosis, RevocationEntry } from '../types.js';
import { iso } from './dates.js';

export function checkRevocationOfChain(chain: ChainResult, revocation: DiagnoseInput['revocation'], now: Date, add: AddFinding): Diagnosis['revocation'] {
  const crls = revocation?.crls ?? [];
  const mode = revocationMode(crls, revocation?.stalePolicy ?? 'fail-closed', now);
  const revocationEntries: RevocationEntry[] = [];
  let revocationStatus: Diagnosis['revocation']['status'] = mode === 'off' ? 'not_checked' : 'good';
  const belowAnchor = chain.path.filter((c) => c.source !== 'anchor');
  for (const [index, cert] of belowAnchor.entries()) {
    const issuer = chain.path[index + 1];
    if (mode === 'off') {
      revocationEntries.push({ subject: cert.parsed.subjectRfc4514, status: 'not_checked', crl_issuer: null, next_update: null, revoked_at: null, reason: null });
      continue;
    }
    const r = checkRevocation(cert.parsed, crls, now, issuer?.parsed.spkiSha256);
    revocationEntries.push({
      subject: cert.parsed.subjectRfc4514,
      status: r.status,
      crl_issuer: r.status === 'no_crl' ? null : r.crl.issuerRfc4514,
      next_update: r.status === 'no_crl' ? null : iso(r.crl.nextUpdate),
      revoked_at: r.status === 'revoked' ? r.entry.revokedAt.toISOString() : null,
      reason: r.status === 'revoked' ? (r.entry.reason ?? null) : null,
    });
    const what = cert === belowAnchor[0] ? 'The client certificate' : `The CA certificate ${cert.parsed.subjectRfc4514}`;
    if (r.status === 'revoked') {
      revocationStatus = 'revoked';
      add(
        'REVOKED',
        `${what} (serial ${cert.parsed.serialNumber}) was revoked on ${r.entry.revokedAt.toISOString()}${r.entry.reason ? ` (${r.entry.reason})` : ''}, per the CRL of ${r.crl.issuerRfc4514}.`,
      );
    } else if (r.status === 'stale') {
      if (revocationStatus === 'good') revocationStatus = 'stale';
      const message = `The CRL of ${r.crl.issuerRfc4514} is stale: its nextUpdate was ${iso(r.crl.nextUpdate)}.`;
      if (mode === 'enforce') add('CRL_STALE', `${message} With the fail-closed setting, certificates it covers are refused.`);
      else add('CRL_STALE', `${message} With the fail-open setting, only certificates listed in a CRL are refused.`, 'warning');
    } else if (r.status === 'no_crl' && mode === 'enforce' && chain.status === 'complete') {
      if (revocationStatus === 'good') revocationStatus = 'unavailable';
      add(
        'CRL_UNAVAILABLE',
        `CRL checking is on, and there is no CRL of ${cert.parsed.issuerRfc4514}, the issuer of ${cert.parsed.subjectRfc4514 || 'the certificate'}; the TLS stack refuses certificates it cannot check.`,
      );
    }
  }
  return { mode, status: revocationStatus, certificates: revocationEntries };
}
