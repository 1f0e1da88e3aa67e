import { type CertificateMapping, isMappingValidAt, MAPPING_KIND_PARAMETER } from '../mapping/index.js';
import type { ClientRecord } from '../store/index.js';
import { grantTypesOf, responseTypesOf } from './grants/index.js';

/** Stored form of a mapping inside the client metadata (`certbound_mappings`). */
export interface StoredMapping {
  id: string;
  kind: CertificateMapping['kind'];
  value: string;
  canonical: string;
  anchorSpki: string | null;
  anchorName: string | null;
  notBefore: number | null;
  notAfter: number | null;
}

/** The mappings a client's metadata carries, in the matcher's form (the mTLS hooks read them so). */
export function toCertificateMappings(stored: readonly StoredMapping[]): CertificateMapping[] {
  return stored.map((m) => ({
    id: m.id,
    kind: m.kind,
    value: m.value,
    canonical: m.canonical,
    trustAnchorSpki: m.anchorSpki,
    trustAnchorName: m.anchorName,
    notBefore: m.notBefore === null ? null : new Date(m.notBefore),
    notAfter: m.notAfter === null ? null : new Date(m.notAfter),
  }));
}

/** The mapping whose value is published as the client's single RFC 8705 `tls_client_auth_*` value. */
function primaryMapping(record: ClientRecord, now: number) {
  const valid = record.mappings.filter((m) => isMappingValidAt(m, now));
  return valid.at(-1) ?? record.mappings.at(-1);
}

/**
 * Turns a stored client into RFC 7591 / RFC 8705 client metadata for oidc-provider. All of the
 * client's mappings travel in `certbound_mappings` so that the synchronous mTLS hook can match any of
 * them; the newest currently valid one is also published as the standard `tls_client_auth_*` value.
 */
export function toClientMetadata(record: ClientRecord, now = Date.now()): Record<string, unknown> {
  // The grants the client is registered for, among those served (a public client: those that allow one);
  // the response types they start with.
  const grantTypes = grantTypesOf(record.grantTypes, record.authMethod);
  const responseTypes = responseTypesOf(grantTypes);
  const metadata: Record<string, unknown> = {
    ...record.metadata,
    client_id: record.clientId,
    token_endpoint_auth_method: record.authMethod,
    grant_types: grantTypes,
    response_types: responseTypes,
    redirect_uris: responseTypes.length ? [...record.redirectUris] : [],
    // RFC 9126, per client: true unless an administrator registered the client without it.
    require_pushed_authorization_requests: record.requirePar,
    // Allowed scopes travel as extra metadata: oidc-provider's `scope` must be a subset of a static
    // provider-wide list, while certbound's scopes come from the resource servers in SQL.
    certbound_scopes: record.scopes,
    // A public client's certificate is proof of possession only: its tokens are always bound to it
    // (RFC 8705 §4, PUB-1/PUB-2), or a stolen token would be a bearer token.
    tls_client_certificate_bound_access_tokens: record.authMethod === 'none' ? true : record.boundTokens,
    certbound_default_resource: record.defaultResource ?? undefined,
  };
  if (record.authMethod === 'tls_client_auth') {
    const primary = primaryMapping(record, now);
    if (primary) metadata[MAPPING_KIND_PARAMETER[primary.kind]] = primary.value;
    metadata.certbound_mappings = record.mappings.map(
      (m): StoredMapping => ({
        id: m.id,
        kind: m.kind,
        value: m.value,
        canonical: m.canonical,
        anchorSpki: m.trustAnchorSpki,
        anchorName: m.trustAnchorName,
        notBefore: m.notBefore?.getTime() ?? null,
        notAfter: m.notAfter?.getTime() ?? null,
      }),
    );
  }
  if (record.jwks) metadata.jwks = record.jwks;
  if (record.jwksUri) metadata.certbound_jwks_uri = record.jwksUri;
  return metadata;
}
