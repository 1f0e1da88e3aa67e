import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { purgeExpiredPayloads, readRevisions, type Db, type SigningKey, signingKeys, type TrustAnchor, trustAnchors } from '../store/index.js';
import { createCertificateSource, withCertificateSource } from './certificate-source.js';
import { createMtlsHooks, MAX_CHAIN_CERTIFICATES, type Refusal } from './mtls.js';
import { buildProvider } from './provider.js';

export interface ServerTls {
  /** PEM: server certificate followed by its intermediates. */
  cert: string;
  key: string;
}

export interface StartServerOptions {
  config: Config;
  db: Db;
  logger: Logger;
  tls: ServerTls;
}

export interface ServerHandle {
  /** Base URL the main listener is reachable on (bound address and real port). */
  mainUrl: string;
  mtlsUrl: string;
  mainPort: number;
  mtlsPort: number;
  /** The oidc-provider instance currently serving requests (rebuilt when signing keys change). */
  provider(): Provider;
  /** Re-reads trust anchors and signing keys now instead of waiting for the poll. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
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
export async function startServer({ config, db, logger, tls }: StartServerOptions): Promise<ServerHandle> {
  let anchors: TrustAnchor[] = await trustAnchors.list(db);
  let anchorsByThumbprint = new Map(anchors.map((a) => [a.x5tS256, a]));
  let keys: SigningKey[] = await signingKeys.list(db, config.keyEncryptionKey);
  if (!keys.some((k) => k.status === 'active')) {
    throw new Error('There is no active signing key. Run `certbound keys rotate` (or start in development mode, which creates one).');
  }
  let revisions = await readRevisions(db);

  const onRefusal = (refusal: Refusal) => {
    logger.warn({ event: 'client_auth_refused', reason: refusal.code, ref: refusal.ref, client_id: refusal.clientId, x5t: refusal.thumbprint, details: refusal.details }, refusal.message);
  };
  const mtls = createMtlsHooks({ anchorsByThumbprint: () => anchorsByThumbprint, onRefusal });
  // Behind a TLS-terminating proxy (CERTBOUND_TRUSTED_PROXIES): forwarded certificates, see certificate-source.ts.
  const certificateSource = config.proxy ? createCertificateSource({ proxy: config.proxy, anchors: () => anchors, maxChainCertificates: MAX_CHAIN_CERTIFICATES }) : undefined;

  const makeProvider = () => {
    const p = buildProvider({ config, db, keys, mtls });
    p.use(async (ctx, next) => {
      await next();
      const body = ctx.body as { error?: string; error_description?: string } | undefined;
      const refusal = ctx.state.certboundRefusal as Refusal | undefined;
      if (body && typeof body === 'object' && body.error) {
        if (refusal && body.error === 'invalid_client') {
          // Safe for the client: no subject, no thumbprint; the log line with the same ref has the reason.
          body.error_description = `client authentication failed (ref ${refusal.ref}); the authorization server's log explains why`;
        }
        if (!refusal || body.error !== 'invalid_client') {
          logger.info({ event: 'oauth_error', route: ctx.oidc?.route, error: body.error, error_description: body.error_description, client_id: ctx.oidc?.client?.clientId }, 'request refused');
        }
      }
    });
    p.on('server_error', (_ctx, err) => logger.error({ err }, 'oidc-provider server_error'));
    return p;
  };
  let provider = makeProvider();
  let callback = provider.callback();

  const issuerHost = new URL(config.issuer).host;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url?.split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      db.raw('select 1')
        .then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}'))
        .catch((err: unknown) => {
          logger.error({ err }, 'readiness check failed: database unreachable');
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"unavailable","reason":"database unreachable"}');
        });
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
    minVersion: 'TLSv1.2' as const,
  });

  const mainServer = createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, withCertificateSource(handler, certificateSource, 'main', onRefusal));
  const mtlsServer = createHttpsServer({ ...tlsOptions(), requestCert: true, rejectUnauthorized: false }, withCertificateSource(handler, certificateSource, 'mtls', onRefusal));
  for (const s of [mainServer, mtlsServer]) {
    s.keepAliveTimeout = 30_000;
    s.headersTimeout = 35_000;
  }

  const mainPort = await listen(mainServer, config.port, config.host);
  const mtlsPort = await listen(mtlsServer, config.mtlsPort, config.host);

  async function reload(): Promise<void> {
    const next = await readRevisions(db);
    if (next.trust_anchors !== revisions.trust_anchors) {
      anchors = await trustAnchors.list(db);
      anchorsByThumbprint = new Map(anchors.map((a) => [a.x5tS256, a]));
      mtlsServer.setSecureContext(tlsOptions());
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
        logger.error('signing keys changed but none is active; keeping the previous keys');
      }
    }
    revisions = next;
  }

  let reloading = false;
  const reloadTimer = setInterval(() => {
    if (reloading) return;
    reloading = true;
    reload()
      .catch((err: unknown) => logger.error({ err }, 'reload failed'))
      .finally(() => {
        reloading = false;
      });
  }, config.reloadIntervalMs);
  reloadTimer.unref();
  const purgeTimer = setInterval(() => {
    purgeExpiredPayloads(db)
      .then((n) => n && logger.debug({ purged: n }, 'expired tokens purged'))
      .catch((err: unknown) => logger.error({ err }, 'purge failed'));
  }, config.purgeIntervalMs);
  purgeTimer.unref();

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    mainUrl: `https://${host}:${mainPort}`,
    mtlsUrl: `https://${host}:${mtlsPort}`,
    mainPort,
    mtlsPort,
    provider: () => provider,
    reload,
    async close() {
      clearInterval(reloadTimer);
      clearInterval(purgeTimer);
      await Promise.all(
        [mainServer, mtlsServer].map(
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
