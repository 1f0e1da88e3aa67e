/**
 * The admin API's serializers, one per entity, used by every route and by the CLI's `--json` output.
 * Apart from the schemas (schemas.ts), which they are typed by: building the zod schemas takes longer
 * than a listing, and `certbound client list` needs only these.
 */
import type { z } from 'zod';
import type { AuditEntry, ClientRecord, MappingRecord, ResourceServer, SigningKey, TrustAnchor } from '../store/index.js';
import type { RefreshTokenView, RegistrationTokenView, UpstreamView, UserConsent } from '../app/service.js';
import type { ConsentSchema, RefreshTokenSchema, UpstreamSchema } from './authorization-schemas.js';
import type { RegistrationTokenSchema } from './registration-schemas.js';
import type { AuditEntrySchema, ClientSchema, MappingSchema, ResourceServerSchema, SigningKeySchema, TrustAnchorSchema } from './schemas.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function mappingJson(m: MappingRecord): z.output<typeof MappingSchema> {
  return {
    id: m.id,
    kind: m.kind,
    value: m.value,
    canonical: m.canonical,
    trust_anchor: m.trustAnchorName,
    trust_anchor_environment: m.trustAnchorEnvironment,
    not_before: iso(m.notBefore),
    not_after: iso(m.notAfter),
    created_at: m.createdAt.toISOString(),
  };
}

export function clientJson(c: ClientRecord): z.output<typeof ClientSchema> {
  return {
    client_id: c.clientId,
    token_endpoint_auth_method: c.authMethod,
    tls_client_certificate_bound_access_tokens: c.boundTokens,
    scope: c.scopes.join(' '),
    default_resource: c.defaultResource,
    mappings: c.mappings.map(mappingJson),
    jwks: c.jwks,
    jwks_uri: c.jwksUri,
    grant_types: c.grantTypes,
    redirect_uris: c.redirectUris,
    require_pushed_authorization_requests: c.requirePar,
    registration: c.registration,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function trustAnchorJson(a: TrustAnchor): z.output<typeof TrustAnchorSchema> {
  return {
    name: a.name,
    subject: a.subject,
    environment: a.environment,
    allow_missing_eku: a.allowMissingEku,
    spki_sha256: a.spkiSha256,
    'x5t#S256': a.x5tS256,
    not_after: a.notAfter.toISOString(),
    created_at: a.createdAt.toISOString(),
    pem: a.pem,
  };
}

export function resourceServerJson(r: ResourceServer): z.output<typeof ResourceServerSchema> {
  return {
    identifier: r.identifier,
    scope: r.scopes.join(' '),
    token_format: r.tokenFormat,
    ttl: r.ttl,
    introspection_clients: r.introspectionClients,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

export function signingKeyJson(k: Omit<SigningKey, 'privateJwk'>): z.output<typeof SigningKeySchema> {
  return { kid: k.kid, alg: k.alg, status: k.status, public_jwk: k.publicJwk as Record<string, unknown>, created_at: k.createdAt.toISOString(), retired_at: iso(k.retiredAt) };
}

export function auditJson(e: AuditEntry): z.output<typeof AuditEntrySchema> {
  return { id: e.id, at: e.at.toISOString(), actor: e.actor, action: e.action, target: e.target, before: e.before, after: e.after };
}

/** An initial access token as the admin API and `certbound registration-token … --json` show it (never the token itself). */
export function registrationTokenJson(t: RegistrationTokenView): z.output<typeof RegistrationTokenSchema> {
  return {
    id: t.id,
    expires_at: t.expiresAt.toISOString(),
    max_uses: t.maxUses,
    uses: t.uses,
    scope: t.scopes.join(' '),
    resources: t.resources,
    environments: t.environments,
    approval: t.approval,
    created_by: t.createdBy,
    created_at: t.createdAt.toISOString(),
    revoked_at: t.revokedAt?.toISOString() ?? null,
  };
}

/** The upstream provider as the admin API and `certbound upstream show --json` show it (never the secret or the key). */
export function upstreamJson(u: UpstreamView): z.output<typeof UpstreamSchema> {
  return {
    issuer: u.issuer,
    client_id: u.clientId,
    token_endpoint_auth_method: u.authMethod,
    client_secret_set: u.clientSecretSet,
    private_key: u.privateKey ? { jwk_thumbprint: u.privateKey.thumbprint, kid: u.privateKey.kid, kty: u.privateKey.kty, alg: u.privateKey.alg } : null,
    scope: u.scopes.join(' '),
    subject_claim: u.subjectClaim,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

export function consentJson(c: UserConsent): z.output<typeof ConsentSchema> {
  return {
    client_id: c.clientId,
    user: c.accountId,
    scope: c.scopes.join(' '),
    resources: c.resources,
    granted_at: c.grantedAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/** A refresh token by its handle (never the token itself). */
export function refreshTokenJson(t: RefreshTokenView): z.output<typeof RefreshTokenSchema> {
  return {
    handle: t.handle,
    client_id: t.clientId,
    user: t.accountId,
    'x5t#S256': t.x5tS256,
    scope: t.scopes.join(' '),
    issued_at: iso(t.issuedAt),
    expires_at: iso(t.expiresAt),
    consumed: t.consumed,
  };
}
