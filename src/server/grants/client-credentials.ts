/**
 * RFC 6749 §4.4 client_credentials: a client authenticated by its certificate (or a private_key_jwt
 * assertion) gets an access token for one resource server, bound to the certificate of the connection
 * (RFC 8705 §3).
 */
import type { Grant } from './grant.js';

export const clientCredentials: Grant = {
  type: 'client_credentials',
  publicClients: false,
  features: { clientCredentials: { enabled: true } },
  // JWT access tokens are `issued` (not stored); opaque ones are `saved` in the adapter.
  issuedEvents: [
    { event: 'client_credentials.issued', format: 'jwt' },
    { event: 'client_credentials.saved', format: 'opaque' },
  ],
  ttl: ({ config }) => ({
    ClientCredentials: (_ctx, token) => (token as unknown as { resourceServer?: { accessTokenTTL?: number } }).resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
  }),
  // No scope requested: every scope the client holds at the resource (there is no user to consent).
  resourceServerInfo: (ctx, rs, client, resourceIndicator, { access }) => access.tokenFor({ ctx, rs, client, resourceIndicator, defaultToHeldScopes: true }),
};
