/**
 * RFC 7662 introspection policy: who may read a token, and introspection of certbound's own JWT access
 * tokens (RFC 9068), which oidc-provider refuses with the revocation error `unsupported_token_type`.
 *
 * A client may introspect a token when it is the token's own client, or when it is named in
 * `introspection_clients` of a resource server the token is for (its audience): the resource server's
 * own client identity. Everyone else learns nothing: `{ "active": false }` (RFC 7662 §2.2), as for an
 * unknown, expired or forged token.
 */
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import introspectionRoute from 'oidc-provider/lib/actions/introspection.js';
import revocationRoute from 'oidc-provider/lib/actions/revocation.js';
import rejectStructuredTokens from 'oidc-provider/lib/shared/reject_structured_tokens.js';
import type { LookupCache } from './lookup-cache.js';

type Lookups = Pick<LookupCache, 'cachedResourceServer' | 'resourceServer' | 'client'>;

/**
 * Whether `callerId` may read a token issued to `tokenClientId` for `aud`. The resource servers come
 * from the lookup cache (kept exact per request), so a change to introspection_clients applies at once.
 */
export async function mayIntrospect(lookups: Lookups, callerId: string, tokenClientId: unknown, aud: unknown): Promise<boolean> {
  if (callerId === tokenClientId) return true;
  for (const audience of Array.isArray(aud) ? aud : [aud]) {
    if (typeof audience !== 'string') continue;
    const rs = lookups.cachedResourceServer(audience) ?? (await lookups.resourceServer(audience));
    if (rs?.introspectionClients.includes(callerId)) return true;
  }
  return false;
}

export interface JwtIntrospectionOptions {
  issuer: string;
  /** The keys the server signs with and publishes (its JWKS): a token signed by any other key is not ours. */
  keys: readonly { publicJwk: JWK; alg: string }[];
  lookups: Lookups;
}

type Introspect = (ctx: KoaContextWithOIDC, token: string) => Promise<Record<string, unknown>>;

/** The JWT introspection of each provider certbound built (the route modules are shared by all). */
const jwtIntrospections = new WeakMap<object, Introspect>();

const INACTIVE = Object.freeze({ active: false });

function isJws(token: unknown): token is string {
  if (typeof token !== 'string') return false;
  try {
    return !!decodeProtectedHeader(token);
  } catch {
    return false;
  }
}

/**
 * Takes the place of oidc-provider's rejectStructuredTokens, after client authentication: a JWT at the
 * introspection endpoint is verified and answered here; at the revocation endpoint it is still refused
 * with `unsupported_token_type` (RFC 7009 §2.2.1: a JWT cannot be revoked), now saying what to do.
 */
async function structuredTokens(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  const token = (ctx.oidc.params as { token?: unknown }).token;
  const introspect = jwtIntrospections.get(ctx.oidc.provider);
  if (!introspect || !isJws(token)) return rejectStructuredTokens(ctx, next);
  if (ctx.oidc.route === 'revocation') {
    throw new errors.UnsupportedTokenType(
      'JWT access tokens cannot be revoked: they stay valid until their exp; a resource server whose tokens must be revocable is registered with opaque tokens (certbound resource add --format opaque)',
    );
  }
  ctx.body = await introspect(ctx, token);
}

/**
 * Puts structuredTokens in oidc-provider's introspection and revocation routes. A Provider copies the
 * route's middleware when it is constructed, so this runs before `new Provider`; providers built before
 * are unaffected, and providers that never enableJwtIntrospection keep oidc-provider's behaviour.
 */
export function installJwtIntrospectionRoutes(): void {
  for (const route of [introspectionRoute, revocationRoute] as unknown[][]) {
    if (route.includes(structuredTokens)) continue;
    const at = route.indexOf(rejectStructuredTokens);
    // Fails the start rather than leaving JWTs unintrospectable after an oidc-provider upgrade.
    if (at === -1) throw new Error('oidc-provider: rejectStructuredTokens is no longer in the introspection/revocation route; certbound cannot introspect JWT access tokens');
    route[at] = structuredTokens;
  }
}

/**
 * Makes `provider` (built after installJwtIntrospectionRoutes) introspect its own JWT access tokens: signature by one of `keys`, `iss`, `typ`
 * at+jwt and `exp` checked; the token's client still registered; the caller the token's client or an
 * introspection client of its audience. The answer has the token's claims, `cnf` included (RFC 8705
 * §3.2), like an opaque token's.
 */
export function enableJwtIntrospection(provider: object, { issuer, keys, lookups }: JwtIntrospectionOptions): void {
  const keySet = createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });
  const algorithms = [...new Set(keys.map((k) => k.alg))];
  jwtIntrospections.set(provider, async (ctx, token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keySet, { issuer, typ: 'at+jwt', algorithms, requiredClaims: ['exp', 'iat', 'client_id', 'aud'] }));
    } catch {
      return INACTIVE;
    }
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || !(await lookups.client(clientId))) return INACTIVE;
    if (!(await mayIntrospect(lookups, ctx.oidc.client!.clientId, clientId, payload.aud))) return INACTIVE;
    return { active: true, ...payload, token_type: 'Bearer' };
  });
}
