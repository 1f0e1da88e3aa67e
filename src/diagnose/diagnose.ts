/**
 * One diagnosis engine for `certbound doctor`, `POST /admin/diagnose` and the token endpoint's refusal
 * log line: given a certificate (and the chain sent with it), the trust anchors, the CRLs and the
 * registered clients, it says whether the certificate would authenticate, as which clients, and if not,
 * why, with the same reason codes the token endpoint reports and a hint for each.
 *
 * Pure: no I/O, no clock (the caller passes `now`), no store. Chain validation is OpenSSL through
 * node:crypto (chain.ts); matching reuses mapping/ unchanged.
 */
import { createHash } from 'node:crypto';
import { type CertificateMapping, compareMappingFields, type MappingRefusal, matchCertificateToClient } from '../mapping/index.js';
import { MAPPING_KIND_DEFINITIONS } from '../mapping/kinds.js';
import {
  checkLeafPolicy,
  checkRevocation,
  type CrlStalePolicy,
  ekuNames,
  formatOneline,
  type ParsedCertificate,
  parseCertificate,
  parsePemCertificates,
  revocationMode,
  type RevocationMode,
  type VerifiedCrl,
} from '../pki/index.js';
import { buildChain, type ChainCertificate, type ChainStatusCode, type DiagnosisAnchor, MAX_CHAIN_CERTIFICATES } from './chain.js';
import { CERTIFICATE_CODE_PRECEDENCE, type CertificateReasonCode, DIAGNOSIS_CODES, type DiagnosisCode } from './reasons.js';

const DAY_MS = 86_400_000;

/** A registered client as the diagnosis needs it (store ClientRecord rows fit this shape). */
export interface DiagnosisClient {
  clientId: string;
  authMethod: 'tls_client_auth' | 'self_signed_tls_client_auth' | 'private_key_jwt';
  mappings: readonly (CertificateMapping & { trustAnchorEnvironment?: string | null })[];
  /** self_signed_tls_client_auth: the registered certificates (`x5c`). */
  jwks?: { keys: readonly Record<string, unknown>[] } | null;
  /** self_signed_tls_client_auth: where the client publishes them (SS-4); `jwks` is then the fetched copy, if any. */
  jwksUri?: string | null;
}

export interface DiagnoseInput {
  /** The client certificate: DER bytes or PEM text. */
  leaf: Uint8Array | string;
  /** What the client sends after its leaf: DER certificates, or PEM text (one or more blocks each). */
  chain?: readonly (Uint8Array | string)[];
  anchors: readonly DiagnosisAnchor[];
  /** Registered clients to compare with (the named client and any candidates). */
  clients?: readonly DiagnosisClient[];
  /** With a client id: compare with that client's mappings, field by field. */
  clientId?: string | undefined;
  now: Date;
  /** Verified CRLs and the stale policy; omitted: revocation is not checked (as with no CRL configured). */
  revocation?: { crls: readonly VerifiedCrl[]; stalePolicy: CrlStalePolicy } | undefined;
}

export interface DiagnosisFinding {
  code: DiagnosisCode;
  severity: 'error' | 'warning';
  message: string;
  hint: string;
}

export interface AnchorRef {
  name: string;
  environment: string | null;
}

export interface FieldResult {
  status: 'match' | 'mismatch' | 'not_applicable';
  code: DiagnosisCode | null;
  message: string | null;
  hint: string | null;
}

export interface MappingDiagnosis {
  id: string;
  kind: CertificateMapping['kind'];
  value: string;
  trust_anchor: AnchorRef | null;
  not_before: string | null;
  not_after: string | null;
  /** This mapping authenticates the certificate now. */
  matches: boolean;
  /** The reason the token endpoint would give for this mapping (validity, then identity, then anchor). */
  code: DiagnosisCode | null;
  message: string | null;
  hint: string | null;
  fields: {
    identity: FieldResult & {
      registered: string;
      /** The certificate's values of this kind (subject DN in RFC 4514 for subject_dn). */
      certificate: string[];
      /** The certificate value closest to the registered one (SAN_MISMATCH, SUBJECT_DN_MISMATCH). */
      closest: { registered: string; certificate: string; distance: number } | null;
    };
    trust_anchor: FieldResult & { pinned: AnchorRef | null; chain_anchor: AnchorRef | null };
    validity: FieldResult & { not_before: string | null; not_after: string | null };
  };
}

export interface ClientDiagnosis {
  client_id: string;
  found: boolean;
  auth_method: DiagnosisClient['authMethod'] | null;
  would_authenticate: boolean;
  code: DiagnosisCode | null;
  message: string;
  hint: string | null;
  mappings: MappingDiagnosis[];
  /** self_signed_tls_client_auth: registered certificate thumbprints. */
  registered_certificates: string[] | null;
}

export interface ClientMatch {
  client_id: string;
  auth_method: DiagnosisClient['authMethod'];
  mapping_id: string | null;
  kind: CertificateMapping['kind'] | null;
  value: string | null;
  /** Null when this client would authenticate; otherwise why not (certificate- or mapping-level). */
  code: DiagnosisCode | null;
}

export interface PathEntry {
  subject: string;
  issuer: string;
  'x5t#S256': string;
  not_after: string;
  source: ChainCertificate['source'];
  anchor: string | null;
}

export interface RevocationEntry {
  subject: string;
  status: 'good' | 'revoked' | 'no_crl' | 'stale' | 'not_checked';
  crl_issuer: string | null;
  next_update: string | null;
  revoked_at: string | null;
  reason: string | null;
}

/** The stable JSON document (`diagnosis_version` changes if a field changes meaning). */
export interface Diagnosis {
  diagnosis_version: 1;
  now: string;
  /** With a client id: as that client; otherwise: as at least one registered client. */
  would_authenticate: boolean;
  /** Primary reason when it would not; null when it would. */
  code: DiagnosisCode | null;
  message: string;
  hint: string | null;
  certificate: {
    subject: { rfc4514: string; oneline: string };
    issuer: { rfc4514: string; oneline: string };
    san: { dns: string[]; uri: string[]; ip: string[]; email: string[] };
    serial_number: string;
    not_before: string;
    not_after: string;
    validity: { status: 'valid' | 'expired' | 'not_yet_valid'; days_remaining: number; message: string };
    'x5t#S256': string;
    sha256_hex: string;
    extended_key_usage: string[] | null;
    client_auth_allowed: boolean;
    self_signed: boolean;
    subject_key_id: string | null;
    authority_key_id: string | null;
  };
  chain: {
    status: ChainStatusCode;
    message: string;
    anchor: (AnchorRef & { subject: string; spki_sha256: string }) | null;
    missing_issuer: { subject: string; key_id: string | null } | null;
    path: PathEntry[];
    /** Certificates given in the chain that are not on the path. */
    unused: string[];
    /** Certificates the client sends, leaf included, anchors excluded. */
    sent_certificates: number;
  };
  revocation: { mode: RevocationMode; status: 'not_checked' | 'good' | 'revoked' | 'unavailable' | 'stale'; certificates: RevocationEntry[] };
  /** Certificate-level problems, most important first (errors refuse every tls_client_auth client). */
  findings: DiagnosisFinding[];
  /** Every registered client this certificate would authenticate as, right now. */
  authenticates_as: ClientMatch[];
  /** Mappings whose subject or SAN value is this certificate's, whether or not they authenticate it now. */
  mapped_by: ClientMatch[];
  /** Present when a client id was given. */
  client: ClientDiagnosis | null;
}

/**
 * What does not matter for a self-signed certificate that no client registered: the chain and the
 * tls_client_auth leaf rules, which self_signed_tls_client_auth does not apply (docs/x509-policy.md).
 */
const SELF_SIGNED_IRRELEVANT = new Set<DiagnosisCode>([
  'UNTRUSTED_ROOT',
  'EKU_NOT_CLIENT_AUTH',
  'EKU_MISSING',
  'LEAF_IS_CA',
  'LEAF_NOT_V3',
  'KEY_USAGE_NO_DIGITAL_SIGNATURE',
  'UNKNOWN_CRITICAL_EXTENSION',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}

function toDers(items: readonly (Uint8Array | string)[] | undefined): Buffer[] {
  const out: Buffer[] = [];
  for (const item of items ?? []) {
    if (typeof item === 'string') out.push(...parsePemCertificates(item));
    else if (Buffer.from(item.subarray(0, 10)).toString('latin1') === '-----BEGIN') out.push(...parsePemCertificates(Buffer.from(item).toString('latin1')));
    else out.push(Buffer.from(item));
  }
  return out;
}

/** Levenshtein distance, bounded inputs (registered values are at most 4096 characters). */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function thumbprintOfX5c(key: Record<string, unknown>): string | undefined {
  const x5c = key.x5c;
  if (!Array.isArray(x5c) || typeof x5c[0] !== 'string') return undefined;
  return createHash('sha256').update(Buffer.from(x5c[0], 'base64')).digest('base64url');
}

/** The anchor a mapping is pinned to, by SPKI (what the pin means), named as registered. */
function pinnedAnchorOf(anchors: readonly DiagnosisAnchor[], mapping: DiagnosisClient['mappings'][number]): AnchorRef | null {
  if (!mapping.trustAnchorSpki) return null;
  const known = anchors.find((a) => (a.spkiSha256 ?? spkiOfPem(a.pem)) === mapping.trustAnchorSpki);
  return { name: mapping.trustAnchorName ?? known?.name ?? mapping.trustAnchorSpki, environment: mapping.trustAnchorEnvironment ?? known?.environment ?? null };
}

function spkiOfPem(pem: string): string | undefined {
  try {
    return parseCertificate(parsePemCertificates(pem)[0]!).spkiSha256;
  } catch {
    return undefined;
  }
}

function envText(ref: AnchorRef | null): string {
  return ref?.environment ? ` (environment ${ref.environment})` : '';
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
  const findings: DiagnosisFinding[] = [];
  const add = (code: CertificateReasonCode, message: string, severity: 'error' | 'warning' = 'error', hint?: string) =>
    findings.push({ code, severity, message, hint: hint ?? DIAGNOSIS_CODES[code] });

  // ---- chain --------------------------------------------------------------------------------
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

  // ---- validity (leaf and CAs on the path) ---------------------------------------------------
  const daysRemaining = Math.floor((leaf.notAfter.getTime() - now.getTime()) / DAY_MS);
  let validityStatus: Diagnosis['certificate']['validity']['status'] = 'valid';
  let validityMessage = `Valid until ${leaf.notAfter.toISOString()} (expires in ${daysRemaining} day${daysRemaining === 1 ? '' : 's'}).`;
  if (now.getTime() > leaf.notAfter.getTime()) {
    validityStatus = 'expired';
    validityMessage = `Expired on ${leaf.notAfter.toISOString()} (${-daysRemaining} day${daysRemaining === -1 ? '' : 's'} ago).`;
    add('CERT_EXPIRED', `The client certificate expired on ${leaf.notAfter.toISOString()}.`);
  } else if (now.getTime() < leaf.notBefore.getTime()) {
    validityStatus = 'not_yet_valid';
    validityMessage = `Not valid before ${leaf.notBefore.toISOString()}.`;
    add('CERT_NOT_YET_VALID', `The client certificate is not valid before ${leaf.notBefore.toISOString()}; check the clocks or the certificate.`);
  }
  for (const ca of chain.path.slice(1)) {
    if (now.getTime() > ca.parsed.notAfter.getTime()) {
      add('CERT_EXPIRED', `The CA certificate ${ca.parsed.subjectRfc4514} on the chain expired on ${ca.parsed.notAfter.toISOString()}.`, 'error', 'Renew that CA certificate (or send the renewed intermediate).');
    } else if (now.getTime() < ca.parsed.notBefore.getTime()) {
      add('CERT_NOT_YET_VALID', `The CA certificate ${ca.parsed.subjectRfc4514} on the chain is not valid before ${ca.parsed.notBefore.toISOString()}.`);
    }
  }

  // ---- leaf policy (H15-4): the token endpoint's function, on both of its paths ------------------
  const chainAnchor = chain.status === 'complete' ? chain.anchor?.anchor : undefined;
  const leafViolations = checkLeafPolicy(leaf, { allowMissingEku: chainAnchor?.allowMissingEku === true });
  for (const v of leafViolations) {
    const hint =
      v.code === 'EKU_MISSING' && chainAnchor
        ? `Reissue the certificate with Extended Key Usage clientAuth (1.3.6.1.5.5.7.3.2). Only for a legacy CA that never issues EKU: re-add the trust anchor ${chainAnchor.name} with certbound trust add --allow-no-eku (admin API: allow_missing_eku).`
        : undefined;
    add(v.code, v.message, 'error', hint);
  }
  const clientAuthAllowed = !leafViolations.some((v) => v.code === 'EKU_NOT_CLIENT_AUTH' || v.code === 'EKU_MISSING');

  // ---- revocation -----------------------------------------------------------------------------
  const crls = input.revocation?.crls ?? [];
  const mode = revocationMode(crls, input.revocation?.stalePolicy ?? 'fail-closed', now);
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
      add('REVOKED', `${what} (serial ${cert.parsed.serialNumber}) was revoked on ${r.entry.revokedAt.toISOString()}${r.entry.reason ? ` (${r.entry.reason})` : ''}, per the CRL of ${r.crl.issuerRfc4514}.`);
    } else if (r.status === 'stale') {
      if (revocationStatus === 'good') revocationStatus = 'stale';
      const message = `The CRL of ${r.crl.issuerRfc4514} is stale: its nextUpdate was ${iso(r.crl.nextUpdate)}.`;
      if (mode === 'enforce') add('CRL_STALE', `${message} With the fail-closed setting, certificates it covers are refused.`);
      else add('CRL_STALE', `${message} With the fail-open setting, only certificates listed in a CRL are refused.`, 'warning');
    } else if (r.status === 'no_crl' && mode === 'enforce' && chain.status === 'complete') {
      if (revocationStatus === 'good') revocationStatus = 'unavailable';
      add('CRL_UNAVAILABLE', `CRL checking is on, and there is no CRL of ${cert.parsed.issuerRfc4514}, the issuer of ${cert.parsed.subjectRfc4514 || 'the certificate'}; the TLS stack refuses certificates it cannot check.`);
    }
  }

  // Most important first; stable within a code.
  const rank = (f: DiagnosisFinding) => (f.severity === 'warning' ? 1000 : 0) + CERTIFICATE_CODE_PRECEDENCE.indexOf(f.code as CertificateReasonCode);
  findings.sort((a, b) => rank(a) - rank(b));
  const blocking = findings.filter((f) => f.severity === 'error');
  const anchorSpki = chain.status === 'complete' ? chain.anchor?.parsed.spkiSha256 : undefined;
  const chainAnchorRef: AnchorRef | null = chain.anchor?.anchor ? { name: chain.anchor.anchor.name, environment: chain.anchor.anchor.environment ?? null } : null;

  // ---- clients --------------------------------------------------------------------------------
  const clients = dedupe(input.clients ?? []);
  const authenticatesAs: ClientMatch[] = [];
  const mappedBy: ClientMatch[] = [];
  for (const client of clients) {
    if (client.authMethod === 'self_signed_tls_client_auth') {
      const registered = (client.jwks?.keys ?? []).map(thumbprintOfX5c).filter((t): t is string => !!t);
      if (registered.includes(leaf.x5t)) {
        const match: ClientMatch = { client_id: client.clientId, auth_method: client.authMethod, mapping_id: null, kind: null, value: null, code: null };
        authenticatesAs.push(match);
        mappedBy.push(match);
      }
      continue;
    }
    for (const mapping of client.mappings) {
      const fields = compareMappingFields(leaf, mapping, { now, anchorSpki });
      if (fields.identity) continue;
      const mappingCode = fields.validity?.code ?? fields.trustAnchor?.code ?? null;
      mappedBy.push({ client_id: client.clientId, auth_method: client.authMethod, mapping_id: mapping.id, kind: mapping.kind, value: mapping.value, code: blocking[0]?.code ?? mappingCode });
    }
    if (blocking.length === 0) {
      const result = matchCertificateToClient(leaf, client.mappings, { now, anchorSpki });
      if (result.matched) {
        authenticatesAs.push({ client_id: client.clientId, auth_method: client.authMethod, mapping_id: result.mapping.id, kind: result.mapping.kind, value: result.mapping.value, code: null });
      }
    }
  }

  let client: ClientDiagnosis | null = null;
  if (input.clientId !== undefined) {
    client = diagnoseClient(leaf, clients.find((c) => c.clientId === input.clientId), input.clientId, { now, anchorSpki, chainAnchorRef, blocking, anchors: input.anchors });
  }

  // ---- verdict --------------------------------------------------------------------------------
  let wouldAuthenticate: boolean;
  let code: DiagnosisCode | null;
  let message: string;
  let hint: string | null;
  if (client) {
    wouldAuthenticate = client.would_authenticate;
    code = client.code;
    message = client.message;
    hint = client.hint;
  } else if (authenticatesAs.length > 0) {
    wouldAuthenticate = true;
    code = null;
    message = `The certificate authenticates as ${authenticatesAs.map((m) => m.client_id).join(', ')}.`;
    hint = null;
  } else {
    wouldAuthenticate = false;
    if (chain.leafSelfSigned && blocking.every((f) => SELF_SIGNED_IRRELEVANT.has(f.code))) {
      code = 'SELF_SIGNED_NOT_REGISTERED';
      message = `The certificate is self-signed and no self_signed_tls_client_auth client has it registered (x5t#S256 ${leaf.x5t}).`;
      hint = DIAGNOSIS_CODES.SELF_SIGNED_NOT_REGISTERED;
    } else if (blocking[0]) {
      ({ code, message, hint } = blocking[0]);
    } else {
      code = 'NO_MATCHING_CLIENT';
      const mapped = mappedBy.filter((m) => m.code);
      message = mapped.length
        ? `No client authenticates with this certificate now: ${mapped.map((m) => `${m.client_id} (mapping ${m.mapping_id}: ${m.code})`).join('; ')}.`
        : clients.length || input.clients
          ? 'No registered client has a mapping for this certificate.'
          : 'No clients were given to compare with.';
      hint = DIAGNOSIS_CODES.NO_MATCHING_CLIENT;
    }
  }

  const anchor = chain.anchor;
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
      validity: { status: validityStatus, days_remaining: daysRemaining, message: validityMessage },
      'x5t#S256': leaf.x5t,
      sha256_hex: leaf.sha256Hex,
      extended_key_usage: leaf.extendedKeyUsage ? ekuNames(leaf.extendedKeyUsage) : null,
      client_auth_allowed: clientAuthAllowed,
      self_signed: chain.leafSelfSigned,
      subject_key_id: leaf.subjectKeyId ?? null,
      authority_key_id: leaf.authorityKeyId ?? null,
    },
    chain: {
      status: chain.status,
      message: chain.message,
      anchor: anchor?.anchor ? { name: anchor.anchor.name, environment: anchor.anchor.environment ?? null, subject: anchor.parsed.subjectRfc4514, spki_sha256: anchor.parsed.spkiSha256 } : null,
      missing_issuer: chain.missingIssuer ? { subject: chain.missingIssuer.subject, key_id: chain.missingIssuer.keyId ?? null } : null,
      path: chain.path.map(pathEntry),
      unused: chain.unused.map((c) => c.parsed.subjectRfc4514),
      sent_certificates: chain.sentLength,
    },
    revocation: { mode, status: revocationStatus, certificates: revocationEntries },
    findings,
    authenticates_as: authenticatesAs,
    mapped_by: mappedBy,
    client,
  };
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

function dedupe(clients: readonly DiagnosisClient[]): DiagnosisClient[] {
  const seen = new Map<string, DiagnosisClient>();
  for (const c of clients) if (!seen.has(c.clientId)) seen.set(c.clientId, c);
  return [...seen.values()];
}

interface ClientContext {
  now: Date;
  anchorSpki: string | undefined;
  chainAnchorRef: AnchorRef | null;
  blocking: DiagnosisFinding[];
  anchors: readonly DiagnosisAnchor[];
}

function fieldOf(refusal: MappingRefusal | undefined, status?: FieldResult['status']): FieldResult {
  return refusal
    ? { status: 'mismatch', code: refusal.code, message: refusal.message, hint: refusal.hint }
    : { status: status ?? 'match', code: null, message: null, hint: null };
}

/** Rewrites WRONG_TRUST_ANCHOR with anchor names and environment labels (the code stays the same). */
function explainAnchor(refusal: MappingRefusal | undefined, pinned: AnchorRef | null, chainAnchor: AnchorRef | null): MappingRefusal | undefined {
  if (refusal?.code !== 'WRONG_TRUST_ANCHOR' || !pinned) return refusal;
  const crossEnvironment = pinned.environment && chainAnchor?.environment && pinned.environment !== chainAnchor.environment;
  return {
    ...refusal,
    message: `The certificate chain ends at the trust anchor ${chainAnchor?.name ?? 'another anchor'}${envText(chainAnchor)}; this mapping is pinned to ${pinned.name}${envText(pinned)}.${
      crossEnvironment ? ` A ${chainAnchor!.environment} certificate never authenticates a mapping pinned to ${pinned.environment}.` : ''
    }`,
    hint: `Use a certificate issued under ${pinned.name}${envText(pinned)}, or pin the mapping to the anchor this certificate comes from.`,
  };
}

function diagnoseMapping(leaf: ParsedCertificate, mapping: DiagnosisClient['mappings'][number], ctx: ClientContext): MappingDiagnosis {
  const fields = compareMappingFields(leaf, mapping, { now: ctx.now, anchorSpki: ctx.anchorSpki });
  const pinned = pinnedAnchorOf(ctx.anchors, mapping);
  const trustAnchor = explainAnchor(fields.trustAnchor, pinned, ctx.chainAnchorRef);
  const certValues = [...MAPPING_KIND_DEFINITIONS[mapping.kind].certificateValues(leaf)];
  let closest: MappingDiagnosis['fields']['identity']['closest'] = null;
  if (fields.identity && certValues.length > 0) {
    const fold = (s: string) => (mapping.kind === 'san_dns' || mapping.kind === 'subject_dn' ? s.toLowerCase() : s);
    for (const v of certValues) {
      const d = distance(fold(mapping.value), fold(v));
      if (!closest || d < closest.distance) closest = { registered: mapping.value, certificate: v, distance: d };
    }
  }
  let identity = fields.identity;
  if (identity?.code === 'SAN_MISMATCH' && closest) {
    identity = { ...identity, message: `${identity.message} Closest: registered ${closest.registered}, certificate ${closest.certificate}.` };
  }
  // Same order as matchCertificateToClient: validity, identity, trust anchor.
  const first = fields.validity ?? identity ?? trustAnchor;
  return {
    id: mapping.id,
    kind: mapping.kind,
    value: mapping.value,
    trust_anchor: pinned,
    not_before: iso(mapping.notBefore),
    not_after: iso(mapping.notAfter),
    matches: !first,
    code: first?.code ?? null,
    message: first?.message ?? null,
    hint: first?.hint ?? null,
    fields: {
      identity: { ...fieldOf(identity), registered: mapping.value, certificate: certValues, closest },
      trust_anchor: { ...fieldOf(trustAnchor, pinned ? 'match' : 'not_applicable'), pinned, chain_anchor: ctx.chainAnchorRef },
      validity: { ...fieldOf(fields.validity, mapping.notBefore || mapping.notAfter ? 'match' : 'not_applicable'), not_before: iso(mapping.notBefore), not_after: iso(mapping.notAfter) },
    },
  };
}

function diagnoseClient(leaf: ParsedCertificate, client: DiagnosisClient | undefined, clientId: string, ctx: ClientContext): ClientDiagnosis {
  if (!client) {
    return {
      client_id: clientId,
      found: false,
      auth_method: null,
      would_authenticate: false,
      code: 'CLIENT_UNKNOWN',
      message: `There is no client "${clientId}".`,
      hint: DIAGNOSIS_CODES.CLIENT_UNKNOWN,
      mappings: [],
      registered_certificates: null,
    };
  }
  if (client.authMethod === 'private_key_jwt') {
    // BT-2: the certificate is proof of possession only; the signed client assertion authenticates.
    return {
      client_id: clientId,
      found: true,
      auth_method: client.authMethod,
      would_authenticate: false,
      code: 'CLIENT_NOT_CERTIFICATE_AUTH',
      message: `Client ${clientId} authenticates with private_key_jwt (a client assertion signed with one of its ${client.jwks?.keys.length ?? 0} registered keys), not with a certificate. Any certificate it connects with over mTLS is bound to its tokens (x5t#S256 ${leaf.x5t} for this one); no CA or mapping check applies.`,
      hint: DIAGNOSIS_CODES.CLIENT_NOT_CERTIFICATE_AUTH,
      mappings: [],
      registered_certificates: null,
    };
  }
  if (client.authMethod === 'self_signed_tls_client_auth') {
    const registered = (client.jwks?.keys ?? []).map(thumbprintOfX5c).filter((t): t is string => !!t);
    const ok = registered.includes(leaf.x5t);
    return {
      client_id: clientId,
      found: true,
      auth_method: client.authMethod,
      would_authenticate: ok,
      code: ok ? null : 'SELF_SIGNED_NOT_REGISTERED',
      message: ok
        ? `The certificate is the one registered for ${clientId} (self_signed_tls_client_auth${client.jwksUri ? `, published at ${client.jwksUri}` : ''}).`
        : client.jwksUri && !client.jwks
          ? `Client ${clientId} publishes its certificates at ${client.jwksUri} (jwks_uri), which could not be read for this diagnosis; this certificate is ${leaf.x5t}.`
          : `Client ${clientId} uses self_signed_tls_client_auth and has ${registered.length === 1 ? `the certificate ${registered[0]}` : `the certificates ${registered.join(', ')}`} ${client.jwksUri ? `published at ${client.jwksUri}` : 'registered'}; this certificate is ${leaf.x5t}.`,
      hint: ok ? null : DIAGNOSIS_CODES.SELF_SIGNED_NOT_REGISTERED,
      mappings: [],
      registered_certificates: registered,
    };
  }
  const mappings = client.mappings.map((m) => diagnoseMapping(leaf, m, ctx));
  const base = { client_id: clientId, found: true, auth_method: client.authMethod, mappings, registered_certificates: null };
  const blocking = ctx.blocking[0];
  if (blocking) return { ...base, would_authenticate: false, code: blocking.code, message: blocking.message, hint: blocking.hint };
  const result = matchCertificateToClient(leaf, client.mappings, { now: ctx.now, anchorSpki: ctx.anchorSpki });
  if (result.matched) {
    const m = result.mapping;
    return { ...base, would_authenticate: true, code: null, message: `The certificate authenticates as ${clientId} through mapping ${m.id} (${m.kind}=${m.value}).`, hint: null };
  }
  // The reason the token endpoint logs: the first mapping's (matchCertificateToClient order).
  const reason = result.reasons[0]!;
  const detailed = mappings.find((m) => m.id === reason.mappingId);
  let message = detailed?.message ?? reason.message;
  if (reason.code === 'SAN_MISMATCH') {
    // Closest registered value over all of the client's mappings of a SAN kind.
    const best = mappings.map((m) => m.fields.identity.closest).filter((c): c is NonNullable<typeof c> => !!c).sort((a, b) => a.distance - b.distance)[0];
    if (best) message = `${reason.message} Closest: registered ${best.registered}, certificate ${best.certificate}.`;
  }
  return { ...base, would_authenticate: false, code: reason.code, message, hint: detailed?.hint ?? reason.hint };
}
