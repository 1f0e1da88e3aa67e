/**
 * `createVerifier`: the options checked once, then one request pipeline: the client certificate, the
 * bearer token, the verified-token cache, the JWT check (lib/jwt.ts) or introspection
 * (lib/introspection.ts), the `cnf` binding (lib/binding.ts) and the scopes.
 */
import { ForwardedCertificateError } from '../forwarded/errors.js';
import { VerifierError } from './errors.js';
import { extractBearer, type VerifiableRequest } from './lib/bearer.js';
import { type CachedToken, cacheable, Doorkeeper } from './lib/cache.js';
import { checkBinding } from './lib/binding.js';
import { createFetcher } from './lib/http.js';
import { Introspector } from './lib/introspection.js';
import { JWS_COMPACT, type JwtChecks, verifyJwt } from './lib/jwt.js';
import { IssuerKeys } from './lib/key-set.js';
import { discoverMetadata, type IssuerMetadata } from './lib/metadata.js';
import { memoize } from './lib/memoize.js';
import { expressMiddleware, koaMiddleware } from './lib/middleware.js';
import {
  checkAlgorithms,
  checkAudience,
  checkCertificateSource,
  checkHttpsUrl,
  checkIntrospection,
  checkIssuer,
  checkKeySet,
  checkNonNegative,
  checkScopes,
} from './lib/options.js';
import type { PeerCertificate } from './lib/peer-certificate.js';
import { Refusals } from './lib/refusals.js';
import { TokenCache } from './lib/token-cache.js';
import type { Verifier, VerifiedRequest, VerifierOptions, VerifyCallOptions } from './types.js';

export type {
  CertificateSource,
  IntrospectionOptions,
  TlsOptions,
  VerifiableRequest,
  VerifiedRequest,
  Verifier,
  VerifierOptions,
  VerifyCallOptions,
} from './types.js';

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
  const readKeySet = checkKeySet(options.keySet, jwksUri);
  const explicitIntrospection = options.introspectionEndpoint === undefined ? undefined : checkHttpsUrl(options.introspectionEndpoint, 'introspectionEndpoint');
  const introspection = checkIntrospection(options.introspection);
  const certificateOf = checkCertificateSource(options.certificate);
  const realm = options.realm ?? (Array.isArray(audience) ? audience[0] : audience);
  const now = options.now ?? Date.now;
  const tokenCacheMax = options.tokenCache === false ? 0 : checkNonNegative(options.tokenCache?.maxEntries, 1000, 'tokenCache.maxEntries');
  const tokenCacheMaxAge = options.tokenCache === false ? 0 : checkNonNegative(options.tokenCache?.maxAge, 300_000, 'tokenCache.maxAge');
  const onReject = options.onReject;

  const refusals = new Refusals(realm);
  const http = createFetcher(options.tls, timeout);
  const introspectionHttp = introspection && 'tls' in introspection ? createFetcher({ ca: options.tls?.ca, ...introspection.tls }, timeout) : http;
  const metadata = memoize<IssuerMetadata>(() => discoverMetadata(issuer, http.fetch), now, 10_000);
  const keys = new IssuerKeys({ readKeySet, jwksUri, jwks: options.jwks, timeout, fetch: http.fetch, metadata, now });
  const jwtChecks: JwtChecks = { issuer, audience, algorithms, clockTolerance, keys, refusals };
  const introspector = new Introspector({
    issuer,
    audience,
    clockTolerance,
    introspection,
    endpoint: explicitIntrospection,
    metadata,
    fetch: introspectionHttp.fetch,
    now,
    refusals,
  });
  const verified = new TokenCache<CachedToken>(tokenCacheMax);
  const doorkeeper = new Doorkeeper(tokenCacheMax);

  async function run(req: VerifiableRequest, call: VerifyCallOptions): Promise<VerifiedRequest> {
    // Row 11 first: a forged certificate header is refused whatever else the request holds.
    let certificate: PeerCertificate | undefined;
    try {
      certificate = certificateOf(req);
    } catch (cause) {
      if (!(cause instanceof ForwardedCertificateError)) throw cause;
      throw refusals.fail('ERR_VERIFIER_FORWARDED_CERTIFICATE', 400, 'invalid_request', 'client certificate header refused', { detail: `${cause.code}: ${cause.message}`, cause });
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
    if (bearer.kind === 'missing') throw refusals.fail('ERR_VERIFIER_TOKEN_MISSING', 401, undefined, 'an access token is required');
    if (bearer.kind === 'invalid') throw refusals.fail('ERR_VERIFIER_INVALID_REQUEST', 400, 'invalid_request', bearer.description, { detail: bearer.reason });
    const { token } = bearer;

    if (entry?.keyGeneration !== undefined) {
      // A JWT verified under a key set that has changed since is verified again (a retired key's tokens
      // stop working at once). A keySet function is asked on every request so a rotation is seen.
      try {
        keys.local?.();
      } catch (cause) {
        throw refusals.upstream(`JWKS unavailable: ${(cause as Error).message}`, cause);
      }
      if (entry.keyGeneration !== keys.generation) {
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
        throw refusals.invalidToken('ERR_VERIFIER_TOKEN_EXPIRED', 'token expired', { detail: 'cached token expired' });
      }
    } else if (jws) {
      entry = cacheable(await verifyJwt(token, t, jwtChecks), requireBoundTokens, refusals);
      // Only tokens that passed verification are cached, so random tokens cannot grow the cache.
      // Kept a minute past expiry so a replayed expired token is refused from the cache, without jose; at
      // most maxAge, after which it is verified again (signature and current key set).
      if (doorkeeper.admit(token)) verified.set(token, entry, Math.min(entry.exp === undefined ? t : (entry.exp + clockTolerance + 60) * 1000, t + tokenCacheMaxAge));
    } else {
      const result = await introspector.introspect(token);
      entry = cacheable(result.entry, requireBoundTokens, refusals);
      verified.set(token, entry, result.until);
    }

    const thumbprint = checkBinding(entry.binding, certificate, refusals);

    const needed = call.scopes === undefined ? requiredScopes : checkScopes(call.scopes, 'scopes');
    const granted = entry.scopes;
    const missing = needed.length === 0 ? needed : needed.filter((s) => !granted.includes(s));
    if (missing.length > 0) {
      throw refusals.fail('ERR_VERIFIER_INSUFFICIENT_SCOPE', 403, 'insufficient_scope', 'token lacks a required scope', {
        scope: needed.join(' '),
        detail: `missing ${missing.join(' ')}`,
      });
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
    koa(mwOptions: { scopes?: string[] } = {}) {
      return koaMiddleware(verify, mwOptions.scopes === undefined ? undefined : checkScopes(mwOptions.scopes, 'scopes'));
    },
    express(mwOptions: { scopes?: string[] } = {}) {
      return expressMiddleware(verify, mwOptions.scopes === undefined ? undefined : checkScopes(mwOptions.scopes, 'scopes'));
    },
    async close() {
      await Promise.all([http.close(), introspectionHttp === http ? undefined : introspectionHttp.close()]);
    },
  });
}
