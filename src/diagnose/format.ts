/** The short human rendering of a diagnosis (`certbound doctor` without --json). */
import type { AnchorRef, Diagnosis, NearMiss } from './types.js';

function san(d: Diagnosis): string {
  const s = d.certificate.san;
  const all = [...s.dns.map((v) => `DNS:${v}`), ...s.uri.map((v) => `URI:${v}`), ...s.ip.map((v) => `IP:${v}`), ...s.email.map((v) => `email:${v}`)];
  return all.length ? all.join(', ') : '(none)';
}

function chainLine(d: Diagnosis): string {
  const c = d.chain;
  if (c.status === 'complete' && c.anchor) return `complete, ends at trust anchor ${c.anchor.name}${c.anchor.environment ? ` (${c.anchor.environment})` : ''}`;
  return c.status === d.code ? `${c.status} (above)` : `${c.status}: ${c.message}`;
}

function revocationLine(d: Diagnosis): string {
  const r = d.revocation;
  if (r.mode === 'off') return 'not checked (no CRL configured)';
  const leaf = r.certificates[0];
  const detail = leaf?.status === 'revoked' ? ` on ${leaf.revoked_at}${leaf.reason ? ` (${leaf.reason})` : ''}` : '';
  return `${r.status}${detail}${r.mode === 'known-revoked-only' ? ' (a CRL is stale; fail-open: only listed certificates are refused)' : ''}`;
}

const SIMILARITY: Record<NearMiss['similarity'], (n: NearMiss) => string> = {
  same_value: () => 'the same value',
  reversed_dn: () => 'the subject DN in reverse order',
  cn_as_san: () => "the certificate's CN registered as a SAN",
  similar_value: (n) => `a similar value, ${n.distance} edit${n.distance === 1 ? '' : 's'} away`,
};

function anchorName(a: AnchorRef | null): string {
  return a ? `${a.name}${a.environment ? `/${a.environment}` : ''}` : '(none)';
}

/** A near miss field by field: what is registered beside what the certificate presents, ✗ where they differ. */
function nearMissLines(n: NearMiss): string[] {
  const m = n.mapping;
  const { identity, trust_anchor: ta, validity } = m.fields;
  const mark = (status: string) => (status === 'mismatch' ? '✗' : status === 'match' ? '✓' : '–');
  const rows: [string, string, string, string][] = [
    [m.kind, identity.registered, identity.closest?.certificate ?? (identity.certificate.join(', ') || '(none)'), mark(identity.status)],
  ];
  if (ta.status !== 'not_applicable') rows.push(['trust anchor', anchorName(ta.pinned), anchorName(ta.chain_anchor), mark(ta.status)]);
  if (validity.status !== 'not_applicable') rows.push(['window', `${validity.not_before ?? '…'} → ${validity.not_after ?? '…'}`, 'now', mark(validity.status)]);
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  return [
    `  ${n.client_id}: ${m.code} (${SIMILARITY[n.similarity](n)})`,
    `    ${''.padEnd(w[0]!)}  ${'registered'.padEnd(w[1]!)}  presented`,
    ...rows.map(([f, reg, pres, ok]) => `    ${f.padEnd(w[0]!)}  ${reg.padEnd(w[1]!)}  ${pres}  ${ok}`),
    ...(m.hint ? [`    → ${m.hint}`] : []),
  ];
}

/**
 * A few lines a person can act on: the verdict with its reason and hint first, then the certificate,
 * the chain, revocation, and the client's mappings one per line.
 */
export function formatDiagnosis(d: Diagnosis): string {
  const c = d.certificate;
  const lines: string[] = [];
  const who = d.client ? ` as ${d.client.client_id}` : '';
  if (d.would_authenticate) {
    lines.push(`OK: ${d.message}`);
  } else {
    lines.push(`REFUSED${who}: ${d.code}`, `  ${d.message}`);
    if (d.hint) lines.push(`  → ${d.hint}`);
  }
  lines.push(
    '',
    `subject     ${c.subject.rfc4514 || '(empty)'}`,
    `            OpenSSL: ${c.subject.oneline || '(empty)'}`,
    `SANs        ${san(d)}`,
    `issuer      ${c.issuer.rfc4514}`,
    `validity    ${c.validity.message}`,
    `x5t#S256    ${c['x5t#S256']}`,
    `SHA-256     ${c.sha256_hex}`,
    `EKU         ${c.extended_key_usage ? c.extended_key_usage.join(', ') || '(empty)' : '(none: any use)'}${c.client_auth_allowed ? '' : '  ← no clientAuth'}`,
    `chain       ${chainLine(d)}`,
    `revocation  ${revocationLine(d)}`,
  );
  const other = d.findings.filter((f) => f.code !== d.code);
  for (const f of other) lines.push(`${f.severity === 'error' ? 'problem' : 'warning'}     ${f.code}: ${f.message}`);
  lines.push(`clients     ${d.authenticates_as.length ? `authenticates as ${d.authenticates_as.map((m) => m.client_id).join(', ')}` : 'authenticates as no client'}`);
  const blocked = d.mapped_by.filter((m) => m.code);
  if (blocked.length) lines.push(`            mapped (not authenticating now): ${blocked.map((m) => `${m.client_id} ${m.code}`).join(', ')}`);
  if (d.near_misses.length) {
    lines.push('', 'nearest registered clients:');
    for (const n of d.near_misses) lines.push(...nearMissLines(n));
  }
  if (d.client?.found && d.client.mappings.length) {
    lines.push('', `mappings of ${d.client.client_id}:`);
    for (const m of d.client.mappings) {
      const pin = m.trust_anchor ? ` [trust ${m.trust_anchor.name}${m.trust_anchor.environment ? `/${m.trust_anchor.environment}` : ''}]` : '';
      const window = m.not_before || m.not_after ? ` [${m.not_before ?? '…'} → ${m.not_after ?? '…'}]` : '';
      lines.push(`  ${m.matches ? 'match   ' : m.code ? 'no match' : 'unchecked'}  ${m.kind}=${m.value}${pin}${window}${m.code ? `  ${m.code}` : ''}`);
      if (m.message && m.code !== d.code) lines.push(`            ${m.message}`);
    }
  }
  if (d.client?.registered_certificates) lines.push('', `registered certificates of ${d.client.client_id}: ${d.client.registered_certificates.join(', ') || '(none)'}`);
  return lines.join('\n');
}
