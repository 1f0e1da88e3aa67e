/**
 * Who can sign in to the admin API, by the rules of its authentication (http/auth.ts) that depend on the
 * client's registration alone. The authenticator applies them to every request; the guard that keeps an
 * administrator (service.ts) counts only clients they let in, so that a client with the admin scope that
 * could never sign in does not stand in for the last one that can.
 */
import { isMappingValidAt } from '../mapping/index.js';
import type { ClientRecord } from '../store/index.js';

export type AdminCandidate = Pick<ClientRecord, 'clientId' | 'authMethod' | 'boundTokens' | 'scopes' | 'jwks' | 'jwksUri' | 'mappings'> & Partial<Pick<ClientRecord, 'grantTypes'>>;

/**
 * Why `client` cannot sign in to the admin API with one of `scopes` at `now` (ms), or undefined when its
 * registration lets it (a certificate that still authenticates it is checked per request besides).
 *
 * @example
 * adminSignInRefusal(client, ['certbound:admin'], Date.now());
 * // 'client ops does not get certificate-bound tokens (bound_tokens is off); the admin API accepts only those'
 */
export function adminSignInRefusal(client: AdminCandidate, scopes: readonly string[], now: number): string | undefined {
  const id = client.clientId;
  if (!scopes.some((s) => client.scopes.includes(s))) return `client ${id} is not allowed ${scopes.join(' or ')}`;
  // The admin API takes certificate-bound tokens only (RFC 8705 §3); without the setting the token has no cnf.
  // Admin tokens come from the client_credentials grant; a client registered without it never gets one.
  if (client.grantTypes && !client.grantTypes.includes('client_credentials')) return `client ${id} may not use the client_credentials grant, which admin tokens are issued by`;
  if (!client.boundTokens) return `client ${id} does not get certificate-bound tokens (bound_tokens is off); the admin API accepts only those`;
  switch (client.authMethod) {
    case 'tls_client_auth':
      return client.mappings.some((m) => isMappingValidAt(m, now)) ? undefined : `client ${id} has no certificate mapping valid now`;
    case 'self_signed_tls_client_auth':
      // A published set (jwks_uri) is not fetched here: it counts as holding a certificate.
      return client.jwksUri || client.jwks?.keys.some((k) => Array.isArray(k.x5c) && k.x5c.length > 0) ? undefined : `client ${id} has no registered certificate`;
    case 'private_key_jwt':
      return client.jwksUri || client.jwks?.keys.length ? undefined : `client ${id} has no registered assertion key`;
    default:
      return `client ${id} uses an authentication method the admin API does not know`;
  }
}
