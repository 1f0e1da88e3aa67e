/** The token endpoint's answer (RFC 6749 §5.1, §5.2) read into a bound token, or an error that says what to do. */
import { decodeJwt } from 'jose';
import type { Response } from 'undici';
import { CertboundClientError, refOf } from '../errors.js';
import type { Token } from '../types.js';

const REFUSAL_HINTS: Record<string, string> = {
  invalid_client:
    'The server did not accept this certificate for this client_id. On the authorization server, run `certbound doctor --cert <this certificate> --client-id <id>` to see why, or look up the ref in its log.',
  invalid_scope: 'Ask only for scopes the client is registered for on that resource (`certbound client show <id>` on the server lists them).',
  invalid_target: 'Ask for a resource the server knows and the client holds a scope on, or omit the resource to get the client’s default.',
  unauthorized_client: 'The client is not allowed the client_credentials grant; check its registration on the server.',
  invalid_request: 'The server rejected the request as malformed; its error_description says which parameter.',
};

export interface TokenRequest {
  endpoint: string;
  clientId: string;
  /** Refuse a JWT not bound to `thumbprint` (the `requireBound` option). */
  requireBound: boolean;
  /** `x5t#S256` of the certificate the request presented. */
  thumbprint: string;
  /** The requested scopes (the token's scope when the server does not say). */
  scopes: readonly string[];
  /** Attempts made (retries included), for the messages. */
  attempts: number;
}

export async function tokenFromResponse(response: Response, request: TokenRequest): Promise<Token> {
  const { endpoint, clientId, requireBound, thumbprint, scopes, attempts } = request;
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {}
  const oauthError = typeof body.error === 'string' ? body.error : undefined;
  const errorDescription = typeof body.error_description === 'string' ? body.error_description : undefined;
  const refusal = { httpStatus: response.status, oauthError, errorDescription, ref: refOf(errorDescription) };
  const said = oauthError ? `${oauthError}${errorDescription ? `: ${errorDescription}` : ''}` : `HTTP ${response.status}`;
  if (response.status >= 500) {
    throw new CertboundClientError('TOKEN_ENDPOINT_UNAVAILABLE', `the token endpoint ${endpoint} failed after ${attempts} attempt(s): ${said}`, {
      ...refusal,
      hint: "A server-side failure; the server's log has the details under the ref. The next call tries again.",
    });
  }
  if (response.status >= 400) {
    throw new CertboundClientError('TOKEN_REFUSED', `the token endpoint ${endpoint} refused client ${clientId}: ${said}`, {
      ...refusal,
      hint: (oauthError && REFUSAL_HINTS[oauthError]) ?? "Read the error description; the server's log has the details under the ref.",
    });
  }
  const invalid = (why: string) =>
    new CertboundClientError('INVALID_TOKEN_RESPONSE', `the token endpoint ${endpoint} answered HTTP ${response.status} without a usable token: ${why}`, {
      httpStatus: response.status,
      hint: 'The server is not answering as an OAuth 2.0 token endpoint (RFC 6749 §5.1); check the issuer URL and the server.',
    });
  if (response.status !== 200) throw invalid('expected 200');
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') throw invalid('no access_token');
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') throw invalid(`token_type ${JSON.stringify(body.token_type)} is not Bearer`);
  const expiresIn = body.expires_in;
  if (expiresIn !== undefined && !(typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0))
    throw invalid(`expires_in ${JSON.stringify(expiresIn)} is not a positive number`);
  let claims: Record<string, unknown> | undefined;
  if (accessToken.split('.').length === 3) {
    try {
      claims = decodeJwt(accessToken) as Record<string, unknown>;
    } catch {}
  }
  if (claims && requireBound) {
    const cnf = claims.cnf && typeof claims.cnf === 'object' ? (claims.cnf as Record<string, unknown>) : undefined;
    const bound = cnf?.['x5t#S256'];
    if (bound !== thumbprint) {
      throw new CertboundClientError(
        'UNBOUND_TOKEN',
        bound === undefined
          ? `the token endpoint ${endpoint} issued an access token that is not bound to a certificate (no cnf.x5t#S256); it was not used`
          : `the token endpoint ${endpoint} issued an access token bound to another certificate (cnf.x5t#S256 ${JSON.stringify(bound)}, presented ${thumbprint}); it was not used`,
        {
          httpStatus: response.status,
          hint:
            bound === undefined
              ? 'Register the client for certificate-bound tokens (tls_client_certificate_bound_access_tokens; `certbound client update <id> --bound-tokens on`), or pass requireBound: false to accept bearer tokens knowingly.'
              : 'The server bound the token to a certificate other than the one this client presented (a proxy in between presenting its own?); fix the path to the token endpoint.',
        },
      );
    }
  }
  const now = Date.now();
  const exp = typeof expiresIn === 'number' ? now + expiresIn * 1000 : typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined;
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresAt: exp === undefined ? undefined : new Date(exp),
    scope: typeof body.scope === 'string' ? body.scope : scopes.length ? scopes.join(' ') : undefined,
    thumbprint,
  };
}
