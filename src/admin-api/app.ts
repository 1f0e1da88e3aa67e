/**
 * The admin API as a Koa app: match a row of the route table → authenticate (401/403) → validate path,
 * query and body with the row's zod schemas (400 naming the field) → call the admin service → JSON.
 * Authentication comes first so an unauthenticated caller learns nothing from validation errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import Koa, { type Context } from 'koa';
import type { Logger } from 'pino';
import { CertboundError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { peerCertificateDer, type VerifierError } from '../verifier/index.js';
import type { AdminService } from '../app/service.js';
import { CONSOLE_PATH, createConsole } from '../console/index.js';
import { type AdminAuthenticatorOptions, createAdminAuthenticator } from './auth.js';
import { inAdminApiWords, toAdminError, validationError } from './errors.js';
import { buildOpenApiDocument } from './openapi.js';
import { defineRoute, matchRoute, type Route } from './router.js';
import { type AdminRoutesOptions, buildAdminRoutes } from './routes.js';
import { buildConsoleRoutes, type RefusalLog } from './routes-console.js';
import { NoQuery, OpenApiDocumentSchema } from './schemas.js';

/** Largest accepted request body (a PEM chain fits many times over). */
export const MAX_BODY_BYTES = 256 * 1024;

export interface AdminApiOptions {
  /**
   * The admin use cases, or how to load them: then they are loaded (and the server opens knex) on the
   * first authenticated request that needs them, not for a request that is refused or public.
   */
  service: AdminService | (() => Promise<AdminService>);
  /** How the authenticator reads a token's client; default: the service's showClient. */
  findClient?: AdminAuthenticatorOptions['findClient'];
  /** This server's issuer: the `iss` of admin tokens. */
  issuer: string;
  /** The admin API's resource identifier: the `aud` of admin tokens. */
  adminResource: string;
  /** The server's current public signing keys. */
  keySet: () => JSONWebKeySet;
  /** Token endpoint (mTLS alias) that issues admin tokens (OpenAPI security scheme). */
  tokenUrl: string;
  logger: Logger;
  /** DER of the client certificate of a request; default: the TLS handshake of its connection. */
  certificateOf?: (req: IncomingMessage) => Buffer | undefined;
  /** See AdminAuthenticatorOptions.certificateStillAuthenticates. */
  certificateStillAuthenticates?: AdminAuthenticatorOptions['certificateStillAuthenticates'];
  /** See AdminAuthenticatorOptions.certificateTrustAnchor. */
  certificateTrustAnchor?: AdminAuthenticatorOptions['certificateTrustAnchor'];
  /** Applies a trust-anchor or signing-key change to the running server at once. */
  onChange?: (what: 'trust_anchors' | 'signing_keys') => Promise<void>;
  /** The diagnosis engine behind POST /admin/diagnose. */
  diagnose?: AdminRoutesOptions['diagnose'];
  /** The server's recent refusals, looked up by the ref a client was given (GET /admin/refusals/{ref}). */
  refusals?: RefusalLog;
  /** Where the built console is; default dist/console of this package. */
  consoleAssetsDir?: string;
  version?: string;
}

export interface AdminApi {
  /** Every route served, the OpenAPI document's included. */
  readonly routes: readonly Route[];
  /** Node request handler for paths under /admin. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The route template of a request (a bounded metrics label), or undefined when no route matches. */
  routeTemplate(method: string, rawPath: string): string | undefined;
  openApiDocument(): Record<string, unknown>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new CertboundError('ERR_BODY_TOO_LARGE', `body: larger than ${MAX_BODY_BYTES} bytes`, { status: 413, expose: true });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new CertboundError('ERR_BODY_TOO_LARGE', `body: larger than ${MAX_BODY_BYTES} bytes`, { status: 413, expose: true });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function parseBody(ctx: Context, route: Route): Promise<unknown> {
  const text = await readBody(ctx.req);
  if (!route.body) {
    if (text.trim()) throw new InvalidInputError('ERR_BODY_UNEXPECTED', `body: ${route.method} ${route.path} takes no request body`);
    return undefined;
  }
  if (!text.trim()) {
    if (route.bodyOptional) return {};
    throw new InvalidInputError('ERR_VALIDATION', 'body: a JSON object is required', { details: { field: 'body' } });
  }
  if (!ctx.is('application/json')) {
    throw new CertboundError('ERR_CONTENT_TYPE', 'content-type: send the body as application/json', { status: 415, expose: true, details: { field: 'content-type' } });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError('ERR_JSON_INVALID', `body: not valid JSON (${(cause as Error).message})`, { details: { field: 'body' } });
  }
}

/**
 * Creates the admin API over the admin service.
 *
 * @example
 * const api = createAdminApi({ service, issuer, adminResource: `${issuer}/admin`, keySet: () => jwks,
 *   tokenUrl: `${mtlsUrl}/token`, logger });
 * https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, (req, res) =>
 *   req.url?.startsWith('/admin') ? api.handle(req, res) : other(req, res));
 */
export function createAdminApi(options: AdminApiOptions): AdminApi {
  const { logger } = options;
  const service = typeof options.service === 'function' ? loadedOnUse(options.service) : options.service;
  const findClient: AdminAuthenticatorOptions['findClient'] =
    options.findClient ??
    ((clientId) =>
      service.showClient(clientId).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }));
  const auth = createAdminAuthenticator({
    issuer: options.issuer,
    audience: options.adminResource,
    keySet: options.keySet,
    findClient,
    certificateOf: options.certificateOf,
    certificateStillAuthenticates: options.certificateStillAuthenticates,
    certificateTrustAnchor: options.certificateTrustAnchor,
    onReject: (err: VerifierError, req: IncomingMessage) =>
      logger.info({ event: 'admin_auth_refused', reason: err.code, status: err.status, detail: err.message, path: req.url?.split('?')[0] }, 'admin request refused'),
  });
  const adminConsole = createConsole({
    listClients: () => service.listClients(),
    findClient,
    certificateOf: options.certificateOf ?? peerCertificateDer,
    certificateStillAuthenticates: options.certificateStillAuthenticates,
    certificateTrustAnchor: options.certificateTrustAnchor,
    adminResource: options.adminResource,
    logger,
    assetsDir: options.consoleAssetsDir,
  });

  let document: Record<string, unknown> | undefined;
  const openApiRoute = defineRoute({
    method: 'GET',
    path: '/admin/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document (no token needed)',
    tag: 'meta',
    access: 'public',
    query: NoQuery,
    response: { status: 200, description: 'The OpenAPI document', schema: OpenApiDocumentSchema },
    handler: async () => ({ status: 200, body: openApiDocument() }),
  });
  const routes: Route[] = [
    openApiRoute,
    ...buildAdminRoutes({ service, adminResource: options.adminResource, onChange: options.onChange, diagnose: options.diagnose }),
    ...buildConsoleRoutes({ service, refusals: options.refusals, onChange: options.onChange }),
  ];
  function openApiDocument(): Record<string, unknown> {
    document ??= buildOpenApiDocument(routes, { tokenUrl: options.tokenUrl, adminResource: options.adminResource, version: options.version ?? '1' });
    return document;
  }

  async function dispatch(ctx: Context): Promise<void> {
    const match = matchRoute(routes, ctx.method, ctx.path);
    if (match.kind === 'not_found')
      throw new CertboundError('ERR_ROUTE_UNKNOWN', `There is no admin route ${ctx.path}.`, { status: 404, expose: true, hint: 'GET /admin/openapi.json lists the routes.' });
    if (match.kind === 'method_not_allowed') {
      ctx.set('Allow', match.allowed.join(', '));
      throw new CertboundError('ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${match.allowed.join(', ')}.`, { status: 405, expose: true });
    }
    const { route } = match;
    // A console session (cookie, same certificate, anti-CSRF token on writes) or a certificate-bound token.
    const principal = route.access === 'public' ? undefined : ((await adminConsole.authenticate(ctx, route.access)) ?? (await auth.authenticate(ctx.req, route.access)));

    const params = (route.params ?? NoQuery).safeParse(match.params);
    if (!params.success) throw validationError('path', params.error);
    const query = (route.query ?? NoQuery).safeParse({ ...ctx.query });
    if (!query.success) throw validationError('query', query.error);
    const raw = await parseBody(ctx, route);
    let body: unknown;
    if (route.body) {
      const parsed = route.body.safeParse(raw);
      if (!parsed.success) throw validationError('body', parsed.error);
      body = parsed.data;
    }

    let result: Awaited<ReturnType<Route['handler']>>;
    try {
      result = await route.handler({ params: params.data, query: query.data, body, principal });
    } catch (err) {
      throw inAdminApiWords(err, route.fields);
    }
    if (route.access === 'write') {
      logger.info({ event: 'admin_change', actor: principal?.actor, operation: route.operationId, path: ctx.path, status: result.status }, 'admin change');
    }
    ctx.status = result.status;
    if (result.body !== undefined) ctx.body = result.body;
  }

  const app = new Koa();
  app.use(async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      if (ctx.path === CONSOLE_PATH || ctx.path.startsWith(`${CONSOLE_PATH}/`)) await adminConsole.handle(ctx);
      else await dispatch(ctx);
    } catch (err) {
      const out = toAdminError(err);
      if (out.status >= 500) logger.error({ event: 'admin_internal_error', err, path: ctx.path, method: ctx.method }, 'admin API internal error');
      else logger.debug({ event: 'admin_request_refused', code: out.body.code, message: out.body.message, path: ctx.path }, 'admin request refused');
      ctx.status = out.status;
      for (const [name, value] of Object.entries(out.headers)) ctx.set(name, value);
      ctx.body = out.body;
    }
  });
  const callback = app.callback();

  return {
    routes,
    handle: (req, res) => {
      callback(req, res);
    },
    routeTemplate(method, rawPath) {
      const m = matchRoute(routes, method, rawPath);
      return m.kind === 'found' ? m.route.path : undefined;
    },
    openApiDocument,
    close: () => auth.close(),
  };
}

/**
 * The admin service behind a loader: every use case (all of them return promises) waits for the load,
 * which happens once, on the first call.
 */
function loadedOnUse(load: () => Promise<AdminService>): AdminService {
  return new Proxy({} as AdminService, {
    get: (_target, name) => {
      // not a thenable: `await service` must not call the loader
      if (name === 'then') return undefined;
      return async (...args: unknown[]) => {
        const service = (await load()) as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
        return service[name]!(...args);
      };
    },
  });
}
