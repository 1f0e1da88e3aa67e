import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Middleware } from 'koa';
import { createForwardedCertificateExtractor, type ForwardedCertificateOptions } from '../forwarded/extract.js';
import { ForwardedCertificateError } from '../forwarded/errors.js';
import { isWellFormedX5tS256, sameWellFormedThumbprints, x5tS256 } from '../pki/thumbprint.js';
import { type BearerError, VerifierError, type VerifierErrorCode } from './errors.js';
import { extractBearer, type VerifiableRequest } from './lib/bearer.js';
import { createFetcher, readJsonObject, type TlsOptions } from './lib/http.js';
import { joseFailure } from './lib/jose-errors.js';
import { TokenCache } from './lib/token-cache.js';
import { discoverMetadata, type IssuerMetadata } from './lib/metadata.js';
import { type PeerCertificate, peerCertificateOf } from './lib/peer-certificate.js';

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
  | { /** mTLS client authentication (`tls_client_auth`/`self_signed_tls_client_auth`); the mTLS alias is used. */ tls: TlsOptions & { cert: string | Buffer; key: string | Buffer } }
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

interface TokenFacts {
  claims: JWTPayload & Record<string, unknown>;
  /** `exp` in seconds, when the token has one. */
  exp: number | undefined;
  /** JWTs: the generation of the issuer's key set the signature was checked under (see keyGeneration). */
  keyGeneration?: number;
}

/** A verified token and what follows from its claims alone, worked out once and reused while it is cached. */
interface CachedToken extends TokenFacts {
  /** The `cnf` decision: the thumbprint the certificate must have (undefined: unbound and allowed), or the refusal. */
  binding: { expected: string | undefined } | { refuse: () => VerifierError };
  /** The granted scopes (frozen: shared by every request with this token). */
  scopes: readonly string[];
}

const DEFAULT_ALGORITHMS = ['ES256', 'PS256', 'RS256', 'EdDSA'];
const ASYMMETRIC = /^(?:RS|PS|ES)(?:256|384|512)$|^ES256K$|^EdDSA$|^Ed25519$|^ML-DSA-(?:44|65|87)$/;
const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'sub', 'client_id', 'jti'];
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether a base64url segment is the one canonical spelling of its bytes: jose decodes a final character
 * whose unused low bits are set to the same bytes, so without this check every token would have other
 * spellings that verify (a token is matched, cached and replay-checked as a string).
 */
function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const unusedBits = rest === 2 ? 0b1111 : 0b11;
  return (BASE64URL.indexOf(segment[segment.length - 1]!) & unusedBits) === 0;
}

function checkHttpsUrl(value: unknown, option: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`${option} must be an absolute URL`);
  }
  if (typeof value !== 'string' || url.protocol !== 'https:') throw new TypeError(`${option} must be an https URL`);
  return value;
}

function checkIssuer(issuer: unknown): string {
  const value = checkHttpsUrl(issuer, 'issuer');
  const url = new URL(value);
  if (url.search || url.hash) throw new TypeError('issuer must not have a query or fragment (RFC 8414 §2)');
  return value;
}

function checkAudience(audience: unknown): string | string[] {
  const list = Array.isArray(audience) ? audience : [audience];
  if (list.length === 0 || list.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError('audience must be a non-empty string or array of strings');
  }
  return Array.isArray(audience) ? [...(audience as string[])] : (audience as string);
}

function checkAlgorithms(algorithms: unknown): string[] {
  const list = algorithms === undefined ? DEFAULT_ALGORITHMS : algorithms;
  if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== 'string' || !ASYMMETRIC.test(a))) {
    throw new TypeError('algorithms must be a non-empty list of asymmetric JWS algorithms (no HS*, no none)');
  }
  return [...list];
}

function checkNonNegative(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${option} must be a non-negative number`);
  return value;
}

function checkScopes(scopes: unknown, option: string): string[] {
  if (scopes === undefined) return [];
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new TypeError(`${option} must be an array of RFC 6749 scope tokens`);
  }
  return [...scopes];
}

function checkIntrospection(introspection: IntrospectionOptions | undefined): IntrospectionOptions | undefined {
  if (introspection === undefined) return undefined;
  if (typeof introspection.clientId !== 'string' || !introspection.clientId) throw new TypeError('introspection.clientId is required');
  const hasTls = 'tls' in introspection && introspection.tls !== undefined;
  const hasSecret = 'clientSecret' in introspection && introspection.clientSecret !== undefined;
  if (hasTls === hasSecret) throw new TypeError('introspection needs exactly one of tls (mTLS) or clientSecret');
  if (hasTls && (!introspection.tls.cert || !introspection.tls.key)) throw new TypeError('introspection.tls needs cert and key');
  checkNonNegative(introspection.cacheMaxAge, 0, 'introspection.cacheMaxAge');
  checkNonNegative(introspection.inactiveCacheMaxAge, 0, 'introspection.inactiveCacheMaxAge');
  return introspection;
}

function withThumbprint(der: Buffer | undefined): PeerCertificate | undefined {
  return der ? { der, x5t: x5tS256(der) } : undefined;
}

function checkCertificateSource(source: CertificateSource | undefined): (req: VerifiableRequest) => PeerCertificate | undefined {
  if (source === undefined || source.from === 'tls') return peerCertificateOf;
  if (source.from === 'forwarded') {
    const { from: _from, ...options } = source;
    const extract = createForwardedCertificateExtractor(options);
    return (req) => withThumbprint(extract(req as Parameters<typeof extract>[0])?.der);
  }
  if (source.from === 'custom' && typeof source.get === 'function') {
    const get = source.get;
    return (req) => withThumbprint(get(req));
  }
  throw new TypeError("certificate.from must be 'tls', 'forwarded' or 'custom' (with get)");
}

/**
 * A given key set (or key-set function) as a jose key resolver, rebuilt only when the set object changes;
 * `onChange` runs then (a `keySet` function returned another object).
 */
function checkKeySet(keySet: VerifierOptions['keySet'], jwksUri: string | undefined, onChange: () => void): (() => ReturnType<typeof createLocalJWKSet>) | undefined {
  if (keySet === undefined) return undefined;
  if (jwksUri !== undefined) throw new TypeError('keySet and jwksUri are exclusive: give the keys or where to fetch them');
  const read = typeof keySet === 'function' ? keySet : () => keySet;
  if (typeof keySet !== 'function' && (!keySet || !Array.isArray(keySet.keys))) throw new TypeError('keySet must be a JWK Set ({ keys: [...] }) or a function returning one');
  let last: JSONWebKeySet | undefined;
  let resolver: ReturnType<typeof createLocalJWKSet> | undefined;
  return () => {
    const current = read();
    if (current !== last || !resolver) {
      resolver = createLocalJWKSet(current);
      if (last !== undefined) onChange();
      last = current;
    }
    return resolver;
  };
}

/** Memoizes an async value; a failure is remembered for `retryAfterMs` so a down AS is not hammered. */
function memoize<T>(load: () => Promise<T>, now: () => number, retryAfterMs: number): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let failedAt = 0;
  return () => {
    if (pending && failedAt && now() - failedAt >= retryAfterMs) pending = undefined;
    if (!pending) {
      failedAt = 0;
      pending = load();
      pending.catch(() => {
        failedAt = now();
      });
    }
    return pending;
  };
}

function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope !== 'string') return [];
  const scopes = claims.scope.split(' ');
  return scopes.includes('') ? scopes.filter(Boolean) : scopes;
}

/**
 * Creates a resource-server verifier for certificate-bound access tokens (RFC 8705) issued by one
 * authorization server: JWT access tokens (RFC 9068) checked locally with the issuer's JWKS, opaque
 * tokens through RFC 7662 introspection, and the `cnf.x5t#S256` binding checked against the client
 * certificate of every request. Options are validated here, once (`TypeError` on a mistake).
 *
 * @example
 * import { createVerifier } from 'certbound/verifier';
 * const verifier = createVerifier({
 *   issuer: 'https://as.example.com',
 *   audience: 'https://api.example.com',
 *   requiredScopes: ['read'],
 * });
 * https.createServer({ key, cert, requestCert: true, rejectUnauthorized: false }, app.callback());
 * app.use(verifier.koa()); // ctx.state.auth = { claims, clientId, scopes, thumbprint }
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (!options || typeof options !== 'object') throw new TypeError('createVerifier needs options');
  const issuer = checkIssuer(options.issuer);
  const audience = checkAudience(options.audience);
  const algorithms = checkAlgorithms(options.algorithms);
  const clockTolerance = checkNonNegative(options.clockTolerance, 30, 'clockTolerance');
  const maxAuthorizationLength = checkNonNegative(options.maxAuthorizationLength, 8192, 'maxAuthorizationLength');
  const timeout = checkNonNegative(options.timeout, 5000, 'timeout');
  const requiredScopes = checkScopes(options.requiredScopes, 'requiredScopes');
  const requireBoundTokens = options.requireBoundTokens ?? true;
  if (typeof requireBoundTokens !== 'boolean') throw new TypeError('requireBoundTokens must be a boolean');
  const jwksUri = options.jwksUri === undefined ? undefined : checkHttpsUrl(options.jwksUri, 'jwksUri');
  /**
   * Goes up whenever the issuer's key set may have changed: a `keySet` function returned another set, or
   * the JWKS was fetched (again). A cached JWT verified under an older generation is verified again, so a
   * key that left the set stops verifying its tokens, cached or not.
   */
  let keyGeneration = 0;
  const localKeySet = checkKeySet(options.keySet, jwksUri, () => {
    keyGeneration++;
  });
  const explicitIntrospection = options.introspectionEndpoint === undefined ? undefined : checkHttpsUrl(options.introspectionEndpoint, 'introspectionEndpoint');
  const introspection = checkIntrospection(options.introspection);
  const certificateOf = checkCertificateSource(options.certificate);
  const realm = options.realm ?? (Array.isArray(audience) ? audience[0] : audience);
  const now = options.now ?? Date.now;
  const tokenCacheMax = options.tokenCache === false ? 0 : checkNonNegative(options.tokenCache?.maxEntries, 1000, 'tokenCache.maxEntries');
  const tokenCacheMaxAge = options.tokenCache === false ? 0 : checkNonNegative(options.tokenCache?.maxAge, 300_000, 'tokenCache.maxAge');
  const onReject = options.onReject;

  const http = createFetcher(options.tls, timeout);
  const introspectionHttp =
    introspection && 'tls' in introspection ? createFetcher({ ca: options.tls?.ca, ...introspection.tls }, timeout) : http;
  const verified = new TokenCache<CachedToken>(tokenCacheMax);
  // The cache's doorkeeper: marks of JWTs verified once (see admit), in two generations of up to
  // `generationSize` marks each, so the marks of the last 2–4 × maxEntries tokens are remembered.
  const generationSize = Math.max(8, tokenCacheMax * 2);
  let marks = new Set<string>();
  let olderMarks = new Set<string>();
  /**
   * Whether a just-verified JWT goes into the cache: on its second verification. A client reuses its
   * token, so it is cached after one extra signature check; tokens seen only once (a flood of them, or
   * unique tokens) never push reused ones out, nor make the cache churn memory. The mark is the last
   * 12 characters of the token (its signature): small, and a collision only admits a token early, which
   * is harmless, since only verified tokens are cached.
   *
   * When the young generation is full it becomes the old one and the oldest marks are dropped at once.
   * Dropping the oldest mark one at a time from a single Set was the costliest step of verifying an
   * unseen token: a Set iterated from its start skips every entry deleted there since its last rehash.
   */
  function admit(token: string): boolean {
    if (tokenCacheMax <= 0) return false;
    // 12 characters, not more: V8 copies a substring shorter than 13 characters, while a longer one
    // points into the whole token and would keep it alive (4000 marks kept 3 MB of tokens that way).
    const mark = token.slice(-12);
    if (marks.delete(mark) || olderMarks.delete(mark)) return true;
    marks.add(mark);
    if (marks.size >= generationSize) {
      olderMarks = marks;
      marks = new Set();
    }
    return false;
  }
  // Negative introspection results live in a small cache of their own, so random tokens never evict good entries.
  const inactive = new TokenCache<true>(1000);

  const fail = (code: VerifierErrorCode, status: number, error: BearerError | undefined, description: string, extra: { detail?: string; cause?: unknown; scope?: string } = {}) =>
    new VerifierError(code, { status, error, description, realm, ...extra });
  const upstream = (detail: string, cause?: unknown) =>
    fail('ERR_VERIFIER_UPSTREAM', 503, 'temporarily_unavailable', 'authorization server unavailable', { detail, cause });
  const invalidToken = (code: VerifierErrorCode, description: string, extra: { detail?: string; cause?: unknown } = {}) =>
    fail(code, 401, 'invalid_token', description, extra);

  const metadata = memoize<IssuerMetadata>(() => discoverMetadata(issuer, http.fetch), now, 10_000);

  const jwks = memoize(
    async () => {
      const uri = jwksUri ?? (await metadata()).jwks_uri;
      if (!uri) throw new Error('the issuer metadata has no jwks_uri');
      return createRemoteJWKSet(new URL(uri), {
        cooldownDuration: options.jwks?.cooldownDuration,
        cacheMaxAge: options.jwks?.cacheMaxAge,
        timeoutDuration: timeout,
        // Every JWKS fetch starts a new key generation (cached tokens are verified again once).
        [customFetch]: (async (...args: Parameters<typeof http.fetch>) => {
          const response = await http.fetch(...args);
          keyGeneration++;
          return response;
        }) as unknown as FetchImplementation,
      });
    },
    now,
    10_000,
  );

  const introspectionEndpoint = memoize(
    async () => {
      if (explicitIntrospection) return explicitIntrospection;
      const meta = await metadata();
      const endpoint = (introspection && 'tls' in introspection && meta.mtls_endpoint_aliases?.introspection_endpoint) || meta.introspection_endpoint;
      if (!endpoint) throw new Error('the issuer metadata has no introspection_endpoint');
      return endpoint;
    },
    now,
    10_000,
  );

  /** `t`: the request's time (ms), read once per request. */
  async function verifyJwt(token: string, t: number): Promise<TokenFacts> {
    // The header and payload are covered by the signature as text; only the signature can be respelled.
    if (!isCanonicalBase64url(token.slice(token.lastIndexOf('.') + 1))) {
      throw invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token malformed', { detail: 'the signature is not canonical base64url' });
    }
    let keys: JWTVerifyGetKey;
    try {
      keys = localKeySet ? localKeySet() : await jwks();
    } catch (cause) {
      throw upstream(`JWKS unavailable: ${(cause as Error).message}`, cause);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms,
        typ: 'at+jwt',
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance,
        currentDate: new Date(t),
      }));
    } catch (cause) {
      const failure = joseFailure(cause);
      if (failure.upstream) throw upstream(failure.detail, cause);
      throw invalidToken(failure.code, failure.description, { detail: failure.detail, cause });
    }
    const nowSeconds = Math.floor(t / 1000);
    if (typeof payload.iat === 'number' && payload.iat > nowSeconds + clockTolerance) {
      throw invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token issued in the future', { detail: `iat ${payload.iat} > now ${nowSeconds}` });
    }
    for (const claim of ['sub', 'client_id', 'jti'] as const) {
      if (typeof payload[claim] !== 'string') throw invalidToken('ERR_VERIFIER_TOKEN_INVALID', `token ${claim} claim invalid`);
    }
    if (payload.scope !== undefined && typeof payload.scope !== 'string') throw invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token scope claim invalid');
    // Read after the signature check: a JWKS fetched during it is the set the key came from.
    return { claims: payload as TokenFacts['claims'], exp: payload.exp, keyGeneration };
  }

  async function introspect(token: string): Promise<{ entry: TokenFacts; until: number }> {
    if (!introspection) {
      throw invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token format not supported', { detail: 'not a JWS compact token and introspection is not configured' });
    }
    if (inactive.get(token, now())) throw invalidToken('ERR_VERIFIER_TOKEN_INACTIVE', 'token is not active', { detail: 'cached inactive result' });
    let json: Record<string, unknown>;
    try {
      const endpoint = await introspectionEndpoint();
      const body = new URLSearchParams({ token, token_type_hint: 'access_token' });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if ('clientSecret' in introspection) {
        // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
        const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
        headers.authorization = `Basic ${Buffer.from(`${encode(introspection.clientId)}:${encode(introspection.clientSecret)}`).toString('base64')}`;
      } else {
        body.set('client_id', introspection.clientId);
      }
      const response = await introspectionHttp.fetch(endpoint, { method: 'POST', body: body.toString(), headers });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`introspection endpoint answered ${response.status}`);
      }
      json = await readJsonObject(response);
      if (typeof json.active !== 'boolean') throw new Error('introspection response has no boolean "active"');
    } catch (cause) {
      throw upstream(`introspection failed: ${(cause as Error).message}`, cause);
    }
    const t = now();
    const nowSeconds = Math.floor(t / 1000);
    if (json.active !== true) {
      inactive.set(token, true, t + (introspection.inactiveCacheMaxAge ?? 10_000));
      throw invalidToken('ERR_VERIFIER_TOKEN_INACTIVE', 'token is not active');
    }
    const claim = (name: string, ok: boolean) => {
      if (!ok) throw invalidToken('ERR_VERIFIER_TOKEN_INVALID', `token ${name} claim invalid`, { detail: `introspection ${name}` });
    };
    claim('iss', json.iss === undefined || json.iss === issuer);
    if (json.aud !== undefined) {
      const auds = Array.isArray(json.aud) ? json.aud : [json.aud];
      const wanted = Array.isArray(audience) ? audience : [audience];
      claim('aud', auds.some((a) => wanted.includes(a as string)));
    }
    if (json.exp !== undefined) {
      claim('exp', typeof json.exp === 'number');
      if ((json.exp as number) + clockTolerance < nowSeconds) throw invalidToken('ERR_VERIFIER_TOKEN_EXPIRED', 'token expired');
    }
    if (json.nbf !== undefined) claim('nbf', typeof json.nbf === 'number' && json.nbf <= nowSeconds + clockTolerance);
    // A refresh token (or a DPoP token) is not a bearer access token for this resource.
    if (json.token_type !== undefined) claim('token_type', typeof json.token_type === 'string' && json.token_type.toLowerCase() === 'bearer');
    claim('client_id', json.client_id === undefined || typeof json.client_id === 'string');
    claim('scope', json.scope === undefined || typeof json.scope === 'string');
    const exp = typeof json.exp === 'number' ? json.exp : undefined;
    const maxAge = introspection.cacheMaxAge ?? 300_000;
    const until = Math.min(t + maxAge, exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000);
    return { entry: { claims: json as TokenFacts['claims'], exp }, until };
  }

  /** §3.3 rows 4–6: what the token's `cnf` demands, decided once per verified token. */
  function bindingOf(claims: Record<string, unknown>): CachedToken['binding'] {
    const cnf = claims.cnf;
    if (cnf === undefined) {
      if (requireBoundTokens) return { refuse: () => invalidToken('ERR_VERIFIER_TOKEN_UNBOUND', 'token is not certificate-bound') };
      return { expected: undefined };
    }
    if (!cnf || typeof cnf !== 'object' || Array.isArray(cnf)) return { refuse: () => invalidToken('ERR_VERIFIER_CNF_UNSUPPORTED', 'unsupported confirmation method', { detail: 'cnf is not an object' }) };
    const members = Object.keys(cnf);
    // SC-2 / BT-12: only x5t#S256 is understood; an unknown (or additional, e.g. jkt) method cannot be checked here.
    if (!members.includes('x5t#S256') || members.length !== 1) {
      const detail = `cnf members: ${members.join(',')}`;
      return { refuse: () => invalidToken('ERR_VERIFIER_CNF_UNSUPPORTED', 'unsupported confirmation method', { detail }) };
    }
    const expected = (cnf as Record<string, unknown>)['x5t#S256'];
    if (!isWellFormedX5tS256(expected)) return { refuse: () => invalidToken('ERR_VERIFIER_THUMBPRINT_MALFORMED', 'malformed certificate thumbprint') };
    return { expected };
  }

  function cacheable(facts: TokenFacts): CachedToken {
    return { claims: facts.claims, exp: facts.exp, keyGeneration: facts.keyGeneration, binding: bindingOf(facts.claims), scopes: Object.freeze(scopesOf(facts.claims)) };
  }

  /** §3.3 rows 4–9 on every request: the token's binding against this request's certificate. */
  function checkBinding(entry: CachedToken, certificate: PeerCertificate | undefined): string | undefined {
    const { binding } = entry;
    if ('refuse' in binding) throw binding.refuse();
    if (binding.expected === undefined) return undefined;
    if (!certificate) throw invalidToken('ERR_VERIFIER_CERTIFICATE_REQUIRED', 'certificate-bound token requires mTLS');
    if (!sameWellFormedThumbprints(binding.expected, certificate.x5t)) throw invalidToken('ERR_VERIFIER_CERTIFICATE_MISMATCH', 'certificate does not match the token');
    return binding.expected;
  }

  async function run(req: VerifiableRequest, call: VerifyCallOptions): Promise<VerifiedRequest> {
    // Row 11 first: a forged certificate header is refused whatever else the request holds.
    let certificate: PeerCertificate | undefined;
    try {
      certificate = certificateOf(req);
    } catch (cause) {
      if (!(cause instanceof ForwardedCertificateError)) throw cause;
      throw fail('ERR_VERIFIER_FORWARDED_CERTIFICATE', 400, 'invalid_request', 'client certificate header refused', { detail: `${cause.code}: ${cause.message}`, cause });
    }

    // The b64token scan is skipped for a token found in the verified-token cache (it passed that check
    // when it was first verified) and for a JWS compact token (its characters are a subset).
    const t = now();
    let entry: CachedToken | undefined;
    let jws = false;
    const bearer = extractBearer(req, maxAuthorizationLength, call.body ?? req.body, (candidate) => {
      entry = verified.get(candidate, t);
      if (entry === undefined) jws = JWS_COMPACT.test(candidate);
      return entry !== undefined || jws;
    });
    if (bearer.kind === 'missing') throw fail('ERR_VERIFIER_TOKEN_MISSING', 401, undefined, 'an access token is required');
    if (bearer.kind === 'invalid') throw fail('ERR_VERIFIER_INVALID_REQUEST', 400, 'invalid_request', bearer.description, { detail: bearer.reason });
    const { token } = bearer;

    if (entry?.keyGeneration !== undefined) {
      // A JWT verified under a key set that has changed since is verified again (a retired key's tokens
      // stop working at once). A keySet function is asked on every request so a rotation is seen.
      try {
        localKeySet?.();
      } catch (cause) {
        throw upstream(`JWKS unavailable: ${(cause as Error).message}`, cause);
      }
      if (entry.keyGeneration !== keyGeneration) {
        verified.delete(token);
        entry = undefined;
        jws = true;
      }
    }
    if (entry) {
      // Reused token: no signature check, but expiry is re-checked on every request, as jose checks it
      // (refused from exp + clockTolerance on).
      if (entry.exp !== undefined && entry.exp + clockTolerance <= Math.floor(t / 1000)) {
        verified.delete(token);
        throw invalidToken('ERR_VERIFIER_TOKEN_EXPIRED', 'token expired', { detail: 'cached token expired' });
      }
    } else if (jws) {
      entry = cacheable(await verifyJwt(token, t));
      // Only tokens that passed verification are cached, so random tokens cannot grow the cache.
      // Kept a minute past expiry so a replayed expired token is refused from the cache, without jose; at
      // most maxAge, after which it is verified again (signature and current key set).
      if (admit(token)) verified.set(token, entry, Math.min(entry.exp === undefined ? t : (entry.exp + clockTolerance + 60) * 1000, t + tokenCacheMaxAge));
    } else {
      const result = await introspect(token);
      entry = cacheable(result.entry);
      verified.set(token, entry, result.until);
    }

    const thumbprint = checkBinding(entry, certificate);

    const needed = call.scopes === undefined ? requiredScopes : checkScopes(call.scopes, 'scopes');
    const granted = entry.scopes;
    const missing = needed.length === 0 ? needed : needed.filter((s) => !granted.includes(s));
    if (missing.length > 0) {
      throw fail('ERR_VERIFIER_INSUFFICIENT_SCOPE', 403, 'insufficient_scope', 'token lacks a required scope', { scope: needed.join(' '), detail: `missing ${missing.join(' ')}` });
    }
    return {
      claims: entry.claims,
      clientId: typeof entry.claims.client_id === 'string' ? entry.claims.client_id : undefined,
      scopes: [...granted],
      thumbprint,
    };
  }

  function verify(req: VerifiableRequest, call: VerifyCallOptions = {}): Promise<VerifiedRequest> {
    if (!onReject) return run(req, call);
    return run(req, call).catch((err: unknown) => {
      if (err instanceof VerifierError) {
        try {
          onReject(err, req);
        } catch {
          // a failing logger must not change the answer
        }
      }
      throw err;
    });
  }

  return Object.freeze({
    verify,
    koa(mwOptions: { scopes?: string[] } = {}): Middleware {
      const scopes = mwOptions.scopes === undefined ? undefined : checkScopes(mwOptions.scopes, 'scopes');
      return async (ctx, next) => {
        let auth: VerifiedRequest;
        try {
          auth = await verify(ctx.req, { scopes, body: (ctx.request as { body?: unknown }).body });
        } catch (err) {
          if (!(err instanceof VerifierError)) throw err;
          ctx.status = err.status;
          ctx.set('Cache-Control', 'no-store');
          if (err.wwwAuthenticate) ctx.set('WWW-Authenticate', err.wwwAuthenticate);
          ctx.body = err.toBody();
          return;
        }
        ctx.state.auth = auth;
        ctx.set('Cache-Control', 'no-store');
        await next();
      };
    },
    express(mwOptions: { scopes?: string[] } = {}) {
      const scopes = mwOptions.scopes === undefined ? undefined : checkScopes(mwOptions.scopes, 'scopes');
      return (req: IncomingMessage & { auth?: VerifiedRequest; body?: unknown }, res: ServerResponse, next: (err?: unknown) => void) => {
        verify(req, { scopes, body: req.body }).then(
          (auth) => {
            req.auth = auth;
            res.setHeader('Cache-Control', 'no-store');
            next();
          },
          (err: unknown) => {
            if (!(err instanceof VerifierError)) {
              next(err);
              return;
            }
            res.statusCode = err.status;
            res.setHeader('Cache-Control', 'no-store');
            if (err.wwwAuthenticate) res.setHeader('WWW-Authenticate', err.wwwAuthenticate);
            res.setHeader('Content-Type', 'application/json');
            res.end(JSON.stringify(err.toBody()));
          },
        );
      };
    },
    async close() {
      await Promise.all([http.close(), introspectionHttp === http ? undefined : introspectionHttp.close()]);
    },
  });
}
