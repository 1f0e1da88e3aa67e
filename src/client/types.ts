/** The public types of `certbound/client`: its options, the token it hands out, the client itself. */
import type { CryptoKey, JWK, KeyObject } from 'jose';
import type { Dispatcher, RequestInit, Response } from 'undici';
import type { CertboundClientError } from './errors.js';
import type { Credentials } from './lib/credentials.js';
import type { DiscoveredServer } from './lib/discovery.js';
import type { RetryPolicy } from './lib/retry.js';

/** TLS settings shared by the token endpoint and the APIs the client calls. */
export interface ClientTlsOptions {
  /** Trust anchors (PEM) for the servers' certificates when they are private; default: Node's bundled roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** SNI and certificate name to expect, when it differs from the URL's host. */
  servername?: string;
}

/**
 * How the client authenticates at the token endpoint. `tls_client_auth` and `self_signed_tls_client_auth`
 * send the same request (the certificate in the handshake authenticates); `privateKeyJwt` adds a signed
 * client assertion (RFC 7523, audience: the issuer), and the token is still bound to the certificate.
 */
export type ClientAuthentication =
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | {
      privateKeyJwt: {
        /** The signing key: a PKCS#8 PEM, a private JWK, a CryptoKey or a KeyObject. */
        key: string | JWK | CryptoKey | KeyObject;
        /** JWS algorithm, e.g. ES256 or RS256 (default: the JWK's `alg`). */
        alg?: string;
        /** Key id sent in the header, so the server picks the right registered key. */
        kid?: string;
      };
    };

export interface TokenClientOptions {
  /** The authorization server's issuer identifier, exactly as it publishes it (https). */
  issuer: string;
  clientId: string;
  /** Default `tls_client_auth`. */
  auth?: ClientAuthentication;
  /** The client certificate (leaf first, then intermediates) and its key, as files or PEM text. */
  credentials: Credentials;
  tls?: ClientTlsOptions;
  /**
   * Refuse JWT access tokens whose `cnf.x5t#S256` is not the presented certificate's thumbprint.
   * Default true. Opaque tokens cannot be checked by the client and are accepted either way.
   */
  requireBound?: boolean;
  /** Renew a cached token this long before it expires: `skewSeconds` plus a random part up to `jitterSeconds` (defaults 60 and 30), at most half its lifetime. */
  renewal?: { skewSeconds?: number; jitterSeconds?: number };
  /** Retries of network errors and 5xx answers (discovery and token requests). */
  retry?: RetryPolicy;
  /** Timeout of each HTTP request to the authorization server. Default 30000 ms. */
  timeoutMs?: number;
  /**
   * With `certFile`/`keyFile`: watch them and switch to a new pair when both load and match (default
   * true). `pollIntervalMs` (default 2000) is the fallback for file systems where watching misses changes.
   */
  watch?: boolean | { pollIntervalMs?: number };
  /** A rotated pair is in use (new connections present it; tokens bound to the old one were dropped). */
  onRotation?: (event: { thumbprint: string; previousThumbprint: string }) => void;
  /**
   * Changed files that do not load or do not match (e.g. a rotation half written); the old pair stays in
   * use. Called once per distinct reason. Default: `process.emitWarning`.
   */
  onRotationError?: (error: CertboundClientError) => void;
}

export interface GetTokenOptions {
  /** RFC 8707 resource indicator (the token's audience); omitted: the client's default at the server. */
  resource?: string;
  /** Scopes, as a space-separated string or a list; the cache key uses them sorted. */
  scope?: string | readonly string[];
  /** Skip the cache and ask the server (the new token replaces the cached one). */
  forceRefresh?: boolean;
  /** Stop waiting; a request shared with other callers goes on for them. */
  signal?: AbortSignal;
}

/** A certificate-bound access token. */
export interface Token {
  accessToken: string;
  tokenType: 'Bearer';
  /** From `expires_in` (or a JWT's `exp`); undefined when the server gave no lifetime (then nothing is cached). */
  expiresAt: Date | undefined;
  /** The granted scope as the server reported it, else the requested one. */
  scope: string | undefined;
  /** `x5t#S256` of the certificate presented when the token was obtained. */
  thumbprint: string;
}

export type ClientFetchInit = RequestInit & Pick<GetTokenOptions, 'resource' | 'scope'>;

export interface TokenClient {
  /**
   * A bound token for `resource` and `scope`: from the cache while it is not due for renewal, else from
   * the token endpoint over mTLS (concurrent callers for the same key share one request).
   *
   * @example
   * const { accessToken, thumbprint } = await client.getToken({ resource: 'https://api.example.com', scope: 'orders.read' });
   */
  getToken(options?: GetTokenOptions): Promise<Token>;
  /**
   * undici's `fetch` presenting the client certificate, with `Authorization: Bearer` for `init.resource`
   * and `init.scope`. A 401 with `error="invalid_token"` drops the token and retries once with a fresh one
   * when the body can be sent again (none, string, URLSearchParams, bytes, Blob, FormData).
   * A `dispatcher` in `init` is replaced by the client's.
   *
   * @example
   * const res = await client.fetch('https://api.example.com/orders', {
   *   method: 'POST',
   *   body: JSON.stringify({ item: 42 }),
   *   headers: { 'content-type': 'application/json' },
   *   resource: 'https://api.example.com',
   *   scope: 'orders.write',
   * });
   */
  fetch(input: string | URL, init?: ClientFetchInit): Promise<Response>;
  /** The undici Agent presenting the current client certificate, for your own requests. Changes on rotation. */
  readonly dispatcher: Dispatcher;
  /** `x5t#S256` of the certificate in use. */
  readonly thumbprint: string;
  /** The authorization server's metadata (discovered once; again after a failure). */
  discover(): Promise<DiscoveredServer>;
  /** Drops cached tokens: all, or those equal to `accessToken`. */
  invalidate(accessToken?: string): void;
  /** Stops watching the files and closes the connections; the client cannot be used afterwards. */
  close(): Promise<void>;
}
