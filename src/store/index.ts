export { type AuditEntry, listAudit, writeAudit } from './audit.js';
export { type AuthMethod, type ClientRecord, clients, type MappingKind, type MappingRecord } from './clients.js';
export { type Db, isPostgres, migrateLatest, migrateRollbackAll, openDatabase, pendingMigrations, toMs } from './knex.js';
export { type AdapterPayload, createOidcAdapter, type OidcAdapter, purgeExpiredPayloads } from './oidc-adapter.js';
export { type ResourceServer, resourceServers } from './resource-servers.js';
export { bumpRevision, type RevisionName, readRevisions } from './revisions.js';
export { type KeyStatus, type SigningKey, signingKeys } from './signing-keys.js';
export { type TrustAnchor, trustAnchors } from './trust-anchors.js';
