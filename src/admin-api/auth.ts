/**
 * Admin authentication: the admin API is a resource server of this very authorization server. A request
 * carries a certificate-bound JWT access token issued by this server for the admin resource, and the
 * certificate presented on the same TLS connection must be the one the token is bound to
 * (`certbound/verifier`, RFC 8705 §3). The keys come from the server's own key set (no discovery).
 */
import type { IncomingMessage } from 'node:http';
import type { ClientRecord } from '../store/index.js';
import type { JSONWebKeySet } from 'jose';
import { createVerifier, peerCertificateDer, type Verifier, VerifierError } from '../verifier/index.js';
import { adminSignInRefusal } from '../app/administrators.js';
import type { Access, AdminPrincipal } from './router.js';

import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from './scopes.js';

export { ADMIN_READ_SCOPE, ADMIN_SCOPE, ADMIN_SCOPES } from './scopes.js';

export interface AdminAuthenticatorOptions {
  issuer: string;
  /** The admin resource identifier: the `aud` of admin tokens. */
  audience: string;
  /** The authorization server's current public keys (read per new token, so rotation is seen). */
  keySet: () => JSONWebKeySet;
  /** The client a token names, as registered now (undefined: it no longer exists). */
  findClient: (clientId: string) => Promise<ClientRecord | undefined>;
  /** DER of the client certificate of a request; default: this connection's TLS handshake. */
  certificateOf?: (req: IncomingMessage) => Buffer | undefined;
  /** Refusals with their internal reason (never sent to the caller). */
  onReject?: (error: VerifierError, req: IncomingMessage) => void;
  /**
   * Whether the request's certificate still authenticates the client as registered now (a current
   * mapping and a trusted, unrevoked chain; a registered or published self-signed certificate): the
   * reason when it does not. Without it, only the token's binding is checked.
   */
  certificateStillAuthenticates?: (req: IncomingMessage, client: ClientRecord) => string | undefined;
  /** Name of the trust anchor the request's certificate chains to, if any (so that an administrator cannot remove its own). */
  certificateTrustAnchor?: (req: IncomingMessage) => string | undefined;
}

export interface AdminAuthenticator {
  /** Resolves to the administrator or rejects with a {@link VerifierError} (401/403, with its challenge). */
  authenticate(req: IncomingMessage, access: Exclude<Access, 'public'>): Promise<AdminPrincipal>;
  close(): Promise<void>;
}

/**
 * @example
 * const auth = createAdminAuthenticator({ issuer, audience: `${issuer}/admin`, keySet: () => jwks, service });
 * const admin = await auth.authenticate(req, 'write'); // admin.actor === 'admin:ops:3q2+…'
 */
export function createAdminAuthenticator(options: AdminAuthenticatorOptions): AdminAuthenticator {
  const certificateOf = options.certificateOf ?? peerCertificateDer;
  const verifier: Verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    keySet: options.keySet,
    requireBoundTokens: true,
    certificate: { from: 'custom', get: (req) => certificateOf(req as IncomingMessage) },
    realm: options.audience,
    // Every admin call verifies the signature against the current key set: a retired key's tokens stop
    // working at once instead of living on in the cache until they expire. Admin traffic is light.
    tokenCache: false,
    onReject: options.onReject as ((error: VerifierError, req: unknown) => void) | undefined,
  });

  const refuse = (req: IncomingMessage, code: 'ERR_VERIFIER_TOKEN_INVALID' | 'ERR_VERIFIER_INSUFFICIENT_SCOPE', detail: string, scope?: string): never => {
    const err =
      code === 'ERR_VERIFIER_INSUFFICIENT_SCOPE'
        ? new VerifierError(code, { status: 403, error: 'insufficient_scope', description: 'token lacks a required scope', realm: options.audience, scope, detail })
        : new VerifierError(code, { status: 401, error: 'invalid_token', description: 'token is not valid for administration', realm: options.audience, detail });
    options.onReject?.(err, req);
    throw err;
  };

  return {
    async authenticate(req, access) {
      const verified = await verifier.verify(req, { scopes: [] });
      const clientId = verified.clientId;
      // requireBoundTokens: a verified token always has a thumbprint; checked again so the actor is never partial.
      if (!clientId || !verified.thumbprint) return refuse(req, 'ERR_VERIFIER_TOKEN_INVALID', 'token without client_id or cnf');
      const accepted = access === 'write' ? [ADMIN_SCOPE] : [ADMIN_SCOPE, ADMIN_READ_SCOPE];
      if (!verified.scopes.some((s) => accepted.includes(s))) {
        return refuse(req, 'ERR_VERIFIER_INSUFFICIENT_SCOPE', `needs ${accepted.join(' or ')}, token has "${verified.scopes.join(' ')}"`, accepted[0]);
      }
      // A JWT outlives a removed client or a withdrawn scope; administration must not.
      const client = await options.findClient(clientId);
      if (!client) return refuse(req, 'ERR_VERIFIER_TOKEN_INVALID', `client ${clientId} no longer exists`);
      // As registered now (scope, bound tokens, a mapping or key): the same rules as the guard that keeps an administrator.
      const unregistered = adminSignInRefusal(
        client,
        verified.scopes.filter((s) => accepted.includes(s)),
        Date.now(),
      );
      if (unregistered) return refuse(req, 'ERR_VERIFIER_TOKEN_INVALID', unregistered);
      // Nor a certificate taken out of service (its mapping removed or ended, its chain revoked): the
      // token is bound to it, so it must still authenticate the client as the token endpoint would.
      const outOfService = options.certificateStillAuthenticates?.(req, client);
      if (outOfService) return refuse(req, 'ERR_VERIFIER_TOKEN_INVALID', `the certificate no longer authenticates ${clientId}: ${outOfService}`);
      const trustAnchor = options.certificateTrustAnchor?.(req);
      return {
        clientId,
        thumbprint: verified.thumbprint,
        scopes: verified.scopes,
        actor: `admin:${clientId}:${verified.thumbprint}`,
        ...(trustAnchor === undefined ? {} : { trustAnchor }),
      };
    },
    close: () => verifier.close(),
  };
}
