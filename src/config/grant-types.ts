/**
 * The OAuth grant types certbound serves, named once: client registration (src/app) records them in a
 * client's `grant_types`, and the server's grants enable and publish them. A new grant is a new entry
 * here plus its grant module in the server, not a condition in either.
 */
export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

export type GrantType = (typeof GRANT_TYPES)[number];

/** The grant types a client registered by an administrator may use (RFC 7591 `grant_types`). */
export const CLIENT_GRANT_TYPES: readonly GrantType[] = GRANT_TYPES;

/** The grant types of a client registered without any named: the service-to-service grant. */
export const DEFAULT_CLIENT_GRANT_TYPES: readonly GrantType[] = ['client_credentials'];
