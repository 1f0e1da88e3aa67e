/** The diagnosis document (`diagnosis_version` 1) and the inputs `diagnoseCertificate` takes. */
import type { CertificateMapping } from '../mapping/index.js';
import type { CrlStalePolicy, RevocationMode, VerifiedCrl } from '../pki/index.js';
import type { ChainCertificate, ChainStatusCode, DiagnosisAnchor } from './chain.js';
import type { DiagnosisCode } from './reasons.js';

/** A registered client as the diagnosis needs it (store ClientRecord rows fit this shape). */
export interface DiagnosisClient {
  clientId: string;
  /** `none`: a public client, whose certificate is proof of possession only (nothing to diagnose against). */
  authMethod: 'tls_client_auth' | 'self_signed_tls_client_auth' | 'private_key_jwt' | 'none';
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
  /**
   * Mappings of other clients whose values are near the certificate's (a store's indexed neighbours):
   * without a client id, the nearest are named as near misses. Mappings of `clients` are considered too.
   */
  nearby?: readonly NearbyMapping[] | undefined;
  /** With a client id: compare with that client's mappings, field by field. */
  clientId?: string | undefined;
  now: Date;
  /** Verified CRLs and the stale policy; omitted: revocation is not checked (as with no CRL configured). */
  revocation?: { crls: readonly VerifiedCrl[]; stalePolicy: CrlStalePolicy } | undefined;
}

/** A registered mapping with the client it belongs to (store MappingRecord rows fit this shape). */
export type NearbyMapping = DiagnosisClient['mappings'][number] & { clientId: string };

/**
 * A registered client the certificate nearly authenticates as, through one of its mappings:
 * - `same_value`: the mapping holds the certificate's value, but another field differs (pinned to
 *   another trust anchor or environment, outside its validity window);
 * - `reversed_dn`: the subject DN registered in reverse RDN order;
 * - `cn_as_san`: a SAN registered with the value of the certificate's subject CN;
 * - `similar_value`: a value of the same kind a few edits away (`distance`).
 */
export interface NearMiss {
  client_id: string;
  similarity: 'same_value' | 'reversed_dn' | 'cn_as_san' | 'similar_value';
  /** Edits between the registered value and the closest certificate value (case-folded where matching folds case). */
  distance: number | null;
  /** The fields that differ, in the token endpoint's order. */
  differs: ('validity' | 'identity' | 'trust_anchor')[];
  /** The mapping compared field by field, as with a client id. */
  mapping: MappingDiagnosis;
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
  /**
   * not_applicable: the mapping does not constrain this field; not_checked: it does, but a
   * certificate-level finding (`blocked_by`) kept it from being checked, and that finding is the reason.
   */
  status: 'match' | 'mismatch' | 'not_applicable' | 'not_checked';
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
    trust_anchor: FieldResult & {
      pinned: AnchorRef | null;
      chain_anchor: AnchorRef | null;
      /** With status not_checked: the chain finding that left the pin unchecked (its code is the diagnosis's, not this field's). */
      blocked_by: ChainStatusCode | null;
    };
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
  /**
   * Without a client id, when the certificate authenticates as no client for no certificate-level
   * reason (NO_MATCHING_CLIENT): the nearest registered clients, nearest first, at most a few.
   */
  near_misses: NearMiss[];
}
