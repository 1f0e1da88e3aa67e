/**
 * Error descriptions a client developer can act on, for refusals whose wording comes from oidc-provider
 * or whose cause the client cannot see in its own request. The wording is in the error catalog
 * (src/errors/catalog/oauth.ts); this module decides when it applies.
 */
import { mtlsAliasDescription, OIDC_PROVIDER_SCOPE_SYNTAX_ERROR, registrationAliasDescription, SCOPE_SYNTAX_DESCRIPTION } from '../errors/catalog/oauth.js';
import type { MTLS_ALIASED_ENDPOINTS } from './provider.js';

type AliasedEndpoint = (typeof MTLS_ALIASED_ENDPOINTS)[number];

const ENDPOINT_OF_ROUTE: Readonly<Record<string, AliasedEndpoint>> = {
  token: 'token_endpoint',
  introspection: 'introspection_endpoint',
  revocation: 'revocation_endpoint',
  pushed_authorization_request: 'pushed_authorization_request_endpoint',
};

export interface OAuthErrorBody {
  error?: string;
  error_description?: string;
}

/**
 * Where a client that reached an endpoint on the main listener (which asks for no client certificate)
 * has to go instead: the endpoint's mTLS alias, by URL, when the request failed for want of a
 * certificate. Clients that ignore `mtls_endpoint_aliases` all land on the main listener.
 */
export function mtlsAliasHint(route: string | undefined, aliases: Readonly<Record<AliasedEndpoint, string>>): string | undefined {
  const endpoint = route === undefined ? undefined : ENDPOINT_OF_ROUTE[route];
  if (!endpoint) return undefined;
  return mtlsAliasDescription(endpoint, aliases[endpoint]);
}

/**
 * Where a registration request that reached the main listener has to go: `path` (the registration
 * endpoint or a registration client URI) on the mTLS listener, whose registration endpoint is
 * `registrationUrl`. The main listener asks for no certificate, and registration needs one.
 */
export function registrationAliasHint(path: string, registrationPath: string, registrationUrl: string): string {
  const clientUri = path !== registrationPath;
  return registrationAliasDescription(clientUri ? `${registrationUrl}${path.slice(registrationPath.length)}` : registrationUrl, clientUri);
}

/** Rewrites oidc-provider descriptions that say what is wrong but not what to send instead. */
export function clarifyScopeError(route: string | undefined, body: OAuthErrorBody): void {
  if (route === 'token' && body.error === 'invalid_scope' && body.error_description === OIDC_PROVIDER_SCOPE_SYNTAX_ERROR) {
    body.error_description = SCOPE_SYNTAX_DESCRIPTION;
  }
}
