/** The mapping step: one registered mapping against the certificate, field by field, in the token endpoint's order. */
import { compareMappingFields, type MappingRefusal } from '../../mapping/index.js';
import { MAPPING_KIND_DEFINITIONS } from '../../mapping/kinds.js';
import { type ParsedCertificate, parseCertificate, parsePemCertificates } from '../../pki/index.js';
import type { ChainStatusCode, DiagnosisAnchor } from '../chain.js';
import type { AnchorRef, DiagnosisClient, DiagnosisFinding, FieldResult, MappingDiagnosis } from '../types.js';
import { iso } from './dates.js';

/** What every mapping of a client is diagnosed against. */
export interface ClientContext {
  now: Date;
  anchorSpki: string | undefined;
  chainAnchorRef: AnchorRef | null;
  /** The certificate-level errors: each refuses every tls_client_auth client. */
  blocking: DiagnosisFinding[];
  anchors: readonly DiagnosisAnchor[];
  /** The chain finding (INTERMEDIATE_MISSING, UNTRUSTED_ROOT, CHAIN_INVALID) when the chain reached no anchor. */
  chainFinding: ChainStatusCode | null;
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

function fieldOf(refusal: MappingRefusal | undefined, status?: FieldResult['status']): FieldResult {
  return refusal ? { status: 'mismatch', code: refusal.code, message: refusal.message, hint: refusal.hint } : { status: status ?? 'match', code: null, message: null, hint: null };
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

/**
 * One cause, one reason code: a pin cannot be checked against a chain that reached no anchor, and the
 * chain finding already says why. Saying TRUST_ANCHOR_UNKNOWN as well would send a person looking for a
 * missing anchor, so the field is "not checked", naming that finding. (The token endpoint still refuses
 * a forwarded chain whose anchor the proxy did not report with TRUST_ANCHOR_UNKNOWN: there is no chain
 * finding then.)
 */
function uncheckedPin(pinned: AnchorRef | null, chainFinding: ChainStatusCode): MappingDiagnosis['fields']['trust_anchor'] {
  return {
    status: 'not_checked',
    code: null,
    message: `The pin to the trust anchor ${pinned?.name ?? '(unknown)'}${envText(pinned)} could not be checked: the chain reached no trust anchor (${chainFinding}, above).`,
    hint: null,
    pinned,
    chain_anchor: null,
    blocked_by: chainFinding,
  };
}

export function diagnoseMapping(leaf: ParsedCertificate, mapping: DiagnosisClient['mappings'][number], ctx: ClientContext): MappingDiagnosis {
  const fields = compareMappingFields(leaf, mapping, { now: ctx.now, anchorSpki: ctx.anchorSpki });
  const pinned = pinnedAnchorOf(ctx.anchors, mapping);
  const unchecked = fields.trustAnchor?.code === 'TRUST_ANCHOR_UNKNOWN' && ctx.chainFinding ? uncheckedPin(pinned, ctx.chainFinding) : null;
  const trustAnchor = unchecked ? undefined : explainAnchor(fields.trustAnchor, pinned, ctx.chainAnchorRef);
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
    matches: !first && !unchecked,
    code: first?.code ?? null,
    message: first?.message ?? unchecked?.message ?? null,
    hint: first?.hint ?? null,
    fields: {
      identity: { ...fieldOf(identity), registered: mapping.value, certificate: certValues, closest },
      trust_anchor: unchecked ?? { ...fieldOf(trustAnchor, pinned ? 'match' : 'not_applicable'), pinned, chain_anchor: ctx.chainAnchorRef, blocked_by: null },
      validity: {
        ...fieldOf(fields.validity, mapping.notBefore || mapping.notAfter ? 'match' : 'not_applicable'),
        not_before: iso(mapping.notBefore),
        not_after: iso(mapping.notAfter),
      },
    },
  };
}
