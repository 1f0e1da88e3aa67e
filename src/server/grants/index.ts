/**
 * The grants the token endpoint serves, one file each. A grant is added here and nowhere else: the
 * provider turns on its features and ttl entries, clients are registered with its type, discovery
 * publishes it, and its issuance events count tokens in the metrics.
 */
import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { refreshToken } from './refresh-token.js';
import type { GrantType } from '../../config/grant-types.js';
import type { Grant } from './grant.js';

export type { Grant, GrantContext, GrantError } from './grant.js';
export { createResourceAccess, type ResourceAccess, type ResourceServerInfo } from './resource-access.js';

export const GRANTS: readonly Grant[] = [clientCredentials, authorizationCode, refreshToken];

/** The `grant_types` of every client and discovery's grant_types_supported. */
export const GRANT_TYPES: readonly GrantType[] = GRANTS.map((g) => g.type);

/** The grant a client needs to get refresh tokens with its codes. */
export const REFRESH_GRANT_TYPE: GrantType = refreshToken.type;

/** The response types the authorization endpoint serves: those of the grants that start there. */
export const RESPONSE_TYPES: readonly string[] = [...new Set(GRANTS.flatMap((g) => g.responseTypes ?? []))];

/** The grants a client registered with `grantTypes` and authentication method `authMethod` is offered, in GRANTS order. */
export function grantTypesOf(grantTypes: readonly string[], authMethod: string): GrantType[] {
  return GRANTS.filter((g) => grantTypes.includes(g.type) && (authMethod !== 'none' || g.publicClients)).map((g) => g.type);
}

/** The response types a client with `grantTypes` registers. */
export function responseTypesOf(grantTypes: readonly string[]): string[] {
  return [...new Set(GRANTS.filter((g) => grantTypes.includes(g.type)).flatMap((g) => g.responseTypes ?? []))];
}

/** The grant of a token request's `grant_type`, if certbound serves it. */
export function grantOf(grantType: unknown): Grant | undefined {
  return GRANTS.find((g) => g.type === grantType);
}
