/**
 * Builds the oidc-provider instance: RFC 8705 client authentication and certificate-bound tokens,
 * the grants of grants/ with RFC 8707 resource indicators (the authorization code flow with PAR and
 * PKCE, its sign-in and consent in interactions/), RFC 7662 introspection and RFC 7009 revocation;
 * everything persisted in SQL through the adapter.
 */
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { createHash, hkdfSync, randomUUID } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { Config } from '../config/index.js';
import {
  AlreadyConsumedError,
  CLIENT_ASSERTION_ALGS,
  createOidcAdapter,
  PENDING_MEMBER,
  type Queryable,
  insertIfAbsent,
  type ResourceServer,
  revokeGrant,
  type SigningKey,
} from '../store/index.js';
import { createResourceAccess, GRANT_TYPES, GRANTS, type GrantContext, grantOf, REFRESH_GRANT_TYPE, RESPONSE_TYPES } from './grants/index.js';
import type { Interactions } from './interactions/index.js';
import { enableJwtIntrospection, installJwtIntrospectionRoutes, mayIntrospect } from './introspection.js';
import { type LookupCache, publishedKindOf } from './lookup-cache.js';
import type { JwksUriCache } from '../outbound/jwks-uri-cache.js';
import type { MtlsHooks } from './mtls.js';
import type { Refusal } from './peer-certificate.js';
import { x5tS256 } from '../pki/thumbprint.js';

export const MTLS_ALIASED_ENDPOINTS = [
  'token_endpoint',
  'introspection_endpoint',
  'revocation_endpoint',
  'registration_endpoint',
  'pushed_authorization_request_endpoint',
] as const;

/**
 * RFC 8705 §5 `mtls_endpoint_aliases`: the token, introspection, revocation, (RFC 7591) registration and
 * (RFC 9126) pushed authorization request endpoints on the mTLS listener. The authorization endpoint is
 * never aliased (checklist AL-4): a browser must not be asked for a certificate.
 */
export function mtlsEndpointAliases(mtlsUrl: string): Record<(typeof MTLS_ALIASED_ENDPOINTS)[number], string> {
  return {
    token_endpoint: `${mtlsUrl}/token`,
    introspection_endpoint: `${mtlsUrl}/token/introspection`,
    revocation_endpoint: `${mtlsUrl}/token/revocation`,
    registration_endpoint: `${mtlsUrl}/register`,
    pushed_authorization_request_endpoint: `${mtlsUrl}/request`,
  };
}

export interface BuildProviderOptions {
  config: Config;
  db: Queryable;
  keys: readonly SigningKey[];
  mtls: MtlsHooks;
  /** Cached client and resource-server lookups (refreshed per request by the server). */
  lookups: LookupCache;
  /** The sets clients publish at a jwks_uri: self-signed certificates (SS-4), private_key_jwt keys. */
  jwksUris?: JwksUriCache;
  /** End-user sign-in and consent (interactions/): the provider members that plug them in. */
  interactions: Interactions;
}

/**
 * RFC 8414 metadata members about what certbound does not serve: OpenID Connect (no ID tokens, no
 * userinfo, no claims), request objects and response modes other than the default. Removed from the
 * discovery documents, so a client that reads them sees what certbound serves only.
 */
const UNSERVED_METADATA = [
  'claim_types_supported',
  'claims_parameter_supported',
  'claims_supported',
  'id_token_signing_alg_values_supported',
  'request_object_signing_alg_values_supported',
  'request_parameter_supported',
  'request_uri_parameter_supported',
  'require_request_uri_registration',
  'response_modes_supported',
  'subject_types_supported',
] as const;

/** Trims a discovery document to what certbound serves (see UNSERVED_METADATA). */
export function trimDiscovery(body: Record<string, unknown>): void {
  for (const member of UNSERVED_METADATA) delete body[member];
  // oidc-provider lists its OpenID scopes (openid), which certbound does not serve. The real scopes are
  // the resource servers', each meaningful for one audience only; discovery is unauthenticated, and
  // RFC 8414 lets a server not advertise them, so a client learns its scopes from its registration.
  delete body.scopes_supported;
  // REQUIRED by RFC 8414: the response types of the grants that start at the authorization endpoint.
  body.response_types_supported = [...RESPONSE_TYPES];
  if (Array.isArray(body.grant_types_supported)) body.grant_types_supported = body.grant_types_supported.filter((g) => GRANT_TYPES.includes(g));
  // PKCE is required, with S256 only (RFC 7636; plain is refused).
  if (RESPONSE_TYPES.length) body.code_challenge_methods_supported = ['S256'];
  else {
    for (const member of AUTHORIZATION_METADATA) delete body[member];
  }
  // Required per client (require_pushed_authorization_requests in its metadata), not by the server.
  if (body.require_pushed_authorization_requests !== true) delete body.require_pushed_authorization_requests;
}

/** The members about the authorization endpoint, listed only while a grant starts there. */
const AUTHORIZATION_METADATA = [
  'authorization_endpoint',
  'authorization_response_iss_parameter_supported',
  'code_challenge_methods_supported',
  'pushed_authorization_request_endpoint',
  'require_pushed_authorization_requests',
] as const;

/**
 * A client that registered itself under a manual-approval token authenticates, but gets no token until
 * an administrator approves it: invalid_client, with a description that says so (provider-host.ts).
 */
function assertApproved(ctx: KoaContextWithOIDC, client: { clientId: string; [PENDING_MEMBER]?: string }): void {
  if (client[PENDING_MEMBER] !== 'pending') return;
  const refusal: Refusal = {
    code: 'CLIENT_PENDING_APPROVAL',
    message: `the registration of ${client.clientId} awaits an administrator's approval`,
    ref: randomUUID().slice(0, 8),
    clientId: client.clientId,
    publicDescription: true,
  };
  ctx.state.certboundRefusal = refusal;
  // oidc-provider answers invalid_client with 400 here (after client authentication); it is a 401 wherever certbound refuses a client.
  throw Object.assign(new errors.InvalidClient('the client registration awaits approval'), { status: 401, statusCode: 401 });
}

export function buildProvider({ config, db, keys, mtls, lookups, jwksUris, interactions }: BuildProviderOptions): Provider {
  // Scoped to the request: a refresh reads its token with its grant and writes the consume with the successor (oidc-adapter.ts).
  const Adapter = createOidcAdapter(db, (id) => lookups.client(id), { requestScope: () => Provider.ctx });

  const aliases = mtlsEndpointAliases(config.mtlsUrl);

  const grants: GrantContext = { config, keys, access: createResourceAccess({ config, keys }) };
  /**
   * RFC 8707 resource server info: by the rules of the request's grant at the token endpoint; elsewhere
   * (the authorization and PAR endpoints) one resource, and scopes the request names and the client holds
   * there (the user consents to them).
   */
  const resourceServerInfo = (ctx: KoaContextWithOIDC, rs: ResourceServer | undefined, client: unknown, resourceIndicator = rs?.identifier) => {
    assertApproved(ctx, client as { clientId: string; [PENDING_MEMBER]?: string });
    const grant = ctx.oidc.route === 'token' ? grantOf((ctx.oidc.params as Record<string, unknown> | undefined)?.grant_type) : undefined;
    if (grant) return grant.resourceServerInfo(ctx, rs, client, resourceIndicator, grants);
    const resource = (ctx.oidc.params as Record<string, unknown> | undefined)?.resource;
    if (Array.isArray(resource) && resource.length > 1)
      throw new errors.InvalidTarget('an authorization request names one resource (RFC 8707 resource parameter); request each resource in an authorization of its own');
    return grants.access.tokenFor({ ctx, rs, client, resourceIndicator, defaultToHeldScopes: false, requireScope: true });
  };

  const configuration: Configuration = {
    adapter: Adapter as unknown as Configuration['adapter'],
    clients: [],
    jwks: { keys: keys.map((k) => k.privateJwk) as NonNullable<Configuration['jwks']>['keys'] },
    // private_key_jwt (BT-2): a signed client assertion authenticates; the mTLS certificate binds the token.
    // none: a public client (authorization code only, client-metadata.ts); its certificate is proof of
    // possession only (RFC 8705 §4). The method is the client's registered one: none is accepted for a
    // client registered as public and for no other.
    clientAuthMethods: ['tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt', 'none'],
    // IC-9: no implicit; the authorization endpoint answers with a code only.
    responseTypes: ['code'],
    scopes: [],
    claims: {},
    clientBasedCORS: () => false,
    // No ID tokens are issued, but oidc-provider validates the default against the keystore.
    clientDefaults: {
      grant_types: [...GRANT_TYPES],
      id_token_signed_response_alg: (keys.find((k) => k.status === 'active')?.alg ?? config.signingAlg) as 'ES256',
      response_types: [],
      token_endpoint_auth_method: 'tls_client_auth',
    },
    // The browser cookies of the code flow (session, interaction) are signed with keys derived from the
    // signing keys: every replica derives the same, and a cookie stays valid until its key is retired.
    cookies: { keys: cookieKeys(keys) },
    // Sign-in (the upstream provider), consent remembered in SQL, error pages (interactions/).
    ...interactions.configuration(),
    // RFC 7636: PKCE for every authorization request, S256 only (oidc-provider refuses plain).
    pkce: { required: () => true },
    // Redirect URIs are compared exactly, at the authorization and the token endpoint: never inferred.
    allowOmittingSingleRegisteredRedirectUri: false,
    // A refresh token for every code of a client registered with the refresh grant (there is no
    // offline_access scope: certbound serves OAuth, not OpenID Connect), rotated on every use, and
    // independent of the browser session.
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed(REFRESH_GRANT_TYPE) && code.kind === 'AuthorizationCode',
    rotateRefreshToken: true,
    expiresWithSession: async () => false,
    extraClientMetadata: {
      properties: ['certbound_mappings', 'certbound_default_resource', 'certbound_scopes', 'certbound_jwks_uri', PENDING_MEMBER],
      validator(_ctx, key, value) {
        if ((key === 'certbound_mappings' || key === 'certbound_scopes') && value !== undefined && !Array.isArray(value))
          throw new errors.InvalidClientMetadata(`${key} must be an array`);
      },
    },
    discovery: {
      mtls_endpoint_aliases: aliases,
      // Served by certbound itself on the mTLS listener (server/registration/), where the registrant's certificate is read.
      registration_endpoint: aliases.registration_endpoint,
    },
    features: {
      // certbound serves the grants of grants/ (the authorization endpoint for the code flow, with its own
      // pages in interactions/) and token introspection/revocation: oidc-provider's development pages and
      // OpenID Connect endpoints that are on by default are off.
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      // PAR: turned on by the authorization code grant (grants/authorization-code.ts).
      pushedAuthorizationRequests: { enabled: false },
      // Tokens are bound to the client certificate (RFC 8705), not to a DPoP key.
      dPoP: { enabled: false },
      registration: { enabled: false },
      ...Object.assign({}, ...GRANTS.map((g) => g.features)),
      introspection: {
        enabled: true,
        // The token's own client, or a client named by the token's resource server (introspection.ts).
        allowedPolicy: (_ctx, client, token) => mayIntrospect(lookups, client.clientId, token.clientId, (token as unknown as { aud?: unknown }).aud),
      },
      revocation: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        tlsClientAuth: true,
        getCertificate: mtls.getCertificate as unknown as (ctx: KoaContextWithOIDC) => string,
        certificateAuthorized: mtls.certificateAuthorized as unknown as (ctx: KoaContextWithOIDC) => boolean,
        certificateSubjectMatches: mtls.certificateSubjectMatches as unknown as (ctx: KoaContextWithOIDC, property: string, expected: string) => boolean,
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf;
          const def = (client as unknown as { certbound_default_resource?: string }).certbound_default_resource;
          if (def) return def;
          if (ctx.oidc.route === 'token' || ctx.oidc.route === 'authorization' || ctx.oidc.route === 'pushed_authorization_request') {
            throw new errors.InvalidTarget('no resource parameter was sent and the client has no default resource');
          }
          return undefined as unknown as string;
        },
        useGrantedResource: async () => true,
        // Synchronous when the resource server is cached (the usual case): no promise per token request.
        getResourceServerInfo(ctx, resourceIndicator, client) {
          const cached = lookups.cachedResourceServer(resourceIndicator);
          if (cached) return resourceServerInfo(ctx, cached, client) as never;
          return lookups.resourceServer(resourceIndicator).then((rs) => resourceServerInfo(ctx, rs, client, resourceIndicator)) as never;
        },
      },
    },
    ttl: Object.assign({}, ...GRANTS.map((g) => g.ttl(grants))),
    enabledJWA: {
      authorizationSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'],
      // Asymmetric only: no client_secret_jwt (HS256 is oidc-provider's default list's first entry).
      clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS],
    } as Configuration['enabledJWA'],
  };

  installJwtIntrospectionRoutes();
  const provider = new Provider(config.issuer, configuration);
  // The listeners terminate TLS themselves; X-Forwarded-* headers are never trusted here.
  provider.proxy = false;
  fixedAssertionAudiences(provider, config.issuer, aliases);
  refreshTokenBinding(provider, mtls);
  singleUse(provider, db, Adapter);
  enableJwtIntrospection(provider, { issuer: config.issuer, keys, lookups });
  rememberClientInstances(provider, lookups, jwksUris ? publishedSets(jwksUris, lookups, mtls) : undefined);
  atomicReplayDetection(provider, db);
  return provider;
}

/**
 * The `aud` a private_key_jwt client assertion may carry: the issuer identifier, or one of this
 * server's token, introspection and revocation endpoints on either listener, the mTLS aliases (the
 * token endpoint a client finds in `mtls_endpoint_aliases`) included. oidc-provider derives the
 * accepted endpoint URLs from the request's Host header: certbound pins that header to the issuer's
 * host, which left the aliases out; and a set taken from the configuration only (CERTBOUND_ISSUER,
 * CERTBOUND_MTLS_URL) keeps an assertion minted for another server refused even if that pinning went.
 */
function fixedAssertionAudiences(provider: Provider, issuer: string, aliases: Record<string, string>): void {
  const main = (['token', 'introspection', 'revocation', 'pushed_authorization_request'] as const).map((route) => new URL(provider.pathFor(route), issuer).href);
  const accepted = new Set([issuer, ...main, ...Object.values(aliases)]);
  Object.defineProperty(provider.OIDCContext.prototype, 'clientJwtAuthExpectedAudience', { configurable: true, value: () => accepted });
}

/**
 * RFC 8705 §4 and IC-8, the refresh token's certificate:
 * - every refresh token issued over a certificate records its thumbprint (`x5t#S256`, stored in the
 *   x5t_s256 column). oidc-provider records it for public clients only, and checks it on refresh;
 * - a public client (`none`) must refresh with that certificate (PUB-3: oidc-provider's check);
 * - a confidential client authenticates again on every refresh, so the certificate that counts is the one
 *   it authenticates with now: the recorded thumbprint is not checked for it, and the rotated refresh
 *   token records the new certificate (a client that rotated its certificate keeps refreshing).
 */
function refreshTokenBinding(provider: Provider, mtls: MtlsHooks): void {
  const model = provider.RefreshToken as unknown as {
    find(...args: unknown[]): Promise<Record<string, unknown> | undefined>;
    prototype: { save(...args: unknown[]): Promise<string> };
  };
  const confidentialAtToken = (ctx: KoaContextWithOIDC | undefined) => ctx?.oidc?.route === 'token' && ctx.oidc.client !== undefined && ctx.oidc.client.clientAuthMethod !== 'none';
  const find = model.find.bind(model);
  model.find = async (...args: unknown[]) => {
    const token = await find(...args);
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (token && confidentialAtToken(ctx) && token.clientId === ctx!.oidc.client!.clientId) delete token['x5t#S256'];
    return token;
  };
  const save = model.prototype.save;
  model.prototype.save = function (this: Record<string, unknown>, ...args: unknown[]) {
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (!this['x5t#S256'] && ctx?.oidc?.route === 'token' && ctx.oidc.client?.tlsClientCertificateBoundAccessTokens) {
      const peer = mtls.peerCertificate(ctx as never);
      if (peer) this['x5t#S256'] = peer.parsed?.x5t ?? x5tS256(peer.x509.raw);
    }
    return save.apply(this, args);
  };
}

/** Cookie signing keys (HKDF-SHA256 of each signing key's private JWK), the active key's first: it signs, the others verify. */
function cookieKeys(keys: readonly SigningKey[]): string[] {
  const ordered = [...keys].sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active'));
  return ordered.map((k) => Buffer.from(hkdfSync('sha256', JSON.stringify(k.privateJwk), k.kid, 'certbound cookie signing', 32)).toString('base64url'));
}

/**
 * A code or a refresh token is used once, also by two requests that present it at the same moment:
 * the adapter's consume is one conditional UPDATE (for a rotated refresh token, together with the insert
 * of its successor), and the request that finds it consumed by the other is refused as a replay is,
 * `invalid_grant`, and the grant's tokens are revoked, as oidc-provider does when it sees the mark
 * (RFC 6749 §4.1.2, §10.4). A consume a request deferred and no successor followed is written when the
 * request ends.
 */
function singleUse(provider: Provider, db: Queryable, Adapter: ReturnType<typeof createOidcAdapter>): void {
  const refused = async (err: unknown, grantId: unknown, what: string): Promise<never> => {
    if (!(err instanceof AlreadyConsumedError)) throw err;
    if (typeof grantId === 'string') await revokeGrant(db, grantId);
    throw new errors.InvalidGrant(`${what} already used`);
  };
  const code = provider.AuthorizationCode as unknown as { prototype: { consume(this: { grantId?: unknown }): Promise<void> } };
  const consume = code.prototype.consume;
  code.prototype.consume = async function (this: { grantId?: unknown }) {
    try {
      await consume.call(this);
    } catch (err) {
      await refused(err, this.grantId, 'authorization code');
    }
  };
  const refresh = provider.RefreshToken as unknown as { prototype: { save(this: { grantId?: unknown }, ...args: unknown[]): Promise<string> } };
  const save = refresh.prototype.save;
  refresh.prototype.save = async function (this: { grantId?: unknown }, ...args: unknown[]) {
    try {
      return await save.apply(this, args);
    } catch (err) {
      return refused(err, this.grantId, 'refresh token');
    }
  };
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      // A failed write leaves the token unused: nothing was issued in exchange for it (its successor was
      // never stored), and the request's own answer stands.
      await Adapter.settle(ctx).catch(() => {});
    }
  });
}

/**
 * oidc-provider's ReplayDetection.unique (the `jti` of private_key_jwt client assertions) looks the
 * jti up and then saves it: two requests with the same assertion at the same moment could both pass.
 * certbound makes it one atomic insert: the assertion is accepted only by the request whose insert
 * created the row. Rows expire with the assertion (`exp` + clock tolerance), like the provider's own.
 */
function atomicReplayDetection(provider: Provider, db: Queryable): void {
  const model = provider.ReplayDetection as unknown as { unique(iss: string, jti: string, exp: number): Promise<boolean> };
  model.unique = async (iss: string, jti: string, exp: number) => {
    const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
    const nowS = Math.floor(Date.now() / 1000);
    return insertIfAbsent(db, 'ReplayDetection', id, { iss, jti: id, iat: nowS, exp }, Math.max(exp - nowS, 1));
  };
}

/**
 * oidc-provider reuses the Client instance of an adapter-backed client by hashing the JSON of its
 * metadata on every lookup (a JSON.stringify and a SHA-256 per token request). The lookup cache hands
 * out the same metadata object until the client changes, so the instance is remembered per metadata
 * object instead: same instance, same validation, no per-request hashing. A change to the client gives
 * a new metadata object and therefore a freshly validated instance.
 */
function rememberClientInstances(
  provider: Provider,
  lookups: LookupCache,
  refreshPublished?: (id: string, metadata: Record<string, unknown>) => Promise<Record<string, unknown>>,
): void {
  const model = provider.Client as unknown as { find(id: unknown): Promise<unknown> };
  const find = model.find.bind(model);
  const instances = new WeakMap<object, unknown>();
  model.find = async (id: unknown) => {
    let metadata = typeof id === 'string' && id.length ? await lookups.client(id) : undefined;
    if (metadata && refreshPublished && typeof metadata.certbound_jwks_uri === 'string') metadata = await refreshPublished(id as string, metadata);
    if (!metadata) return find(id);
    const known = instances.get(metadata);
    if (known) return known;
    const client = await find(id);
    if (client) instances.set(metadata, client);
    return client;
  };
}

/**
 * SS-4: before oidc-provider authenticates a client that publishes its certificates (self-signed) or
 * assertion keys (private_key_jwt) at a jwks_uri, the published set is made current for this request:
 * fetched on first use, when old, or at once (rate limited) when the certificate the client presents, or
 * the key id its client assertion names, is not in it. A changed set gives new metadata, so a new
 * Client. When the set cannot be fetched and does not hold what the request needs, the refusal says so
 * (JWKS_URI_UNAVAILABLE).
 */
function publishedSets(jwksUris: JwksUriCache, lookups: LookupCache, mtls: BuildProviderOptions['mtls']) {
  return async (clientId: string, metadata: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const uri = metadata.certbound_jwks_uri as string;
    const kind = publishedKindOf(String(metadata.token_endpoint_auth_method));
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    const x5t = kind === 'certificates' && ctx ? mtls.peerCertificate(ctx as never)?.parsed?.x5t : undefined;
    const kid = kind === 'keys' && ctx ? assertionKeyId(ctx) : undefined;
    const need = x5t ?? kid;
    await jwksUris.ensure(clientId, uri, need, kind);
    const state = jwksUris.peek(clientId, uri, kind);
    // Metadata built from an older copy of the set (or before the first fetch) is rebuilt from the current one.
    let current = metadata;
    if (state.jwks && metadata.jwks !== state.jwks) {
      lookups.forget(clientId);
      current = (await lookups.client(clientId)) ?? metadata;
    }
    const held = kind === 'keys' ? state.kids : state.thumbprints;
    if (ctx && need && state.error && !held.has(need) && !ctx.state.certboundRefusal) {
      const what = kind === 'keys' ? `assertion keys of ${clientId}` : `certificates of ${clientId}`;
      const lacks = kind === 'keys' ? `the key ${JSON.stringify(kid)} that signed this client assertion` : 'this certificate';
      ctx.state.certboundRefusal = {
        code: 'JWKS_URI_UNAVAILABLE',
        message: `The ${what} are published at ${uri} (jwks_uri), which could not be fetched or was refused (${state.error})${state.fetchedAt ? `; the copy fetched at ${new Date(state.fetchedAt).toISOString()} does not hold ${lacks}` : ' and was never fetched successfully'}.`,
        ref: randomUUID().slice(0, 8),
        clientId,
        ...(x5t ? { thumbprint: x5t } : { keyId: kid }),
      } satisfies Refusal;
    }
    return current;
  };
}

/** The `kid` of the request's client assertion (private_key_jwt), read from its protected header without verifying it. */
function assertionKeyId(ctx: KoaContextWithOIDC): string | undefined {
  const assertion = (ctx.oidc?.params as Record<string, unknown> | undefined)?.client_assertion;
  if (typeof assertion !== 'string') return undefined;
  try {
    const { kid } = decodeProtectedHeader(assertion);
    return typeof kid === 'string' && kid.length > 0 && kid.length <= 256 ? kid : undefined;
  } catch {
    return undefined;
  }
}
