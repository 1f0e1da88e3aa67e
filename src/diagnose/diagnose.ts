/**
 * One diagnosis engine for `certbound doctor`, `POST /admin/diagnose` and the token endpoint's refusal
 * log line: given a certificate (and the chain sent with it), the trust anchors, the CRLs and the
 * registered clients, it says whether the certificate would authenticate, as which clients, and if not,
 * why, with the same reason codes the token endpoint reports and a hint for each.
 *
 * Pure: no I/O, no clock (the caller passes `now`), no store. Chain validation is OpenSSL through
 * node:crypto (chain.ts); matching reuses mapping/ unchanged. Each step is a file in steps/.
 */
import { ekuNames, formatOneline, parseCertificate, parsePemCertificates } from '../pki/index.js';
import { buildChain } from './chain.js';
import { findingsCollector, sortFindings } from './findings.js';
import { chainReport, checkChain } from './steps/chain.js';
import { diagnoseClient } from './steps/client.js';
import { dedupe, matchClients } from './steps/clients.js';
import { checkLeaf } from './steps/leaf-policy.js';
import { describeNearMiss, findNearMisses } from './steps/near-misses.js';
import { checkRevocationOfChain } from './steps/revocation.js';
import { checkValidity } from './steps/validity.js';
import { verdict } from './steps/verdict.js';
import type { AnchorRef, ClientDiagnosis, DiagnoseInput, Diagnosis, DiagnosisFinding } from './types.js';

function toDers(items: readonly (Uint8Array | string)[] | undefined): Buffer[] {
  const out: Buffer[] = [];
  for (const item of items ?? []) {
    if (typeof item === 'string') out.push(...parsePemCertificates(item));
    else if (Buffer.from(item.subarray(0, 10)).toString('latin1') === '-----BEGIN') out.push(...parsePemCertificates(Buffer.from(item).toString('latin1')));
    else out.push(Buffer.from(item));
  }
  return out;
}

/**
 * Diagnoses one certificate.
 *
 * @example
 * const d = diagnoseCertificate({ leaf: pem, chain: [intermediatePem], anchors, clients, clientId: 'billing', now: new Date() });
 * if (!d.would_authenticate) console.log(d.code, d.message, d.hint); // e.g. SAN_MISMATCH …
 */
export function diagnoseCertificate(input: DiagnoseInput): Diagnosis {
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) throw new TypeError('diagnoseCertificate: now must be a valid Date');
  const now = input.now;
  const leaf = parseCertificate(input.leaf);
  const chain = buildChain(leaf, toDers(input.chain), input.anchors);

  // Certificate-level findings, in the order the steps run; then ranked.
  const findings: DiagnosisFinding[] = [];
  const add = findingsCollector(findings);
  checkChain(chain, add);
  const validity = checkValidity(leaf, chain, now, add);
  const clientAuthAllowed = checkLeaf(leaf, chain, add);
  const revocation = checkRevocationOfChain(chain, input.revocation, now, add);
  sortFindings(findings);
  const blocking = findings.filter((f) => f.severity === 'error');

  // Clients: which ones the certificate authenticates as, and the named one field by field.
  const anchorSpki = chain.status === 'complete' ? chain.anchor?.parsed.spkiSha256 : undefined;
  const chainAnchorRef: AnchorRef | null = chain.anchor?.anchor ? { name: chain.anchor.anchor.name, environment: chain.anchor.anchor.environment ?? null } : null;
  const clients = dedupe(input.clients ?? []);
  const { authenticatesAs, mappedBy } = matchClients(leaf, clients, { now, anchorSpki, blocking });
  const clientContext = { now, anchorSpki, chainAnchorRef, blocking, anchors: input.anchors, chainFinding: chain.status === 'complete' ? null : chain.status };
  let client: ClientDiagnosis | null = null;
  if (input.clientId !== undefined) {
    client = diagnoseClient(
      leaf,
      clients.find((c) => c.clientId === input.clientId),
      input.clientId,
      clientContext,
    );
  }

  const {
    wouldAuthenticate,
    code,
    message: verdictMessage,
    hint,
  } = verdict({
    leaf,
    leafSelfSigned: chain.leafSelfSigned,
    client,
    authenticatesAs,
    mappedBy,
    blocking,
    clients,
    clientsGiven: !!input.clients,
  });
  // Only when nothing about the certificate itself refuses it: then the mappings are what to fix.
  const nearMisses = client === null && code === 'NO_MATCHING_CLIENT' ? findNearMisses(leaf, clients, input.nearby ?? [], clientContext) : [];
  const message = nearMisses.length ? `${verdictMessage} Nearest registered: ${nearMisses.map(describeNearMiss).join('; ')}.` : verdictMessage;

  return {
    diagnosis_version: 1,
    now: now.toISOString(),
    would_authenticate: wouldAuthenticate,
    code,
    message,
    hint,
    certificate: {
      subject: { rfc4514: leaf.subjectRfc4514, oneline: formatOneline(leaf.subject) },
      issuer: { rfc4514: leaf.issuerRfc4514, oneline: formatOneline(leaf.issuer) },
      san: { dns: [...leaf.san.dns], uri: [...leaf.san.uri], ip: [...leaf.san.ipText], email: [...leaf.san.email] },
      serial_number: leaf.serialNumber,
      not_before: leaf.notBefore.toISOString(),
      not_after: leaf.notAfter.toISOString(),
      validity,
      'x5t#S256': leaf.x5t,
      sha256_hex: leaf.sha256Hex,
      extended_key_usage: leaf.extendedKeyUsage ? ekuNames(leaf.extendedKeyUsage) : null,
      client_auth_allowed: clientAuthAllowed,
      self_signed: chain.leafSelfSigned,
      subject_key_id: leaf.subjectKeyId ?? null,
      authority_key_id: leaf.authorityKeyId ?? null,
    },
    chain: chainReport(chain),
    revocation,
    findings,
    authenticates_as: authenticatesAs,
    mapped_by: mappedBy,
    client,
    near_misses: nearMisses,
  };
}
