/** The chain step: what the path built by chain.ts says about the certificate, and the document's `chain`. */
import { type ChainCertificate, type ChainResult, MAX_CHAIN_CERTIFICATES } from '../chain.js';
import type { AddFinding } from '../findings.js';
import type { Diagnosis, PathEntry } from '../types.js';

export function checkChain(chain: ChainResult, add: AddFinding): void {
  if (chain.sentLength > MAX_CHAIN_CERTIFICATES) {
    add('CHAIN_TOO_LONG', `The chain holds ${chain.sentLength} certificates besides the trust anchor; at most ${MAX_CHAIN_CERTIFICATES} (leaf and intermediates) are accepted.`);
  }
  if (chain.status !== 'complete') {
    const missing = chain.missingIssuer;
    const hint =
      chain.status === 'INTERMEDIATE_MISSING' && missing
        ? `Send the intermediate CA "${missing.subject}"${missing.keyId ? ` (subject key id ${missing.keyId})` : ''} after the leaf (in the client's TLS configuration; to check a chain with certbound doctor, pass it with --chain, or as chain to POST /admin/diagnose).`
        : chain.status === 'UNTRUSTED_ROOT' && chain.leafSelfSigned
          ? 'A self-signed certificate authenticates only a self_signed_tls_client_auth client it is registered for; otherwise issue it from a trust anchor.'
          : undefined;
    add(chain.status, chain.message, 'error', hint);
  }
  for (const u of chain.unreadable) add('CHAIN_INVALID', `Chain certificate #${u.index + 1} could not be read: ${u.message}`, 'warning');
}

function pathEntry(c: ChainCertificate): PathEntry {
  return {
    subject: c.parsed.subjectRfc4514,
    issuer: c.parsed.issuerRfc4514,
    'x5t#S256': c.parsed.x5t,
    not_after: c.parsed.notAfter.toISOString(),
    source: c.source,
    anchor: c.anchor?.name ?? null,
  };
}

export function chainReport(chain: ChainResult): Diagnosis['chain'] {
  const anchor = chain.anchor;
  return {
    status: chain.status,
    message: chain.message,
    anchor: anchor?.anchor
      ? { name: anchor.anchor.name, environment: anchor.anchor.environment ?? null, subject: anchor.parsed.subjectRfc4514, spki_sha256: anchor.parsed.spkiSha256 }
      : null,
    missing_issuer: chain.missingIssuer ? { subject: chain.missingIssuer.subject, key_id: chain.missingIssuer.keyId ?? null } : null,
    path: chain.path.map(pathEntry),
    unused: chain.unused.map((c) => c.parsed.subjectRfc4514),
    sent_certificates: chain.sentLength,
  };
}
