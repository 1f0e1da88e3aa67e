/**
 * Which part of the server answers a request, by listener and path: the admin API (on its listener
 * only), /metrics (main listener, when enabled), /healthz and /readyz, and everything else oidc-provider
 * (whose own middleware, provider-host.ts, answers the form endpoints' wrong methods and queries).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type Queryable, sqlOf } from '../store/index.js';
import { DatabaseUnavailableError, databaseTimeoutOf } from '../store/unavailable.js';
import { type AdminApi, adminErrorBody } from './admin-wiring.js';
import type { FailureLog } from './failures.js';
import type { Listener } from './listeners.js';
import type { Metrics } from './metrics.js';

export interface DispatchOptions {
  config: Pick<Config, 'issuer' | 'metrics' | 'database'>;
  db: Queryable;
  logger: Logger;
  metrics: Metrics;
  failures: FailureLog;
  /** Which listener serves /admin. */
  adminListener: Listener;
  /** Where /admin is served, for a request that came to another listener. */
  adminBaseUrl(): string;
  /** The admin API, loaded on the first /admin request. */
  adminApi(): Promise<AdminApi>;
  /** Dynamic client registration (RFC 7591/7592), served on the mTLS listener. */
  registration?: {
    handles(path: string): boolean;
    handle(req: IncomingMessage, res: ServerResponse, path: string): void;
    refuseOnMainListener(res: ServerResponse, path: string): void;
  };
  /** oidc-provider's request handler (the current provider's). */
  oauth(req: IncomingMessage, res: ServerResponse): void;
  /** Seconds a client is told to wait when the database cannot answer now. */
  retryAfterS: number;
}

/** The request URL without its query; no allocation when there is none (the usual token request). */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** The request handler of each listener. */
export function createDispatch(options: DispatchOptions): (listener: Listener) => (req: IncomingMessage, res: ServerResponse) => void {
  const { config, db, logger, metrics, failures, adminListener, retryAfterS } = options;
  const issuerHost = new URL(config.issuer).host;
  const readyTimeoutMs = databaseTimeoutOf(config.database);

  function admin(req: IncomingMessage, res: ServerResponse, listener: Listener, path: string): void {
    if (listener !== adminListener) {
      metrics.observe(req, res, listener, '/admin/*', path);
      sendJson(
        res,
        404,
        adminErrorBody(
          'ERR_ADMIN_WRONG_LISTENER',
          `The admin API is served at ${options.adminBaseUrl()}/admin (${adminListener === 'mtls' ? 'the mTLS listener' : 'the admin listener'}).`,
        ),
      );
      return;
    }
    options.adminApi().then(
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
  }

  function renderMetrics(res: ServerResponse): void {
    metrics.render().then(
      ({ contentType, body }) => sendJson(res, 200, body, contentType),
      (err: unknown) => {
        logger.error({ event: 'metrics_failed', err }, 'metrics collection failed');
        sendJson(res, 500, adminErrorBody('ERR_INTERNAL', 'metrics collection failed; see the server log'));
      },
    );
  }

  function readiness(res: ServerResponse): void {
    // Answers within the database timeout even when the store itself has none (a knex instance given by an embedder).
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailableError(`the database did not answer within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    });
    Promise.race([sqlOf(db).all('select 1'), deadline])
      .then(() => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"status":"ready"}'))
      .catch((err: unknown) => {
        const ref = failures.record('readiness_failed', err, 'readiness check failed: database unreachable');
        res
          .writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': String(retryAfterS) })
          .end(JSON.stringify({ status: 'unavailable', reason: 'database unreachable', ref }));
      })
      .finally(() => clearTimeout(timer));
  }

  return (listener) => (req, res) => {
    const path = pathOf(req.url);
    if (path === '/admin' || path.startsWith('/admin/')) {
      admin(req, res, listener, path);
      return;
    }
    metrics.observe(req, res, listener, undefined, path);
    if (listener === 'admin') {
      sendJson(res, 404, adminErrorBody('ERR_ROUTE_UNKNOWN', 'The admin listener serves /admin only.'));
      return;
    }
    if (path === '/metrics' && listener === 'main' && config.metrics) {
      renderMetrics(res);
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      readiness(res);
      return;
    }
    if (options.registration?.handles(path)) {
      if (listener === 'mtls') options.registration.handle(req, res, path);
      else options.registration.refuseOnMainListener(res, path);
      return;
    }
    // Endpoint URLs are derived from the configured issuer, never from the request's Host header.
    req.headers.host = issuerHost;
    options.oauth(req, res);
  };
}
