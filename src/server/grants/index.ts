/**
 * The grants the token endpoint serves, one file each. A grant is added here and nowhere else: the
 * provider turns on its features and ttl entries, clients are registered with its type, discovery
 * publishes it, and its issuance events count tokens in the metrics.
 */
import { clientCredentials } from './client-credentials.js';
import type { GrantType } from '../../config/grant-types.js';
import type { Grant } from './grant.js';

export type { Grant, GrantContext } from './grant.js';
export { createResourceAccess, type ResourceAccess, type ResourceServerInfo } from './resource-access.js';

export const GRANTS: readonly Grant[] = [clientCredentials];

/** The `grant_types` of every client and discovery's grant_types_supported. */
export const GRANT_TYPES: readonly GrantType[] = GRANTS.map((g) => g.type);

/** The grant of a token request's `grant_type`, if certbound serves it. */
export function grantOf(grantType: unknown): Grant | undefined {
  return GRANTS.find((g) => g.type === grantType);
}
