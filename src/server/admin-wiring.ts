/**
 * The server's side of the admin API: its resource registered on this server, the admin use cases and
 * the admin API loaded on first use (loaders.ts), and what the API needs from the running server
 * (signing keys, the request's certificate and its trust anchor, a reload after a change, the
 * diagnosis over this server's anchors and CRLs). The only part of src/server that reaches admin-api/
 * and the admin use cases.
 */
import type { Logger } from 'pino';
import type { AdminApi } from '../admin-api/index.js';
import { ADMIN_SCOPES } from '../admin-api/scopes.js';
import type { AdminService } from '../app/service.js';
import type { Config } from '../config/index.js';
import { clients, type Db, ensureResourceServerScopes, type Queryable, resourceServers, sqlOf } from '../store/index.js';
import type { ServerJwksUris } from './jwks-uris.js';
import { load, loadOnce } from './loaders.js';
import type { MtlsHooks } from './mtls.js';
import type { RevocationManager } from './revocation.js';
import type { ServerState } from './state.js';
import type { createRecentRefusals } from './recent-refusals.js';

type RecentRefusals = ReturnType<typeof createRecentRefusals>;

export type { AdminApi } from '../admin-api/index.js';
/** The admin API's error body, for the server's own answers on /admin paths (a wrong listener, a failed load). */
export { adminErrorBody } from '../admin-api/errors.js';

/**
 * The admin API is a resource server of this very server: its resource (audience) is registered here,
 * idempotently, so `certbound client add … --scope certbound:admin --resource <it>` works. Checked with
 * the store directly: a server that only issues tokens never loads the admin use cases.
 */
export async function ensureAdminResource(db: Queryable, config: Pick<Config, 'adminResource'>): Promise<void> {
  const adminResource = await resourceServers.find(db, config.adminResource);
  if (!adminResource || !ADMIN_SCOPES.every((s) => adminResource.scopes.includes(s))) {
    await ensureResourceServerScopes(db, config.adminResource, ADMIN_SCOPES, 'system:admin-api');
  }
}

export interface AdminWiringOptions {
  config: Config;
  db: Queryable;
  /** knex, for the admin use cases, opened when they are first needed. Default: `db`, when it is knex. */
  knex?: (() => Promise<Db>) | undefined;
  logger: Logger;
  state: ServerState;
  mtls: MtlsHooks;
  revocation: RevocationManager;
  jwksUris: ServerJwksUris;
  /** This process's recent refusals, looked up by ref (`GET /admin/refusals/{ref}`). */
  refusals: RecentRefusals;
  /** Applies a stored change to this server now. */
  reload(): Promise<void>;
}

export interface AdminWiring {
  /** knex, opened on first use (the admin use cases and the registration endpoint share it). */
  knex: () => Promise<Db>;
  /** The admin use cases (knex opened with them). */
  service: () => Promise<AdminService>;
  /** The admin API; `loaded()` is set once a request asked for it (to close it). */
  api: (() => Promise<AdminApi>) & { loaded(): Promise<AdminApi> | undefined };
}

export function createAdminWiring({ config, db, knex, logger, state, mtls, revocation, jwksUris, refusals, reload }: AdminWiringOptions): AdminWiring {
  const openKnex =
    knex ??
    (async () => {
      if (sqlOf(db) === db) throw new Error('startServer: the admin use cases need knex; pass `knex` with a driver connection');
      return db as Db;
    });
  const service = loadOnce<AdminService>(() =>
    Promise.all([openKnex(), load.adminService()]).then(([k, { createAdminService }]) =>
      createAdminService({
        db: k,
        keyEncryptionKey: config.keyEncryptionKey,
        signingAlg: config.signingAlg,
        outboundCaFile: config.outboundCaFile,
        jwksUriAllowedRanges: config.jwksUriAllowedRanges,
        onJwksUriFailure: jwksUris.logFailure,
      }),
    ),
  );
  // The admin API (routes, zod schemas, OpenAPI, diagnosis engine) is loaded on the first /admin request:
  // a server that only issues tokens does not keep it in memory (docs/performance.md, peak memory).
  const api = loadOnce<AdminApi>(() =>
    Promise.all([load.adminApi(), load.diagnosis()]).then(([{ createAdminApi }, { diagnoseFromStore }]) =>
      createAdminApi({
        // Loaded (and knex opened) by the first authenticated request that needs a use case; the
        // authentication reads the token's client through the server's own store connection.
        service,
        findClient: (clientId) => clients.find(db, clientId),
        issuer: config.issuer,
        adminResource: config.adminResource,
        keySet: state.publicKeySet,
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
          return anchor ? state.anchorsByThumbprint().get(anchor.x5tS256)?.name : undefined;
        },
        // An admin token is bound to its certificate; that certificate must still authenticate the client.
        certificateStillAuthenticates: (req, client) =>
          mtls.stillAuthenticates(req, client, client.jwks ?? (client.jwksUri ? jwksUris.publishedKeys(client.clientId, client.jwksUri, 'certificates') : undefined)),
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
        diagnose: ({ leaf, chain, clientId, now }) =>
          diagnoseFromStore(db, {
            leaf,
            chain,
            clientId,
            now,
            anchors: state.anchors(),
            crls: revocation.crls(),
            crlStale: config.crlStale,
            publishedKeys: jwksUris.publishedKeys,
          }),
        refusals,
      }),
    ),
  );
  return { knex: openKnex, service, api };
}
