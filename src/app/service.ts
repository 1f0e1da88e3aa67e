/**
 * The administrative use cases over one database, assembled: what the CLI, the admin API and the
 * server's start-up call. Each kind of record has its module (clients.ts, mappings.ts,
 * trust-anchors.ts, resource-servers.ts, signing-keys.ts, audit.ts, registration-tokens.ts,
 * software-issuers.ts, the administrator's side of registrations.ts, and for the authorization code
 * flow upstream.ts, consents.ts and refresh-tokens.ts); every write there validates first,
 * then runs in one transaction together with its audit row, so a refused request changes nothing.
 */
import type { SigningAlgorithm } from '../config/index.js';
import type { Db } from '../store/index.js';
import { createAuditUseCases } from './audit.js';
import { createRegistrationTokenUseCases } from './registration-tokens.js';
import { createRegistrationApprovalUseCases } from './registrations.js';
import { createSoftwareIssuerUseCases } from './software-issuers.js';
import type { ClientKeyOptions } from './client-keys.js';
import { createClientUseCases } from './clients.js';
import { createMappingUseCases } from './mappings.js';
import { createResourceServerUseCases } from './resource-servers.js';
import { createSigningKeyUseCases } from './signing-keys.js';
import { createTrustAnchorUseCases } from './trust-anchors.js';
import { createConsoleViews } from './console-views.js';
import { createConsentUseCases } from './consents.js';
import { createRefreshTokenUseCases } from './refresh-tokens.js';
import { createUpstreamUseCases } from './upstream.js';

export type { AuditEntry } from '../store/index.js';
export type { AddClientInput, UpdateClientInput } from './clients.js';
export type { CreateRegistrationTokenInput, RegistrationTokenView } from './registration-tokens.js';
export type { AddSoftwareIssuerInput } from './software-issuers.js';
export type { SoftwareIssuer } from '../store/index.js';
export type { MappingInput } from './mappings.js';
export { MAPPING_KINDS } from '../mapping/kinds.js';
export { CLIENT_ID_PATTERN, NAME_PATTERN, SCOPE_TOKEN_PATTERN } from './patterns.js';
export type { AddResourceServerInput } from './resource-servers.js';
export type { AddTrustAnchorInput } from './trust-anchors.js';
export type { SetUpstreamInput, UpstreamView } from './upstream.js';
export type { ConsentFilter } from './consents.js';
export type { RefreshTokenFilter, RefreshTokenView } from './refresh-tokens.js';
export type { UserConsent } from '../store/index.js';

export interface AdminServiceOptions extends ClientKeyOptions {
  db: Db;
  keyEncryptionKey?: Buffer | undefined;
  signingAlg: SigningAlgorithm;
  /** Fetches the upstream provider's discovery document for `setUpstream(…, { check })`; default the global fetch. */
  upstreamFetch?: typeof fetch | undefined;
}

/**
 * Creates the administrative use cases over a database.
 *
 * @example
 * const admin = createAdminService({ db, signingAlg: 'ES256' });
 * await admin.addTrustAnchor({ name: 'corp-root', pem }, 'cli:alice');
 * await admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'cli:alice');
 * await admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' },
 *   scopes: ['read'], defaultResource: 'https://api.example.com' }, 'cli:alice');
 */
export function createAdminService({ db, keyEncryptionKey, signingAlg, outboundCaFile, jwksUriAllowedRanges, onJwksUriFailure, upstreamFetch }: AdminServiceOptions) {
  return {
    ...createTrustAnchorUseCases({ db }),
    ...createResourceServerUseCases({ db }),
    ...createClientUseCases({ db, outboundCaFile, jwksUriAllowedRanges, onJwksUriFailure }),
    ...createMappingUseCases({ db }),
    ...createSigningKeyUseCases({ db, keyEncryptionKey, signingAlg }),
    ...createAuditUseCases({ db }),
    ...createConsoleViews({ db }),
    ...createRegistrationTokenUseCases({ db }),
    ...createRegistrationApprovalUseCases({ db }),
    ...createSoftwareIssuerUseCases({ db, outboundCaFile, jwksUriAllowedRanges, onJwksUriFailure }),
    ...createUpstreamUseCases({ db, fetch: upstreamFetch, keyEncryptionKey }),
    ...createConsentUseCases({ db }),
    ...createRefreshTokenUseCases({ db }),
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
