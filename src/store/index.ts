export { type AuditEntry, type AuditFilter, listAudit, writeAudit } from './audit.js';
export { type AuthMethod, CLIENT_ASSERTION_ALGS, type ClientRecord, type ClientRegistrationState, clients, type MappingKind, type MappingRecord } from './clients.js';
// knex itself is imported from './knex.js' by those who open or migrate a database (the CLI, the
// composition root, tests): importing this index loads no knex (docs/decisions/001-knex-off-the-hot-path.md, sql.ts).
export type { Db } from './knex.js';
export { type Dialect, type Queryable, type Sql, sqlOf, toMs } from './sql.js';
export {
  type AdapterPayload,
  AlreadyConsumedError,
  createOidcAdapter,
  insertIfAbsent,
  type OidcAdapter,
  type OidcAdapterOptions,
  purgeExpiredPayloads,
  removeClientTokens,
  revokeGrant,
} from './oidc-adapter.js';
export { ensureResourceServerScopes, type ResourceServer, resourceServers } from './resource-servers.js';
export { bumpRevision, createRevisionReader, type RevisionName, type RevisionReader, readRevisions } from './revisions.js';
export { type KeyStatus, type SigningKey, signingKeys } from './signing-keys.js';
export { isStorableKey } from './keys.js';
export { type TrustAnchor, trustAnchors } from './trust-anchors.js';
export { type CrlRecord, crls } from './crls.js';
export { type LastSeenCertificate, lastSeen, listLastSeen, SELF_SIGNED_MAPPING_KEY } from './last-seen.js';
export {
  type ApprovalMode,
  type InitialAccessToken,
  initialAccessTokens,
  PENDING_MEMBER,
  type RegistrationLimits,
  type RegistrationRecord,
  type RegistrationStatus,
  registrations,
  type SoftwareIssuer,
  softwareIssuers,
} from './registrations.js';
export {
  consents,
  DEFAULT_UPSTREAM,
  type RefreshTokenRecord,
  refreshTokens,
  type UpstreamAuthMethod,
  type UpstreamProvider,
  upstreamProviders,
  type UserConsent,
} from './authorization.js';
