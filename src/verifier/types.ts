/** The public types of `certbound/verifier`: its options, what a verification yields, the verifier itself. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import type { Middleware } from 'koa';
import type { ForwardedCertificateOptions } from '../forwarded/extract.js';
import type { VerifierError } from './errors.js';
import type { VerifiableRequest } from './lib/bearer.js';
import type { TlsOptions } from './lib/http.js';

export type { VerifiableRequest } from './lib/bearer.js';
export type { TlsOptions } from './lib/http.js';

/** Where the client certificate of a request comes from. */
export type CertificateSource =
  /** The TLS handshake of this very connection (`requestCert: true` on the listener). Default. */
  | { from: 'tls' }
  /** A header set by a trusted TLS-terminating proxy (see `src/forwarded`); only from `trustedProxies`. */
  | ({ from: 'forwarded' } & ForwardedCertificateOptions)
  /** Your own strategy; return the DER of the certificate the client proved possession of. */
  | { from: 'custom'; get: (req: VerifiableRequest) => Buffer | undefined };

/** How the verifier authenticates at the RFC 7662 introspection endpoint (opaque tokens). */
export type IntrospectionOptions = {
  clientId: string;
  /** Longest an active result is reused, ms (never beyond the token's `exp`). Default 300 000. */
  cacheMaxAge?: number;
  /** How long an inactive result is remembered, ms. Default 10 000. */
  inactiveCacheMaxAge?: number;
} & (
  | {
      /** mTLS client authentication (`tls_client_auth`/`self_signed_tls_client_auth`); the mTLS alias is used. */ tls: TlsOptions & {
        cert: string | Buffer;
        key: string | Buffer;
      };
    }
  | { /** `client_secret_basic`. */ clientSecret: string }
);

export interface VerifierOptions {
  /** The authorization server's issuer identifier, exactly as in its metadata and tokens (`iss`). */
  issuer: string;
  /** This resource server's identifier(s); the token's `aud` must contain one. */
  audience: string | string[];
  /** Refuse tokens without `cnf` (§3.3 row 8). Default `true`. */
  requireBoundTokens?: boolean;
  /** Scopes every request needs (per-call scopes in `verify`/`koa`/`express` replace them). */
  requiredScopes?: string[];
  /** JWS algorithms accepted. Default `['ES256', 'PS256', 'RS256', 'EdDSA']`; symmetric and `none` are refused. */
  algorithms?: string[];
  /** Clock skew tolerated for `exp`/`nbf`/`iat`, seconds. Default 30 (J-22). */
  clockTolerance?: number;
  /** Longest accepted `Authorization` header, characters. Default 8192 (J-21). */
  maxAuthorizationLength?: number;
  /** JWKS location; default: `jwks_uri` from the issuer's metadata. */
  jwksUri?: string;
  /**
   * The issuer's public keys given directly instead of fetched from `jwksUri`/discovery: a JWK Set, or a
   * function returning the current one (called on every request, so a rotation is seen as soon as the
   * function returns the new set: a token verified under the old set, cached or not, is verified again).
   * For a resource server running in the authorization server's own process (certbound's admin API) and
   * for offline setups. Excludes `jwksUri`.
   */
  keySet?: JSONWebKeySet | (() => JSONWebKeySet);
  /** Introspection endpoint; default: from the issuer's metadata (the mTLS alias when introspecting with mTLS). */
  introspectionEndpoint?: string;
  /** Enables the opaque-token path (RFC 7662). Without it only JWT access tokens are accepted. */
  introspection?: IntrospectionOptions;
  /** Where the client certificate comes from. Default `{ from: 'tls' }`. */
  certificate?: CertificateSource;
  /** TLS settings for metadata, JWKS and introspection requests (e.g. `ca` for a private CA). */
  tls?: TlsOptions;
  /** `realm` of the `WWW-Authenticate` challenge. Default: the (first) audience. */
  realm?: string;
  /**
   * Verified-token cache; `false` disables it. Default `{ maxEntries: 1000, maxAge: 300000 }`. A JWT
   * enters the cache the second time it is seen (its first check only marks it), so tokens used once never
   * churn the cache. A cached JWT is verified again (signature included) when the key set changed (a
   * `keySet` function returned another set, or the JWKS was fetched again) and at the latest `maxAge` ms
   * after it was cached, so a key removed from the issuer's JWKS stops working within `maxAge` plus the
   * JWKS cache age (`jwks.cacheMaxAge`), even for tokens in use all along.
   */
  tokenCache?: { maxEntries?: number; maxAge?: number } | false;
  /** jose remote JWKS tuning (ms): refetch cooldown for an unknown `kid` (default 30 000), cache max age (default 600 000). */
  jwks?: { cooldownDuration?: number; cacheMaxAge?: number };
  /** Timeout for each request to the authorization server, ms. Default 5000. */
  timeout?: number;
  /** Clock in ms (tests); default `Date.now`. */
  now?: () => number;
  /** Called with every refusal (the place to log the internal reason, `err.message`). */
  onReject?: (error: VerifierError, req: VerifiableRequest) => void;
}

/** What a successful verification yields (koa: `ctx.state.auth`, express: `req.auth`). */
export interface VerifiedRequest {
  /** The JWT claims, or the introspection response members. */
  claims: JWTPayload & Record<string, unknown>;
  clientId: string | undefined;
  scopes: string[];
  /** The `x5t#S256` the token is bound to (equal to the presented certificate's); undefined for an unbound token. */
  thumbprint: string | undefined;
}

export interface VerifyCallOptions {
  /** Scopes this request needs; replaces `requiredScopes`. */
  scopes?: string[];
  /** A body parsed by a framework, only inspected for a second `access_token`. */
  body?: unknown;
}

export interface Verifier {
  /** Verifies one request; resolves to the verified token or rejects with a {@link VerifierError}. */
  verify(req: VerifiableRequest, options?: VerifyCallOptions): Promise<VerifiedRequest>;
  /** Koa middleware: sets `ctx.state.auth`, answers refusals itself (status, `WWW-Authenticate`, JSON, `no-store`). */
  koa(options?: { scopes?: string[] }): Middleware;
  /** Express/connect middleware `(req, res, next)`: sets `req.auth`, answers refusals itself. */
  express(options?: { scopes?: string[] }): (req: IncomingMessage & { auth?: VerifiedRequest; body?: unknown }, res: ServerResponse, next: (err?: unknown) => void) => void;
  /** Closes the HTTP connection pools to the authorization server. */
  close(): Promise<void>;
}
