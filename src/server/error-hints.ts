/**
 * Error descriptions a client developer can act on, for refusals whose wording comes from oidc-provider
 * or whose cause the client cannot see in its own request. RFC 6749 §5.2 limits error_description to
 * printable ASCII without double quotes or backslashes, so nothing here quotes with `"`.
 */
import type { MTLS_ALIASED_ENDPOINTS } from './provider.js';

type AliasedEndpoint = (typeof MTLS_ALIASED_ENDPOINTS)[number];

const ENDPOINT_OF_ROUTE: Readonly<Record<string, AliasedEndpoint>> = {
  token: 'token_endpoint',
  introspection: 'introspection_endpoint',
  revocation: 'revocation_endpoint',
};

/** oidc-provider's wording for a scope parameter that is not RFC 6749 §3.3 syntax. */
const SCOPE_SYNTAX_ERROR = 'scope contains invalid characters';

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
  return `this endpoint does not ask for a client certificate; send the request with the client certificate to ${aliases[endpoint]} (mtls_endpoint_aliases.${endpoint} in the discovery document)`;
}

/** Rewrites oidc-provider descriptions that say what is wrong but not what to send instead. */
export function clarifyScopeError(route: string | undefined, body: OAuthErrorBody): void {
  if (route === 'token' && body.error === 'invalid_scope' && body.error_description === SCOPE_SYNTAX_ERROR) {
    body.error_description =
      'scope must be one or more scope names separated by single spaces (RFC 6749 section 3.3), e.g. scope=orders.read; omit the parameter to get every scope the client holds on the resource';
  }
}
