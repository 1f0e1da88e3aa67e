/**
 * RFC 6749 §4.1 authorization code, with what certbound requires of it: PKCE with S256 (RFC 7636),
 * pushed authorization requests (RFC 9126) unless the client is registered without them, exact
 * redirect URIs, `iss` in the response (RFC 9207), single-use codes whose replay revokes the tokens
 * issued from them (oidc-provider's revokeByGrantId). The end user signs in at the upstream provider
 * (interactions/); the token endpoint binds the access token to the certificate of its connection
 * (RFC 8705 §3), and the refresh token too for a public client (§4, refresh-token.ts).
 */
import type { Grant } from './grant.js';

/** Seconds an authorization code lives (RFC 6749 §4.1.2 recommends at most 10 minutes). */
export const AUTHORIZATION_CODE_TTL_S = 60;
/** Seconds an end user has to sign in and consent. */
export const INTERACTION_TTL_S = 600;
/** Seconds a browser stays signed in at certbound (a later authorization skips the upstream sign-in). */
export const SESSION_TTL_S = 3600;

export const authorizationCode: Grant = {
  type: 'authorization_code',
  publicClients: true,
  responseTypes: ['code'],
  features: {
    // RFC 9126: on the mTLS listener too (mtls_endpoint_aliases), required per client
    // (require_pushed_authorization_requests, true unless an administrator registered the client without).
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false, allowUnregisteredRedirectUris: false },
  },
  // Access tokens from a code (and from its refresh tokens): JWT ones are `issued`, opaque ones `saved`.
  issuedEvents: [
    { event: 'access_token.issued', format: 'jwt' },
    { event: 'access_token.saved', format: 'opaque' },
  ],
  ttl: ({ config }) => ({
    AuthorizationCode: AUTHORIZATION_CODE_TTL_S,
    // The end user's sign-in and consent (interactions/), and the browser session that saves signing in again.
    Interaction: INTERACTION_TTL_S,
    Session: SESSION_TTL_S,
    AccessToken: (_ctx, token) => (token as unknown as { resourceServer?: { accessTokenTTL?: number } }).resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
  }),
  // The scopes are the code's (what the user consented to at the authorization endpoint); the client must
  // still hold them now (an administrator may have taken one away since).
  resourceServerInfo: (ctx, rs, client, resourceIndicator, { access }) => access.tokenFor({ ctx, rs, client, resourceIndicator, defaultToHeldScopes: false, heldOnly: true }),
};
