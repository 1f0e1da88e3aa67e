/**
 * `createTokenClient`: one client_id and certificate, composed of discovery (lib/discovery.ts), token
 * requests with retries (lib/retry.ts) read by lib/token-response.ts, a token cache with renewal, `fetch`
 * with the same certificate, and the rotation of watched credential files (lib/watch.ts).
 */
import { Agent, FormData as UndiciFormData, Headers, type HeadersInit, type RequestInit, type Response, fetch as undiciFetch } from 'undici';
import { CertboundClientError } from './errors.js';
import { createClientAssertion } from './lib/client-assertion.js';
import { type LoadedCredentials, loadCredentials } from './lib/credentials.js';
import { type DiscoveredServer, discover } from './lib/discovery.js';
import { checkOptions } from './lib/options.js';
import { DEFAULT_RETRY, describeNetworkError, sendWithRetries } from './lib/retry.js';
import { tokenFromResponse } from './lib/token-response.js';
import { type CredentialWatcher, watchCredentialFiles } from './lib/watch.js';
import type { ClientFetchInit, GetTokenOptions, Token, TokenClient, TokenClientOptions } from './types.js';

export type { ClientAuthentication, ClientFetchInit, ClientTlsOptions, GetTokenOptions, Token, TokenClient, TokenClientOptions } from './types.js';

interface CacheEntry {
  token: Token;
  renewAt: number;
  expiresAt: number;
}

const MAX_CACHED_TOKENS = 1000;
/** A token this close to expiry is not handed out even when the server cannot be reached. */
const STALE_MARGIN_MS = 5000;

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
    new Agent({
      connect: { cert: c.certPem, key: c.keyPem, ...(options.tls?.ca ? { ca: options.tls.ca } : {}), ...(options.tls?.servername ? { servername: options.tls.servername } : {}) },
    });

  const clientAssertion = createClientAssertion(options.auth, options.clientId, options.issuer);

  let current = loadCredentials(options.credentials);
  let agent = makeAgent(current);
  let closed = false;
  let discovery: Promise<DiscoveredServer> | undefined;
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<Token>>();
  const retiredAgents = new Set<Agent>();

  const assertOpen = () => {
    if (closed)
      throw new CertboundClientError('CLIENT_CLOSED', 'this certbound client was closed', { hint: 'Create a new client with createTokenClient(); close() is for shutdown.' });
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

  async function requestToken(creds: LoadedCredentials, via: Agent, resource: string | undefined, scopes: readonly string[]): Promise<Token> {
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
      throw new CertboundClientError(
        'TOKEN_ENDPOINT_UNAVAILABLE',
        `the token endpoint ${endpoint} could not be reached after ${outcome.attempts} attempt(s): ${describeNetworkError(outcome.networkError)}`,
        {
          hint: 'Check that the server is up and reachable from here and that tls.ca trusts its certificate; the next call tries again.',
          cause: outcome.networkError,
        },
      );
    }
    return tokenFromResponse(outcome.response, {
      endpoint,
      clientId: options.clientId,
      requireBound,
      thumbprint: creds.thumbprint,
      scopes,
      attempts: outcome.attempts,
    });
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

  /**
   * The normalized scopes of a `scope` string, remembered: `fetch` asks for the same few strings on every
   * request, and splitting, de-duplicating and sorting them each time is most of a cache hit's cost.
   */
  const scopeLists = new Map<string, readonly string[]>();
  function scopesOf(scope: GetTokenOptions['scope']): readonly string[] {
    if (typeof scope !== 'string') return normalizeScopes(scope);
    let scopes = scopeLists.get(scope);
    if (scopes === undefined) {
      scopes = Object.freeze(normalizeScopes(scope));
      if (scopeLists.size >= 256) scopeLists.clear();
      scopeLists.set(scope, scopes);
    }
    return scopes;
  }
  const keyOf = (thumbprint: string, resource: string | undefined, scopes: readonly string[]) => JSON.stringify([thumbprint, resource ?? null, scopes]);

  /** The cached token for this request while it needs no renewal (synchronous: `fetch`'s common case), else undefined. */
  function cachedToken(resource: string | undefined, scope: GetTokenOptions['scope']): Token | undefined {
    if (closed) return undefined;
    const cached = cache.get(keyOf(current.thumbprint, resource, scopesOf(scope)));
    return cached && Date.now() < cached.renewAt ? cached.token : undefined;
  }

  async function getToken(request: GetTokenOptions = {}): Promise<Token> {
    assertOpen();
    const scopes = scopesOf(request.scope);
    const creds = current;
    const key = keyOf(creds.thumbprint, request.resource, scopes);
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
    const tokenOptions = () => ({ ...(resource === undefined ? {} : { resource }), ...(scope === undefined ? {} : { scope }) });
    const token = cachedToken(resource, scope) ?? (await getToken(tokenOptions()));
    const response = await send(token);
    if (response.status !== 401) return response;
    const challenge = response.headers.get('www-authenticate') ?? '';
    if (!/\berror="?invalid_token"?/i.test(challenge) || !isReplayable(requestInit.body)) return response;
    await response.body?.cancel();
    invalidate(token.accessToken);
    return send(await getToken(tokenOptions()));
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
