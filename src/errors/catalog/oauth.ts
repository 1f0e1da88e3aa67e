/**
 * The RFC 6749 §5.2 `error` values the token, introspection and revocation endpoints answer with, and
 * the descriptions certbound writes where oidc-provider's wording says what is wrong but not what to do.
 * RFC 6749 §5.2 limits error_description to printable ASCII without double quotes or backslashes, so
 * nothing here quotes with `"`.
 */
import type { CatalogEntry } from './entry.js';

function oauth(status: number, meaning: string, hint: string): CatalogEntry {
  return { status, surfaces: ['oauth'], meaning, hint };
}

export const OAUTH_ERRORS = {
  invalid_client: oauth(
    401,
    'client authentication failed: no certificate, a certificate that does not authenticate the client, an unknown client, a refused client assertion; the log line with the `ref` says why (the refusal reasons below)',
    'Look up the ref in the server log, or run certbound doctor --cert FILE --client-id ID.',
  ),
  invalid_grant: oauth(
    400,
    'a `private_key_jwt` client registered for bound tokens sent no certificate',
    'Send the token request over mTLS with the certificate the token should be bound to.',
  ),
  invalid_scope: oauth(
    400,
    'a scope the client does not hold or the resource does not offer, or `scope` not in RFC 6749 §3.3 syntax (docs/token-policy.md)',
    'Ask for scopes the client holds on the resource, separated by single spaces, or omit scope to get all of them.',
  ),
  invalid_target: oauth(
    400,
    'an unregistered resource, several resources, or no scope the client holds on the resource',
    'Name one registered resource (RFC 8707) on which the client holds a scope.',
  ),
  invalid_request: oauth(
    400,
    'a malformed request, parameters in the URL query instead of the form body, a forwarded-certificate header refused (`ERR_FORWARDED_*`), or a registration request on the main listener (404, naming the mTLS alias)',
    'POST the parameters as an application/x-www-form-urlencoded body; the description says what is wrong.',
  ),
  unsupported_token_type: oauth(
    400,
    'revocation of a JWT access token (only opaque tokens can be revoked)',
    'Let a JWT access token expire; issue opaque tokens to resources that need revocation.',
  ),
  temporarily_unavailable: oauth(
    503,
    'the database does not answer, or `CERTBOUND_MAX_PENDING_REQUESTS` is reached; `Retry-After` is set (docs/reliability.md)',
    'Retry after the Retry-After delay.',
  ),
  invalid_client_metadata: oauth(
    400,
    'the registration endpoint (RFC 7591 §3.2.2) refused a metadata member, or the certificate does not prove the requested subject; the description starts with the member',
    'Fix the named member; the ERR_REGISTRATION_* codes below say more.',
  ),
  invalid_token: oauth(
    401,
    'the registration endpoint: the initial access token or the registration access token is not valid (RFC 6750 §3.1)',
    'Use a current initial access token, or the registration_access_token over mTLS with the registered certificate.',
  ),
  unapproved_software_statement: oauth(
    400,
    'the registration endpoint: a software statement from an issuer no administrator trusts (RFC 7591 §3.2.2)',
    'Ask the administrator to trust the issuer, or register with an initial access token.',
  ),
  invalid_software_statement: oauth(
    400,
    'the registration endpoint: a software statement that does not verify or has expired (RFC 7591 §3.2.2)',
    'Send a current statement signed by its issuer.',
  ),
  server_error: oauth(500, 'anything else; the log line carries the `ref` the description names', 'Look up the ref in the server log.'),
} as const satisfies Record<string, CatalogEntry>;

export type OAuthErrorCode = keyof typeof OAUTH_ERRORS;

/** oidc-provider's wording for a scope parameter that is not RFC 6749 §3.3 syntax. */
export const OIDC_PROVIDER_SCOPE_SYNTAX_ERROR = 'scope contains invalid characters';

/** What certbound answers instead of {@link OIDC_PROVIDER_SCOPE_SYNTAX_ERROR} at the token endpoint. */
export const SCOPE_SYNTAX_DESCRIPTION =
  'scope must be one or more scope names separated by single spaces (RFC 6749 section 3.3), e.g. scope=orders.read; omit the parameter to get every scope the client holds on the resource';

/**
 * Added to the description when a client reached an endpoint on the main listener (which asks for no
 * client certificate) without a certificate: where to send the request instead.
 */
export function mtlsAliasDescription(endpoint: string, url: string): string {
  return `this endpoint does not ask for a client certificate; send the request with the client certificate to ${url} (mtls_endpoint_aliases.${endpoint} in the discovery document)`;
}

/**
 * The description of a registration request (RFC 7591/7592) sent to the main listener, which does not
 * serve registration: where it is served. `url` is the registration endpoint's mTLS alias, or for a
 * registration client URI the same URI on the mTLS listener.
 */
export function registrationAliasDescription(url: string, clientUri: boolean): string {
  return `dynamic client registration is not served on this listener, which does not ask for a client certificate; send the request with the client certificate to ${url} (${clientUri ? 'the registration_client_uri of the registration response' : 'mtls_endpoint_aliases.registration_endpoint in the discovery document'})`;
}
