/**
 * Prometheus metrics (prom-client), one registry per server so several servers in one process (tests)
 * never share counters. Label values are bounded: client ids are registered clients, reasons are the
 * refusal codes, routes are route templates or a fixed list.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A client's last-seen certificate: `notAfter` of the most recent certificate that authenticated it. */
export interface LastSeenCertificate {
  clientId: string;
  notAfter: Date;
}

export interface MetricsOptions {
  /** Source of the last-seen certificate gauge, read at scrape time; absent → the gauge has no series. */
  lastSeenCertificates?: () => Promise<readonly LastSeenCertificate[]>;
  /** Process metrics (CPU, memory, event loop) as well. Default true. */
  defaultMetrics?: boolean;
}

/** Paths served by oidc-provider and the plain handler that get their own route label. */
const KNOWN_PATHS = new Set([
  '/token',
  '/token/introspection',
  '/token/revocation',
  '/jwks',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/healthz',
  '/readyz',
  '/metrics',
]);

export interface Metrics {
  readonly registry: Registry;
  tokenIssued(clientId: string, format: string): void;
  clientAuthRefused(reason: string): void;
  /**
   * Times a request until its response is finished; `route` is a template for admin routes, else one of
   * the known paths, else `other` (so random paths cannot grow the label set). `path` is the request URL
   * without its query.
   */
  observe(req: IncomingMessage, res: ServerResponse, listener: string, route: string | undefined, path: string): void;
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const issued = new Counter({
    name: 'certbound_token_issued_total',
    help: 'Access tokens issued, by client and token format (jwt, opaque).',
    labelNames: ['client_id', 'format'] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'certbound_client_auth_refused_total',
    help: 'Client authentications refused (401 invalid_client), by reason code (SAN_MISMATCH, INTERMEDIATE_MISSING, …).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by listener, method, route and status code.',
    labelNames: ['listener', 'method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const lastSeen = options.lastSeenCertificates;
  new Gauge({
    name: 'certbound_client_certificate_not_after_seconds',
    help: 'notAfter (Unix seconds) of the last certificate each client authenticated with; alert on it minus time() to see expiries ahead.',
    labelNames: ['client_id'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!lastSeen) return;
      for (const seen of await lastSeen()) this.set({ client_id: seen.clientId }, Math.floor(seen.notAfter.getTime() / 1000));
    },
  });

  const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

  return {
    registry,
    tokenIssued: (clientId, format) => issued.inc({ client_id: clientId, format }),
    clientAuthRefused: (reason) => refused.inc({ reason }),
    observe(req, res, listener, route, path) {
      const start = performance.now();
      const label = route ?? (KNOWN_PATHS.has(path) ? path : 'other');
      const method = METHODS.has(req.method ?? '') ? req.method! : 'other';
      res.once('close', () => duration.observe({ listener, method, route: label, status_code: String(res.statusCode) }, (performance.now() - start) / 1000));
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
