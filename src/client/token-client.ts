import { randomUUID } from 'node:crypto';
import { type CryptoKey, decodeJwt, importJWK, importPKCS8, type JWK, type KeyObject, SignJWT } from 'jose';
import { Agent, type Dispatcher, FormData as UndiciFormData, Headers, type HeadersInit, type RequestInit, type Response, fetch as undiciFetch } from 'undici';
import { CertboundClientError, refOf } from './errors.js';
import { type Credentials, type LoadedCredentials, loadCredentials } from './lib/credentials.js';
import { type DiscoveredServer, discover } from './lib/discovery.js';
import { DEFAULT_RETRY, describeNetworkError, type RetryPolicy, sendWithRetries } from './lib/retry.js';
import { type CredentialWatcher, watchCredentialFiles } from './lib/watch.js';

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

interface CacheEntry {
  token: Token;
  renewAt: number;
  expiresAt: number;
}

const MAX_CACHED_TOKENS = 1000;
/** A token this close to expiry is not handed out even when the server cannot be reached. */
const STALE_MARGIN_MS = 5000;

function checkOptions(options: TokenClientOptions): void {
  let issuer: URL | undefined;
  try {
    issuer = new URL(options.issuer);
  } catch {}
  if (issuer?.protocol !== 'https:') throw new TypeError(`issuer must be an https URL, got ${JSON.stringify(options.issuer)}`);
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('clientId must be a non-empty string');
  const c = options.credentials as Record<string, unknown> | undefined;
  if (!c || !((typeof c.certFile === 'string' && typeof c.keyFile === 'string') || (c.cert !== undefined && c.key !== undefined))) {
    throw new TypeError('credentials must be { certFile, keyFile } (paths) or { cert, key } (PEM)');
  }
  const auth = options.auth ?? 'tls_client_auth';
  if (typeof auth === 'string' ? auth !== 'tls_client_auth' && auth !== 'self_signed_tls_client_auth' : !auth?.privateKeyJwt?.key) {
    throw new TypeError("auth must be 'tls_client_auth', 'self_signed_tls_client_auth' or { privateKeyJwt: { key, alg, kid } }");
  }
  if (typeof auth === 'object') {
    const { key, alg } = auth.privateKeyJwt;
    if (!(alg ?? (typeof key === 'object' && 'kty' in key ? (key as JWK).alg : undefined))) throw new TypeError('auth.privateKeyJwt.alg is required unless the key is a JWK with alg');
  }
  const skew = options.renewal?.skewSeconds;
  const jitter = options.renewal?.jitterSeconds;
  for (const [name, value] of [['renewal.skewSeconds', skew], ['renewal.jitterSeconds', jitter], ['timeoutMs', options.timeoutMs]] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new TypeError(`${name} must be a number ≥ 0, got ${String(value)}`);
  }
}

async function signingKeyOf(options: { key: string | JWK | CryptoKey | KeyObject; alg?: string; kid?: string }): Promise<{ key: CryptoKey | KeyObject | Uint8Array; alg: string; kid: string | undefined }> {
  const { key } = options;
  const jwk = typeof key === 'object' && 'kty' in key ? (key as JWK) : undefined;
  const alg = (options.alg ?? jwk?.alg)!;
  const kid = options.kid ?? jwk?.kid;
  if (typeof key === 'string') return { key: await importPKCS8(key, alg), alg, kid };
  if (jwk) return { key: await importJWK(jwk, alg), alg, kid };
  return { key: key as CryptoKey | KeyObject, alg, kid };
}

/** Waits for a shared request; one caller giving up does not cancel it for the others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function normalizeScopes(scope: GetTokenOptions['scope']): string[] {
  const list = typeof scope === 'string' ? scope.split(/\s+/) : [...(scope ?? [])];
  return [...new Set(list.filter(Boolean))].sort();
}

function isReplayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof UndiciFormData
  );
}

const REFUSAL_HINTS: Record<string, string> = {
  invalid_client:
    'The server did not accept this certificate for this client_id. On the authorization server, run `certbound doctor --cert <this certificate> --client-id <id>` to see why, or look up the ref in its log.',
  invalid_scope: 'Ask only for scopes the client is registered for on that resource (`certbound client show <id>` on the server lists them).',
  invalid_target: 'Ask for a resource the server knows and the client holds a scope on, or omit the resource to get the client’s default.',
  unauthorized_client: 'The client is not allowed the client_credentials grant; check its registration on the server.',
  invalid_request: 'The server rejected the request as malformed; its error_description says which parameter.',
};

/**
 * Creates a client for one client_id and certificate: discovery, mTLS token requests, a token cache with
 * renewal, and `fetch` to APIs with the same certificate (RFC 8705 §3: the token is bound to it).
 * Throws a `CertboundClientError` (`CERTIFICATE_UNREADABLE`, `KEY_MISMATCH`) at once when the
 * certificate or key is unusable, and a `TypeError` for options that are wrong in themselves.
 *
 * @example
 * import { createTokenClient } from 'certbound/client';
 * const client = createTokenClient({
 *   issuer: 'https://as.example.com',
 *   clientId: 'orders-worker',
 *   credentials: { certFile: '/etc/orders/client.pem', keyFile: '/etc/orders/client.key' },
 *   tls: { ca: readFileSync('/etc/orders/ca.pem', 'utf8') },
 * });
 * const res = await client.fetch('https://api.example.com/orders', { resource: 'https://api.example.com', scope: 'orders.read' });
 * await client.close();
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  checkOptions(options);
  const requireBound = options.requireBound ?? true;
  const skewMs = (options.renewal?.skewSeconds ?? 60) * 1000;
  const jitterMs = (options.renewal?.jitterSeconds ?? 30) * 1000;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const makeAgent = (c: LoadedCredentials) =>
    new Agent({ connect: { cert: c.certPem, key: c.keyPem, ...(options.tls?.ca ? { ca: options.tls.ca } : {}), ...(options.tls?.servername ? { servername: options.tls.servername } : {}) } });

  const assertionKey =
    typeof options.auth === 'object'
      ? signingKeyOf(options.auth.privateKeyJwt).catch((err: unknown) => {
          throw new CertboundClientError('SIGNING_KEY_UNREADABLE', `the private_key_jwt signing key cannot be used: ${(err as Error).message}`, {
            hint: 'Give the private key whose public key is registered for the client (PKCS#8 PEM or a private JWK) and its alg.',
            cause: err,
          });
        })
      : undefined;
  // Reported on the first token request, not as an unhandled rejection now.
  assertionKey?.catch(() => {});
  /** RFC 7523 §3: a client assertion, new for every attempt (a server refuses a replayed jti). */
  const clientAssertion = async (): Promise<Record<string, string>> => {
    if (!assertionKey) return {};
    const { key, alg, kid } = await assertionKey;
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
      .setIssuer(options.clientId)
      .setSubject(options.clientId)
      .setAudience(options.issuer)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
    return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt };
  };

  let current = loadCredentials(options.credentials);
  let agent = makeAgent(current);
  let closed = false;
  let discovery: Promise<DiscoveredServer> | undefined;
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<Token>>();
  const retiredAgents = new Set<Agent>();

  const assertOpen = () => {
    if (closed) throw new CertboundClientError('CLIENT_CLOSED', 'this certbound client was closed', { hint: 'Create a new client with createTokenClient(); close() is for shutdown.' });
  };

  const timeoutSignal = () => AbortSignal.timeout(timeoutMs);

  const discoverOnce = (): Promise<DiscoveredServer> => {
    discovery ??= discover(
      options.issuer,
      (url) => undiciFetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', dispatcher: agent, signal: timeoutSignal() }),
      retry,
    ).catch((err) => {
      discovery = undefined;
      throw err;
    });
    return discovery;
  };

  async function requestToken(creds: LoadedCredentials, via: Agent, resource: string | undefined, scopes: string[]): Promise<Token> {
    const server = await discoverOnce();
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: options.clientId });
    if (scopes.length) form.set('scope', scopes.join(' '));
    if (resource !== undefined) form.set('resource', resource);
    const endpoint = server.tokenEndpoint;
    const outcome = await sendWithRetries(
      async () =>
        undiciFetch(endpoint, {
          method: 'POST',
          body: new URLSearchParams({ ...Object.fromEntries(form), ...(await clientAssertion()) }).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          redirect: 'manual',
          dispatcher: via,
          signal: timeoutSignal(),
        }),
      retry,
    );
    if ('networkError' in outcome) {
      // The endpoint may have moved; the next request reads the metadata again.
      discovery = undefined;
      throw new CertboundClientError('TOKEN_ENDPOINT_UNAVAILABLE', `the token endpoint ${endpoint} could not be reached after ${outcome.attempts} attempt(s): ${describeNetworkError(outcome.networkError)}`, {
        hint: 'Check that the server is up and reachable from here and that tls.ca trusts its certificate; the next call tries again.',
        cause: outcome.networkError,
      });
    }
    const { response } = outcome;
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
      throw new CertboundClientError('TOKEN_ENDPOINT_UNAVAILABLE', `the token endpoint ${endpoint} failed after ${outcome.attempts} attempt(s): ${said}`, {
        ...refusal,
        hint: "A server-side failure; the server's log has the details under the ref. The next call tries again.",
      });
    }
    if (response.status >= 400) {
      throw new CertboundClientError('TOKEN_REFUSED', `the token endpoint ${endpoint} refused client ${options.clientId}: ${said}`, {
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
    if (expiresIn !== undefined && !(typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0)) throw invalid(`expires_in ${JSON.stringify(expiresIn)} is not a positive number`);
    let claims: Record<string, unknown> | undefined;
    if (accessToken.split('.').length === 3) {
      try {
        claims = decodeJwt(accessToken) as Record<string, unknown>;
      } catch {}
    }
    if (claims && requireBound) {
      const cnf = claims.cnf && typeof claims.cnf === 'object' ? (claims.cnf as Record<string, unknown>) : undefined;
      const bound = cnf?.['x5t#S256'];
      if (bound !== creds.thumbprint) {
        throw new CertboundClientError(
          'UNBOUND_TOKEN',
          bound === undefined
            ? `the token endpoint ${endpoint} issued an access token that is not bound to a certificate (no cnf.x5t#S256); it was not used`
            : `the token endpoint ${endpoint} issued an access token bound to another certificate (cnf.x5t#S256 ${JSON.stringify(bound)}, presented ${creds.thumbprint}); it was not used`,
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
      thumbprint: creds.thumbprint,
    };
  }

  function store(key: string, creds: LoadedCredentials, token: Token): void {
    if (creds !== current || token.expiresAt === undefined) return;
    const expiresAt = token.expiresAt.getTime();
    const lifetime = expiresAt - Date.now();
    const ahead = Math.min(skewMs + Math.random() * jitterMs, lifetime / 2);
    cache.delete(key);
    cache.set(key, { token, renewAt: expiresAt - ahead, expiresAt });
    if (cache.size > MAX_CACHED_TOKENS) cache.delete(cache.keys().next().value as string);
  }

  async function getToken(request: GetTokenOptions = {}): Promise<Token> {
    assertOpen();
    const scopes = normalizeScopes(request.scope);
    const creds = current;
    const key = JSON.stringify([creds.thumbprint, request.resource ?? null, scopes]);
    const cached = cache.get(key);
    if (cached && !request.forceRefresh && Date.now() < cached.renewAt) return cached.token;
    let flight = inflight.get(key);
    if (!flight) {
      flight = requestToken(creds, agent, request.resource, scopes)
        .then((token) => {
          store(key, creds, token);
          return token;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, flight);
    }
    try {
      return await abortable(flight, request.signal);
    } catch (err) {
      // A token being renewed early is still good while the server is unreachable.
      const stale = cache.get(key);
      const unreachable = err instanceof CertboundClientError && (err.code === 'TOKEN_ENDPOINT_UNAVAILABLE' || err.code === 'DISCOVERY_FAILED');
      if (stale && unreachable && Date.now() < stale.expiresAt - STALE_MARGIN_MS) return stale.token;
      throw err;
    }
  }

  function invalidate(accessToken?: string): void {
    for (const [key, entry] of cache) if (accessToken === undefined || entry.token.accessToken === accessToken) cache.delete(key);
  }

  async function clientFetch(input: string | URL, init: ClientFetchInit = {}): Promise<Response> {
    const { resource, scope, ...requestInit } = init;
    const send = (token: Token) => {
      const authorization = `Bearer ${token.accessToken}`;
      // A plain record when the caller sets no headers: the common case skips building a Headers object.
      if (requestInit.headers === undefined) return undiciFetch(input, { ...requestInit, headers: { authorization }, dispatcher: agent });
      const headers = new Headers(requestInit.headers as HeadersInit);
      headers.set('authorization', authorization);
      return undiciFetch(input, { ...requestInit, headers, dispatcher: agent });
    };
    const tokenOptions = { ...(resource === undefined ? {} : { resource }), ...(scope === undefined ? {} : { scope }) };
    const token = await getToken(tokenOptions);
    const response = await send(token);
    if (response.status !== 401) return response;
    const challenge = response.headers.get('www-authenticate') ?? '';
    if (!/\berror="?invalid_token"?/i.test(challenge) || !isReplayable(requestInit.body)) return response;
    await response.body?.cancel();
    invalidate(token.accessToken);
    return send(await getToken(tokenOptions));
  }

  function rotate(next: LoadedCredentials): void {
    if (closed || (next.certPem === current.certPem && next.keyPem === current.keyPem)) return;
    const previous = current;
    const previousAgent = agent;
    current = next;
    agent = makeAgent(next);
    // Requests already on the old connections finish; new ones use the new pair.
    retiredAgents.add(previousAgent);
    void previousAgent.close().finally(() => retiredAgents.delete(previousAgent));
    // The same leaf with another chain (an intermediate added) keeps its tokens.
    if (next.thumbprint === previous.thumbprint) return;
    for (const [key, entry] of cache) if (entry.token.thumbprint === previous.thumbprint) cache.delete(key);
    options.onRotation?.({ thumbprint: next.thumbprint, previousThumbprint: previous.thumbprint });
  }

  const watchOption = options.watch ?? true;
  let watcher: CredentialWatcher | undefined;
  if ('certFile' in options.credentials && watchOption !== false) {
    const credentials = options.credentials;
    watcher = watchCredentialFiles([credentials.certFile, credentials.keyFile], {
      pollIntervalMs: typeof watchOption === 'object' ? watchOption.pollIntervalMs : undefined,
      load: () => loadCredentials(credentials),
      isCurrent: (loaded) => loaded.certPem === current.certPem && loaded.keyPem === current.keyPem,
      onLoaded: rotate,
      onError: options.onRotationError ?? ((err) => process.emitWarning(err.explain(), { code: err.code })),
    });
  }

  return {
    getToken,
    fetch: clientFetch,
    get dispatcher() {
      return agent;
    },
    get thumbprint() {
      return current.thumbprint;
    },
    discover() {
      assertOpen();
      return discoverOnce();
    },
    invalidate,
    async close() {
      if (closed) return;
      closed = true;
      watcher?.close();
      cache.clear();
      await Promise.all([agent.close(), ...[...retiredAgents].map((a) => a.close())]);
    },
  };
}
