import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { AdminApi } from '../admin-api/index.js';
import { adminErrorBody } from '../admin-api/errors.js';
import { ADMIN_SCOPES } from '../admin-api/scopes.js';
import type { JwksUriCache, PublishedKind } from '../outbound/jwks-uri-cache.js';
import type { AdminService } from '../app/service.js';
import type { Config } from '../config/index.js';
import { CertboundError } from '../errors/index.js';
import { clients, createRevisionReader, type Db, ensureResourceServerScopes, type LastSeenCertificate, listLastSeen, purgeExpiredPayloads, type Queryable, readRevisions, resourceServers, type SigningKey, signingKeys, sqlOf, type TrustAnchor, trustAnchors } from '../store/index.js';
import { createCertificateSource, withCertificateSource } from './certificate-source.js';
import { createMtlsHooks, MAX_CHAIN_CERTIFICATES, type Refusal } from './mtls.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createLookupCache } from './lookup-cache.js';
import { buildProvider, mtlsEndpointAliases, trimDiscovery } from './provider.js';
import { clarifyScopeError, mtlsAliasHint } from './error-hints.js';
import { createAuthObserver } from './auth-observer.js';
import { createFailureLog, respondWithFailure, TooManyPendingRequestsError } from './failures.js';
import { DatabaseUnavailableError, databaseTimeoutOf } from '../store/unavailable.js';
import { createRevocationManager } from './revocation.js';
import { createFormEndpoints } from './form-endpoints.js';
import { clearCertificateVerifyErrors } from './verify-errors.js';
import { createRegistrationEndpoint } from './registration/endpoint.js';

/** The listeners: main (no client certificate), mTLS, and the optional admin listener. */
type Listener = 'main' | 'mtls' | 'admin';

export interface ServerTls {
  /** PEM: server certificate followed by its intermediates. */
  cert: string;
  key: string;
}

export interface StartServerOptions {
  config: Config;
  /**
   * The store. `certbound serve` gives the drivers' connection (store/driver.ts), so that a server that
   * only issues tokens never loads knex (docs/decisions/001-knex-off-the-hot-path.md); tests and embedders may give a knex instance.
   */
  db: Queryable;
  /** knex, for the admin use cases, opened when the admin API first needs them. Default: `db`, when it is knex. */
  knex?: () => Promise<Db>;
  logger: Logger;
  tls: ServerTls;
}

export interface ServerHandle {
  /** Base URL the main listener is reachable on (bound address and real port). */
  mainUrl: string;
  mtlsUrl: string;
  mainPort: number;
  mtlsPort: number;
  /** Base URL of the listener serving /admin: the mTLS listener, or the admin listener (CERTBOUND_ADMIN_PORT). */
  adminUrl: string;
  /** The admin API (its route table drives dispatch and the OpenAPI document), loaded on first use. */
  admin(): Promise<AdminApi>;
  metrics: Metrics;
  /** The oidc-provider instance currently serving requests (rebuilt when signing keys change). */
  provider(): Provider;
  /** Re-reads trust anchors and signing keys now instead of waiting for the poll. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** The request URL without its query; no allocation when there is none (the usual token request). */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * A part of the server loaded on first use: every caller shares one load; a load that failed is tried
 * again by the next caller. `loaded()` is the load started so far, if any (to close what was loaded).
 */
function loadOnce<T>(load: () => Promise<T>): (() => Promise<T>) & { loaded(): Promise<T> | undefined } {
  let loading: Promise<T> | undefined;
  const get = () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
  return Object.assign(get, { loaded: () => loading });
}

/** Listens; a port that is taken or not allowed is explained with the setting that chose it. */
function listen(server: Server, port: number, host: string, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        const what = err.code === 'EADDRINUSE' ? 'is already in use by another process' : err.code === 'EACCES' ? 'may not be opened by this user' : 'is not an address of this host';
        reject(
          new CertboundError('ERR_LISTEN', `Cannot listen on ${host}:${port} (${setting}): the ${err.code === 'EADDRNOTAVAIL' ? 'address' : 'port'} ${what}.`, {
            status: 500,
            cause: err,
            hint: `Stop the other process, or choose another port with ${setting} (CERTBOUND_HOST for the address).`,
          }),
        );
      } else reject(err);
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the two HTTPS listeners: the main one (discovery, JWKS, health; no client certificate
 * requested) and the mTLS one (token, introspection, revocation; a client certificate is requested,
 * chain verified by OpenSSL against the trust anchors from SQL, but not required so that errors are
 * OAuth errors rather than handshake failures).
 */
export async function startServer({ config, db, knex, logger, tls }: StartServerOptions): Promise<ServerHandle> {
  const openKnex =
    knex ??
    (async () => {
      if (sqlOf(db) === db) throw new Error('startServer: the admin use cases need knex; pass `knex` with a driver connection');
      return db as Db;
    });
  let anchors: TrustAnchor[] = await trustAnchors.list(db);
  let anchorsByThumbprint = new Map(anchors.map((a) => [a.x5tS256, a]));
  let keys: SigningKey[] = await signingKeys.list(db, config.keyEncryptionKey);
  if (!keys.some((k) => k.status === 'active')) {
    throw new CertboundError('ERR_NO_ACTIVE_KEY', 'There is no active signing key, so no token could be signed.', {
      status: 503,
      hint: 'Run `certbound keys rotate` with the same database (and CERTBOUND_KEY_ENCRYPTION_KEY), then start again; development mode creates one by itself.',
    });
  }
  let revisions = await readRevisions(db);

  // The admin API is a resource server of this very server: its resource (audience) is registered here,
  // idempotently, so `certbound client add … --scope certbound:admin --resource <it>` works.
  // The admin use cases are loaded when the admin API first needs them, so a server that only issues
  // tokens never holds them (docs/performance.md, memory); its own admin resource is checked with the store directly.
  // A failed jwks_uri fetch (registration through the admin API, or on use): the reason the caller got and
  // the full error, here only.
  const logJwksUriFailure = ({ uri, reason, error }: { uri: string; reason: string; error: unknown }) => logger.warn({ event: 'jwks_uri_fetch_failed', uri, err: error }, `jwks_uri ${uri}: ${reason}`);
  const adminService = loadOnce<AdminService>(() =>
    Promise.all([openKnex(), import('../app/service.js')]).then(([k, { createAdminService }]) => createAdminService({ db: k, keyEncryptionKey: config.keyEncryptionKey, signingAlg: config.signingAlg, outboundCaFile: config.outboundCaFile, jwksUriAllowedRanges: config.jwksUriAllowedRanges, onJwksUriFailure: logJwksUriFailure })),
  );
  const adminResource = await resourceServers.find(db, config.adminResource);
  if (!adminResource || !ADMIN_SCOPES.every((s) => adminResource.scopes.includes(s))) {
    await ensureResourceServerScopes(db, config.adminResource, ADMIN_SCOPES, 'system:admin-api');
  }
  const metrics = createMetrics({
    // Per client, the certificate seen last (a client may have several mappings, each with its last certificate).
    lastSeenCertificates: async () => {
      const latest = new Map<string, LastSeenCertificate>();
      for (const seen of await listLastSeen(db)) {
        const known = latest.get(seen.clientId);
        if (!known || seen.seenAt > known.seenAt) latest.set(seen.clientId, seen);
      }
      return [...latest.values()];
    },
  });
  let publishedFor: SigningKey[] | undefined;
  let publishedJwks: { keys: JWK[] } = { keys: [] };
  /** The keys in the JWKS, for the admin API's token verification (no HTTP round trip to ourselves). */
  const publicKeySet = () => {
    if (publishedFor !== keys) {
      publishedJwks = { keys: keys.map((k) => k.publicJwk) };
      publishedFor = keys;
    }
    return publishedJwks;
  };

  const onRefusal = (refusal: Refusal) => {
    logger.warn({ event: 'client_auth_refused', reason: refusal.code, ref: refusal.ref, client_id: refusal.clientId, x5t: refusal.thumbprint, details: refusal.details }, refusal.message);
  };
  // PKI-5: CRLs (README "Revocation"), loaded before the listeners so that the first handshake checks them.
  const revocation = createRevocationManager({ db, logger, stalePolicy: config.crlStale, refreshIntervalMs: config.crlRefreshIntervalMs });
  await revocation.load();
  // Refusals in the mTLS hooks are logged by the observer, once, with the certificate's diagnosis.
  const mtls = createMtlsHooks({ anchorsByThumbprint: () => anchorsByThumbprint, revocationCheck: revocation.check });
  // SS-4: the server's fetched copy of a self-signed client's jwks_uri (set up below, loaded on first use).
  let jwksUriCache: JwksUriCache | undefined;
  const publishedKeys = (clientId: string, uri: string, kind?: PublishedKind) => jwksUriCache?.peek(clientId, uri, kind).jwks;
  const publishedSetNote = (clientId: string): string | undefined => {
    const status = jwksUriCache?.status(clientId);
    if (!status) return undefined;
    const t = Date.now();
    const waitS = Math.ceil((status.attemptedAt + config.jwksUriMinRefreshMs - t) / 1000);
    return (
      ` It is not in the set the client publishes at ${status.uri}, as last fetched ${Math.round((t - (status.fetchedAt || status.attemptedAt)) / 1000)} s ago;` +
      ` for an unknown certificate the set is fetched again at most every ${config.jwksUriMinRefreshMs / 1000} s (CERTBOUND_JWKS_URI_MIN_REFRESH_MS)` +
      (waitS > 0 ? `, so a certificate published since is seen in ${waitS} s: retry then.` : '.')
    );
  };
  const observer = createAuthObserver({ db, logger, peerCertificate: mtls.peerCertificate, anchors: () => anchors, crls: revocation.crls, crlStale: config.crlStale, publishedKeys, publishedSetNote });
  // Behind a TLS-terminating proxy (CERTBOUND_TRUSTED_PROXIES): forwarded certificates, see certificate-source.ts.
  const certificateSource = config.proxy ? createCertificateSource({ proxy: config.proxy, anchors: () => anchors, maxChainCertificates: MAX_CHAIN_CERTIFICATES }) : undefined;

  const revisionReader = await createRevisionReader(config.database);
  // SS-4: clients that publish their certificates (self-signed) or assertion keys (private_key_jwt) at a
  // jwks_uri. The fetching code (undici) loads when the first such client makes a request.
  const loadJwksUris = loadOnce<JwksUriCache>(() =>
    Promise.all([import('../outbound/jwks-uri-cache.js'), import('../jwks/self-signed.js'), import('../jwks/private-key-jwt.js')]).then(
      ([{ createJwksUriCache }, { validateSelfSignedJwks }, { validatePrivateKeyJwtJwks }]) => {
        jwksUriCache = createJwksUriCache({
          ca: config.outboundCaFile ? readFileSync(config.outboundCaFile, 'utf8') : undefined,
          minRefreshMs: config.jwksUriMinRefreshMs,
          allowedRanges: config.jwksUriAllowedRanges,
          onFailure: logJwksUriFailure,
          validate: (text, kind) => (kind === 'keys' ? validatePrivateKeyJwtJwks(text) : validateSelfSignedJwks(text)),
        });
        return jwksUriCache;
      },
    ),
  );
  const jwksUris: JwksUriCache = {
    peek: (clientId, uri, kind) => jwksUriCache?.peek(clientId, uri, kind) ?? { uri, jwks: undefined, thumbprints: new Set(), kids: new Set(), fetchedAt: 0, error: undefined },
    ensure: async (clientId, uri, need, kind) => (await loadJwksUris()).ensure(clientId, uri, need, kind),
    status: (clientId) => jwksUriCache?.status(clientId),
    close: async () => jwksUriCache?.close(),
  };
  const lookups = createLookupCache(db, revisionReader, publishedKeys);
  // docs/reliability.md: failures are logged as one JSON line per kind and interval, and a request the
  // database cannot serve now is told when to retry.
  const failures = createFailureLog(logger);
  const retryAfterS = Math.max(1, Math.ceil(databaseTimeoutOf(config.database) / 1000));
  /** Token, introspection and revocation requests in progress (bounded by CERTBOUND_MAX_PENDING_REQUESTS). */
  let pending = 0;
  const aliases = mtlsEndpointAliases(config.mtlsUrl);
  const makeProvider = () => {
    const p = buildProvider({ config, db, keys, mtls, lookups, jwksUris });
    const formEndpoints = createFormEndpoints((route) => p.pathFor(route));
    // certbound's one middleware on the provider (one async frame per request):
    // - before: a request beyond CERTBOUND_MAX_PENDING_REQUESTS is refused at once; one revision read per
    //   request keeps cached clients/resources exact (see lookup-cache.ts);
    // - after: the auth observer (refusal log with diagnosis, last seen), the refusal metric, and the
    //   error description that points the client at the log line (its ref);
    // - around: whatever fails outside oidc-provider's error handling (the revision read on a database
    //   that is down), and oidc-provider's own server_error, becomes an OAuth JSON error with a ref.
    p.use(async (ctx, next) => {
      const counted = !ctx.path.startsWith('/.well-known/') && ctx.path !== '/jwks';
      if (counted) {
        if (pending >= config.maxPendingRequests) {
          respondWithFailure(ctx, new TooManyPendingRequestsError(config.maxPendingRequests), failures, retryAfterS);
          return;
        }
        pending++;
      }
      try {
        if (counted) await lookups.refresh();
        await next();
      } catch (err) {
        respondWithFailure(ctx, err, failures, retryAfterS);
        return;
      } finally {
        if (counted) pending--;
      }
      const failure = ctx.state.certboundFailure;
      if (failure !== undefined) {
        respondWithFailure(ctx, failure, failures, retryAfterS);
        return;
      }
      if (formEndpoints.refuseOtherMethod(ctx)) return;
      if (ctx.oidc?.route === 'discovery' && ctx.body && typeof ctx.body === 'object') trimDiscovery(ctx.body as Record<string, unknown>);
      const logged = observer.observe(ctx as never);
      if (logged) await logged;
      const body = ctx.body as { error?: string; error_description?: string } | undefined;
      if (!body || typeof body !== 'object' || !body.error) return;
      const refusal = ctx.state.certboundRefusal as Refusal | undefined;
      // A client that ignored mtls_endpoint_aliases and sent no certificate is told where to go.
      const alias = refusal?.code === 'CERT_NOT_PRESENTED' && (ctx.req.socket as { server?: unknown }).server === mainServer ? mtlsAliasHint(ctx.oidc?.route, aliases) : undefined;
      if (body.error === 'invalid_client') {
        metrics.clientAuthRefused(refusal?.code ?? 'CLIENT_INVALID');
        if (refusal) {
          // Safe for the client: no subject, no thumbprint; the log line with the same ref has the reason.
          body.error_description = refusal.publicDescription
            ? `${refusal.message} (ref ${refusal.ref})`
            : alias
              ? `client authentication failed (ref ${refusal.ref}): ${alias}`
              : `client authentication failed (ref ${refusal.ref}); the authorization server's log explains why`;
          return;
        }
      }
      if (alias) body.error_description = `${body.error_description ?? body.error}: ${alias}`;
      clarifyScopeError(ctx.oidc?.route, body);
      formEndpoints.explainQuery(ctx, body);
      logger.info({ event: 'oauth_error', route: ctx.oidc?.route, error: body.error, error_description: body.error_description, client_id: ctx.oidc?.client?.clientId }, 'request refused');
    });
    // private_key_jwt (BT-2): oidc-provider decides on the client assertion; its reason (error_detail,
    // e.g. the aud rule or a replayed jti) becomes a coded refusal, logged with the ref the client sees.
    const assertionRefused = (ctx: { state: Record<string, unknown>; oidc?: { params?: Record<string, unknown>; client?: { clientId: string; tokenEndpointAuthMethod?: string } } }, err: { error?: string; error_detail?: string; error_description?: string }) => {
      const client = ctx.oidc?.client;
      if (err?.error !== 'invalid_client' || ctx.state.certboundRefusal || client?.tokenEndpointAuthMethod !== 'private_key_jwt') return;
      const refusal: Refusal = {
        code: 'CLIENT_ASSERTION_INVALID',
        message: ctx.oidc?.params?.client_assertion
          ? `The client assertion (private_key_jwt) of ${client.clientId} was refused: ${err.error_detail ?? err.error_description ?? 'client authentication failed'}.`
          : `${client.clientId} authenticates with private_key_jwt, but the request carried no client assertion; send client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer and a client_assertion signed with one of its registered keys.`,
        ref: randomUUID().slice(0, 8),
        clientId: client.clientId,
      };
      ctx.state.certboundRefusal = refusal;
    };
    for (const event of ['grant.error', 'introspection.error', 'revocation.error']) (p as unknown as { on(event: string, listener: unknown): void }).on(event, assertionRefused);
    // JWT access tokens are `issued` (not stored); opaque ones are `saved` in the adapter.
    p.on('client_credentials.issued', (token) => metrics.tokenIssued(String(token.clientId), 'jwt'));
    p.on('client_credentials.saved', (token) => metrics.tokenIssued(String(token.clientId), 'opaque'));
    // Answered and logged by certbound's middleware above (respondWithFailure), once it regains control.
    p.on('server_error', (ctx, err) => {
      ctx.state.certboundFailure = err;
    });
    // Koa's own error output is a multi-line stack trace on stderr: what still reaches it (a response
    // stream that fails after its headers were sent) is logged as JSON instead.
    (p as unknown as { on(event: 'error', listener: (err: unknown) => void): void }).on('error', (err) => {
      failures.record('http_error', err, 'an HTTP response failed');
    });
    return p;
  };
  let provider = makeProvider();
  let callback = provider.callback();

  const issuerHost = new URL(config.issuer).host;
  /** Which listener serves /admin (README "Admin API"). */
  const adminListener: Listener = config.adminPort === undefined ? 'mtls' : 'admin';
  // The admin API (routes, zod schemas, OpenAPI, diagnosis engine) is loaded on the first /admin request:
  // a server that only issues tokens does not keep it in memory (docs/performance.md, peak memory).
  const adminApi = loadOnce<AdminApi>(() =>
    Promise.all([import('../admin-api/index.js'), import('../app/diagnosis.js')]).then(([{ createAdminApi }, { diagnoseFromStore }]) =>
      createAdminApi({
        // Loaded (and knex opened) by the first authenticated request that needs a use case; the
        // authentication reads the token's client through the server's own store connection.
        service: adminService,
        findClient: (clientId) => clients.find(db, clientId),
        issuer: config.issuer,
        adminResource: config.adminResource,
        keySet: publicKeySet,
        tokenUrl: `${config.mtlsUrl}/token`,
        logger,
        // Behind a trusted proxy the certificate is the forwarded one, as at the token endpoint (mTLS listener only).
        // Through the mTLS hooks' reader (forwarded certificate, or this connection's): it reads the
        // issuer chain before anything asks Node for the bare leaf, after which Node no longer reports the
        // chain, and the trust anchor the certificate chains to (pinned mappings, the lock-out check) would
        // be unknown.
        certificateOf: (req) => mtls.peerCertificate({ req, state: {} })?.x509.raw,
        // For the lock-out check, by the anchor's current name: a connection remembers the anchor object it
        // found, and the anchor may have been removed and added again under another name since.
        certificateTrustAnchor: (req) => {
          const anchor = mtls.peerCertificate({ req, state: {} })?.anchor;
          return anchor ? anchorsByThumbprint.get(anchor.x5tS256)?.name : undefined;
        },
        // An admin token is bound to its certificate; that certificate must still authenticate the client.
        certificateStillAuthenticates: (req, client) =>
          mtls.stillAuthenticates(req, client, client.jwks ?? (client.jwksUri ? publishedKeys(client.clientId, client.jwksUri, 'certificates') : undefined)),
        // Trust-anchor and key changes apply to this server at once (other replicas: within the reload interval).
        // The change is committed by then: a reload that fails is logged, not reported as a failed change
        // (a 500 would make the administrator retry a change that is already made).
        onChange: () =>
          reload().catch((err: unknown) => {
            logger.error(
              { event: 'reload_failed', err },
              `The change is stored, but this server could not apply it yet (${(err as Error).message}); it tries again every ${config.reloadIntervalMs} ms (CERTBOUND_RELOAD_INTERVAL_MS).`,
            );
          }),
        // The engine of `certbound doctor` and of the refusal log line, over this server's anchors and CRLs.
        diagnose: ({ leaf, chain, clientId, now }) => diagnoseFromStore(db, { leaf, chain, clientId, now, anchors, crls: revocation.crls(), crlStale: config.crlStale, publishedKeys }),
      }),
    ),
  );
  // RFC 7591/7592 on the mTLS listener (registration/); the use cases load, with knex, on the first request.
  const registration = createRegistrationEndpoint({
    load: loadOnce(() =>
      Promise.all([openKnex(), import('../app/registrations.js')]).then(([k, { createRegistrationUseCases, registeredMetadata }]) => ({
        useCases: createRegistrationUseCases({ db: k, outboundCaFile: config.outboundCaFile, jwksUriAllowedRanges: config.jwksUriAllowedRanges, onJwksUriFailure: logJwksUriFailure }),
        registeredMetadata,
      })),
    ),
    mtls,
    registrationUrl: aliases.registration_endpoint,
    logger,
    failures,
  });
  let adminUrl = '';
  const sendJson = (res: ServerResponse, status: number, body: unknown, contentType = 'application/json') => {
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  /** certbound's own paths (admin API, metrics) on each listener, before the OAuth handler. */
  const handlerFor = (listener: Listener) => (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req.url);
    const isAdmin = path === '/admin' || path.startsWith('/admin/');
    if (isAdmin) {
      if (listener === adminListener) {
        adminApi().then(
          (api) => {
            metrics.observe(req, res, listener, api.routeTemplate(req.method ?? '', path) ?? '/admin/*', path);
            api.handle(req, res);
          },
          (err: unknown) => {
            metrics.observe(req, res, listener, '/admin/*', path);
            logger.error({ event: 'admin_api_load_failed', err }, 'loading the admin API failed');
            sendJson(res, 500, adminErrorBody('ERR_INTERNAL', 'the admin API could not be loaded; see the server log'));
          },
        );
        return;
      }
      metrics.observe(req, res, listener, '/admin/*', path);
      sendJson(res, 404, adminErrorBody('ERR_ADMIN_WRONG_LISTENER', `The admin API is served at ${adminUrl}/admin (${adminListener === 'mtls' ? 'the mTLS listener' : 'the admin listener'}).`));
      return;
    }
    metrics.observe(req, res, listener, undefined, path);
    if (listener === 'admin') {
      sendJson(res, 404, adminErrorBody('ERR_ROUTE_UNKNOWN', 'The admin listener serves /admin only.'));
      return;
    }
    if (path === '/metrics' && listener === 'main' && config.metrics) {
      metrics.render().then(
        ({ contentType, body }) => sendJson(res, 200, body, contentType),
        (err: unknown) => {
          logger.error({ event: 'metrics_failed', err }, 'metrics collection failed');
          sendJson(res, 500, adminErrorBody('ERR_INTERNAL', 'metrics collection failed; see the server log'));
        },
      );
      return;
    }
    if (listener === 'mtls' && registration.handles(path)) return registration.handle(req, res, path);
    handler(req, res, path);
  };
  const readyTimeoutMs = databaseTimeoutOf(config.database);
  const handler = (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      // Answers within the database timeout even when the store itself has none (a knex instance given by an embedder).
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DatabaseUnavailableError(`the database did not answer within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      });
      Promise.race([sqlOf(db).all('select 1'), deadline])
        .then(() => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"status":"ready"}'))
        .catch((err: unknown) => {
          const ref = failures.record('readiness_failed', err, 'readiness check failed: database unreachable');
          res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': String(retryAfterS) }).end(JSON.stringify({ status: 'unavailable', reason: 'database unreachable', ref }));
        })
        .finally(() => clearTimeout(timer));
      return;
    }
    // Endpoint URLs are derived from the configured issuer, never from the request's Host header.
    req.headers.host = issuerHost;
    callback(req, res);
  };

  const tlsOptions = () => ({
    cert: tls.cert,
    key: tls.key,
    // SC-5: only the configured trust anchors, never the system store (an empty list trusts nothing).
    ca: anchors.map((a) => a.pem),
    ...revocation.tlsOptions(),
    minVersion: 'TLSv1.2' as const,
  });

  const mainServer = createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, withCertificateSource(handlerFor('main'), certificateSource, 'main', onRefusal));
  const mtlsServer = createHttpsServer({ ...tlsOptions(), requestCert: true, rejectUnauthorized: false }, withCertificateSource(handlerFor('mtls'), certificateSource, 'mtls', onRefusal));
  // CERTBOUND_ADMIN_PORT: /admin on a listener of its own, asking for a client certificate like the mTLS one.
  const adminServer = config.adminPort === undefined ? undefined : createHttpsServer({ ...tlsOptions(), requestCert: true, rejectUnauthorized: false }, handlerFor('admin'));
  for (const s of [mainServer, mtlsServer, ...(adminServer ? [adminServer] : [])]) {
    s.keepAliveTimeout = 30_000;
    s.headersTimeout = 35_000;
    // No TLS 1.2 renegotiation: a connection keeps the client certificate of its handshake, which the
    // mTLS hooks read once per connection (TLS 1.3 has no renegotiation at all).
    s.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  }
  // A client certificate OpenSSL could not verify must still get an HTTP answer (verify-errors.ts).
  for (const s of [mtlsServer, ...(adminServer ? [adminServer] : [])]) s.on('secureConnection', clearCertificateVerifyErrors);

  let mainPort: number;
  let mtlsPort: number;
  let adminPort: number | undefined;
  try {
    mainPort = await listen(mainServer, config.port, config.host, 'CERTBOUND_PORT');
    mtlsPort = await listen(mtlsServer, config.mtlsPort, config.host, 'CERTBOUND_MTLS_PORT');
    adminPort = adminServer ? await listen(adminServer, config.adminPort!, config.host, 'CERTBOUND_ADMIN_PORT') : undefined;
  } catch (err) {
    // A listener that could not open leaves nothing behind: the others are closed, the reader's connection too.
    for (const s of [mainServer, mtlsServer, adminServer]) if (s?.listening) s.close();
    await revisionReader.close().catch(() => {});
    throw err;
  }
  revocation.start();

  async function reload(): Promise<void> {
    const next = await readRevisions(db);
    if (next.trust_anchors !== revisions.trust_anchors || revocation.contextOutdated()) {
      anchors = await trustAnchors.list(db);
      await revocation.load();
      anchorsByThumbprint = new Map(anchors.map((a) => [a.x5tS256, a]));
      mtlsServer.setSecureContext(tlsOptions());
      adminServer?.setSecureContext(tlsOptions());
      logger.info({ event: 'trust_anchors_reloaded', count: anchors.length }, 'trust anchors reloaded');
    }
    if (next.signing_keys !== revisions.signing_keys) {
      const loaded = await signingKeys.list(db, config.keyEncryptionKey);
      if (loaded.some((k) => k.status === 'active')) {
        keys = loaded;
        provider = makeProvider();
        callback = provider.callback();
        logger.info({ event: 'signing_keys_reloaded', kids: keys.map((k) => `${k.kid}:${k.status}`) }, 'signing keys reloaded');
      } else {
        logger.error({ event: 'signing_keys_no_active' }, 'signing keys changed but none is active; keeping the previous keys');
      }
    }
    revisions = next;
  }

  let reloading = false;
  const reloadTimer = setInterval(() => {
    if (reloading) return;
    reloading = true;
    reload()
      .catch((err: unknown) => failures.record('reload_failed', err, `reload failed (${(err as Error).message}); the server keeps its current trust anchors and keys and tries again in ${config.reloadIntervalMs} ms`))
      .finally(() => {
        reloading = false;
      });
  }, config.reloadIntervalMs);
  reloadTimer.unref();
  const purgeTimer = setInterval(() => {
    purgeExpiredPayloads(db)
      .then((n) => n && logger.debug({ event: 'tokens_purged', purged: n }, 'expired tokens purged'))
      .catch((err: unknown) => failures.record('purge_failed', err, 'purge of expired tokens failed; it is tried again at the next interval'));
  }, config.purgeIntervalMs);
  purgeTimer.unref();

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  adminUrl = adminPort === undefined ? config.mtlsUrl : `https://${host}:${adminPort}`;
  return {
    mainUrl: `https://${host}:${mainPort}`,
    mtlsUrl: `https://${host}:${mtlsPort}`,
    mainPort,
    mtlsPort,
    adminUrl: adminPort === undefined ? `https://${host}:${mtlsPort}` : adminUrl,
    admin: adminApi,
    metrics,
    provider: () => provider,
    reload,
    async close() {
      clearInterval(reloadTimer);
      clearInterval(purgeTimer);
      failures.close();
      await revisionReader.close();
      await revocation.close();
      await jwksUris.close();
      await observer.flush();
      await adminApi.loaded()?.then(
        (api) => api.close(),
        () => {},
      );
      await Promise.all(
        [mainServer, mtlsServer, ...(adminServer ? [adminServer] : [])].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
