/**
 * The token server, composed of parts with one job each:
 * - state.ts: the trust anchors, signing keys and revisions in memory, and the reload;
 * - revocation.ts: CRLs for OpenSSL and for what it does not see;
 * - client-certificate.ts, certificate-source.ts (forwarded-chain.ts), mtls.ts: where a request's
 *   certificate comes from and whether it authenticates a client (oidc-provider's mTLS hooks);
 * - provider.ts, grants/, provider-host.ts: oidc-provider and what certbound adds around it;
 * - admin-wiring.ts: the admin API over this server; jwks-uris.ts: what clients publish;
 * - dispatch.ts: which part answers which path; listeners.ts: the HTTPS listeners; timers.ts;
 * - loaders.ts: what is loaded on first use.
 */
import type { Logger } from 'pino';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import { createRevisionReader, type Db, type Queryable } from '../store/index.js';
import { databaseTimeoutOf } from '../store/unavailable.js';
import { type AdminApi, createAdminWiring, ensureAdminResource } from './admin-wiring.js';
import { createAuthObserver } from './auth-observer.js';
import { createRecentRefusals } from './recent-refusals.js';
import { createCertificateSource, withCertificateSource } from './certificate-source.js';
import { createClientCertificates } from './client-certificate.js';
import { createDispatch } from './dispatch.js';
import { createFailureLog } from './failures.js';
import { createInteractions, type EndUserLogin } from './interactions/index.js';
import { createServerJwksUris } from './jwks-uris.js';
import { lastSeenPerClient } from './last-seen.js';
import { createListeners, type ServerTls } from './listeners.js';
import { createLookupCache } from './lookup-cache.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createMtlsHooks } from './mtls.js';
import type { Refusal } from './peer-certificate.js';
import { createProviderHost } from './provider-host.js';
import { mtlsEndpointAliases } from './provider.js';
import { load, loadOnce } from './loaders.js';
import { createRegistrationEndpoint } from './registration/endpoint.js';
import { createRevocationManager } from './revocation.js';
import { loadServerState } from './state.js';
import { startTimers } from './timers.js';

export type { ServerTls } from './listeners.js';

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
  /**
   * How end users sign in for the authorization code flow (interactions/login.ts, the one extension
   * point): by default the upstream OpenID Provider an administrator configures.
   */
  login?: EndUserLogin;
  /** The upstream login's outbound fetch (tests with a private CA). Default: the global fetch. */
  upstreamFetch?: typeof fetch;
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

/**
 * Starts the HTTPS listeners (listeners.ts) over the records in the store. Every cache belongs to the
 * returned server: two servers in one process share nothing.
 */
export async function startServer({ config, db, knex, logger, tls, login, upstreamFetch }: StartServerOptions): Promise<ServerHandle> {
  // PKI-5: CRLs (docs/revocation.md), loaded before the listeners so that the first handshake checks them.
  const revocation = createRevocationManager({ db, logger, stalePolicy: config.crlStale, refreshIntervalMs: config.crlRefreshIntervalMs });
  const state = await loadServerState({ db, config, logger, revocation });
  await ensureAdminResource(db, config);
  const metrics = createMetrics({ lastSeenCertificates: () => lastSeenPerClient(db) });
  await revocation.load();

  // The client certificate of a request: its TLS handshake, or behind a trusted proxy
  // (CERTBOUND_TRUSTED_PROXIES) the forwarded one; both judged by the same leaf policy.
  const certificates = createClientCertificates();
  const source = config.proxy ? createCertificateSource({ proxy: config.proxy, anchors: state.anchors, certificates }) : undefined;
  const mtls = createMtlsHooks({
    anchorsByThumbprint: state.anchorsByThumbprint,
    certificates,
    forwardedCertificateOf: source?.forwardedCertificateOf,
    revocationCheck: revocation.check,
  });
  const onRefusal = (refusal: Refusal) => {
    logger.warn(
      { event: 'client_auth_refused', reason: refusal.code, ref: refusal.ref, client_id: refusal.clientId, x5t: refusal.thumbprint, details: refusal.details },
      refusal.message,
    );
  };

  // oidc-provider and what certbound adds around it.
  const jwksUris = createServerJwksUris({ config, logger });
  // Refusals in the mTLS hooks are logged by the observer, once, with the certificate's diagnosis.
  const refusals = createRecentRefusals();
  const observer = createAuthObserver({
    db,
    logger,
    peerCertificate: mtls.peerCertificate,
    anchors: state.anchors,
    crls: revocation.crls,
    crlStale: config.crlStale,
    publishedKeys: jwksUris.publishedKeys,
    publishedSetNote: jwksUris.publishedSetNote,
    onRefusal: refusals.add,
  });
  const revisionReader = await createRevisionReader(config.database);
  const lookups = createLookupCache(db, revisionReader, jwksUris.publishedKeys);
  // docs/reliability.md: failures are logged as one JSON line per kind and interval, and a request the
  // database cannot serve now is told when to retry.
  const failures = createFailureLog(logger);
  const retryAfterS = Math.max(1, Math.ceil(databaseTimeoutOf(config.database) / 1000));
  const listeners = createListeners({ config, tls, trust: () => ({ ca: state.anchors().map((a) => a.pem), ...revocation.tlsOptions() }) });
  // End-user sign-in (the upstream provider's relying party, loaded on the first sign-in) and consent.
  const endUserLogin = login
    ? async () => login
    : loadOnce(() =>
        load.upstreamLogin().then(({ createUpstreamLogin }) =>
          createUpstreamLogin({
            db,
            logger,
            ...(upstreamFetch ? { fetch: upstreamFetch } : {}),
            ...(config.outboundCaFile ? { caFile: config.outboundCaFile } : {}),
            keyEncryptionKey: config.keyEncryptionKey,
          }),
        ),
      );
  const interactions = createInteractions({ config, db, logger, login: endUserLogin, isMainListener: listeners.isMain });
  const provider = createProviderHost({
    config,
    db,
    logger,
    state,
    mtls,
    lookups,
    jwksUris: jwksUris.cache,
    observer,
    metrics,
    failures,
    retryAfterS,
    isMainListener: listeners.isMain,
    interactions,
  });

  const reload = () => state.reload({ trustChanged: listeners.refreshTrust, keysChanged: provider.rebuild });
  const admin = createAdminWiring({ config, db, knex, logger, state, mtls, revocation, jwksUris, refusals, reload });

  // RFC 7591/7592 on the mTLS listener (registration/); the use cases load, with knex, on the first request.
  const registration = createRegistrationEndpoint({
    load: loadOnce(() =>
      Promise.all([admin.knex(), load.registrations()]).then(([k, { createRegistrationUseCases, registeredMetadata }]) => ({
        useCases: createRegistrationUseCases({
          db: k,
          outboundCaFile: config.outboundCaFile,
          jwksUriAllowedRanges: config.jwksUriAllowedRanges,
          onJwksUriFailure: jwksUris.logFailure,
        }),
        registeredMetadata,
      })),
    ),
    mtls,
    registrationUrl: mtlsEndpointAliases(config.mtlsUrl).registration_endpoint,
    logger,
    failures,
    retryAfterS,
  });

  // Which part answers which path, on each listener; the certificate source reads a forwarded
  // certificate first (main and mTLS listeners: the admin listener takes the handshake's only).
  const dispatch = createDispatch({
    config,
    db,
    logger,
    metrics,
    failures,
    adminListener: listeners.adminListener,
    adminBaseUrl: listeners.adminBaseUrl,
    adminApi: admin.api,
    registration,
    oauth: provider.handle,
    retryAfterS,
  });
  listeners.handle((listener) => (listener === 'admin' ? dispatch(listener) : withCertificateSource(dispatch(listener), source, listener, onRefusal)));
  try {
    await listeners.listen();
  } catch (err) {
    await revisionReader.close().catch(() => {});
    throw err;
  }
  revocation.start();
  const stopTimers = startTimers({ config, db, logger, failures, reload });

  return {
    ...listeners.urls(),
    admin: admin.api,
    metrics,
    provider: provider.current,
    reload,
    async close() {
      stopTimers();
      failures.close();
      await revisionReader.close();
      await revocation.close();
      await jwksUris.cache.close();
      await observer.flush();
      await admin.api.loaded()?.then(
        (api) => api.close(),
        () => {},
      );
      await listeners.close();
    },
  };
}
