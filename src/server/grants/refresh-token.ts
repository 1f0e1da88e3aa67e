/**
 * RFC 6749 §6 refresh token, for refresh tokens issued with an authorization code. Rotated on every use
 * (the used one is consumed; presenting it again revokes the grant). Binding (RFC 8705 §4, checklist
 * PUB-3, IC-8): a public client's refresh token is bound to the certificate it was issued over and a
 * refresh with another certificate, or none, is refused with `invalid_grant`; a confidential client
 * authenticates again on every refresh, so its refresh token follows its current certificate (a client
 * that rotated its certificate refreshes with the new one). The thumbprint is stored with every refresh
 * token (the `x5t_s256` column) either way; provider.ts keeps the confidential rule.
 */
import { randomUUID } from 'node:crypto';
import type { Grant } from './grant.js';

/** Seconds a refresh token lives (each refresh rotates it and starts again). */
export const REFRESH_TOKEN_TTL_S = 14 * 24 * 3600;

/** oidc-provider's `error_detail` for a refresh token presented without, or with another, certificate. */
const NO_CERTIFICATE = 'mutual TLS client certificate not provided';
const OTHER_CERTIFICATE = 'failed x5t#S256 verification';

export const refreshToken: Grant = {
  type: 'refresh_token',
  publicClients: true,
  features: {},
  // The access tokens of a refresh are counted with the code's (authorization-code.ts): same events.
  issuedEvents: [],
  ttl: () => ({ RefreshToken: REFRESH_TOKEN_TTL_S, Grant: REFRESH_TOKEN_TTL_S }),
  resourceServerInfo: (ctx, rs, client, resourceIndicator, { access }) => access.tokenFor({ ctx, rs, client, resourceIndicator, defaultToHeldScopes: false, heldOnly: true }),
  explainRefusal(ctx, err, thumbprint) {
    if (err.error !== 'invalid_grant' || (err.error_detail !== NO_CERTIFICATE && err.error_detail !== OTHER_CERTIFICATE)) return undefined;
    const clientId = ctx.oidc?.client?.clientId;
    const missing = err.error_detail === NO_CERTIFICATE;
    return {
      code: missing ? 'REFRESH_CERT_NOT_PRESENTED' : 'REFRESH_CERT_MISMATCH',
      message: missing
        ? `The refresh token of ${clientId} is bound to a certificate (RFC 8705 §4) and the request presented none; refresh at the mTLS endpoint (mtls_endpoint_aliases) with the certificate the token was issued over.`
        : `The refresh token of ${clientId} is bound to another certificate (RFC 8705 §4): a public client refreshes with the certificate the token was issued over; with a new certificate it starts a new authorization.`,
      ref: randomUUID().slice(0, 8),
      clientId,
      thumbprint,
      publicDescription: true,
      binding: true,
    };
  },
};
