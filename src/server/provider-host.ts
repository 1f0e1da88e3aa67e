/**
 * The oidc-provider instance that serves requests, with what certbound adds around it: its one
 * middleware (pending-request bound, per-request revision read, refusal logging, error descriptions
 * that point at the log line) and its event handlers (issuance metrics from the grants, coded refusals
 * of client assertions, server errors). Rebuilt when the signing keys change.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { JwksUriCache } from '../outbound/jwks-uri-cache.js';
import type { Config } from '../config/index.js';
import type { Queryable } from '../store/index.js';
import type { AuthObserver } from './auth-observer.js';
import { clarifyScopeError, mtlsAliasHint } from './error-hints.js';
import { type FailureLog, respondWithFailure, TooManyPendingRequestsError } from './failures.js';
import { createFormEndpoints } from './form-endpoints.js';
import { type GrantError, GRANTS, grantOf } from './grants/index.js';
import type { Interactions } from './interactions/index.js';
import type { LookupCache } from './lookup-cache.js';
import type { Metrics } from './metrics.js';
import type { MtlsHooks } from './mtls.js';
import type { Refusal } from './peer-certificate.js';
import { buildProvider, mtlsEndpointAliases, trimDiscovery } from './provider.js';
import type { ServerState } from './state.js';

export interface ProviderHostOptions {
  config: Config;
  db: Queryable;
  logger: Logger;
  state: ServerState;
  mtls: MtlsHooks;
  lookups: LookupCache;
  jwksUris: JwksUriCache;
  observer: AuthObserver;
  metrics: Metrics;
  failures: FailureLog;
  /** Seconds a client is told to wait when the database cannot answer now. */
  retryAfterS: number;
  /** Whether a socket's server is the main listener (no client certificate there: point at the mTLS alias). */
  isMainListener(server: unknown): boolean;
  /** End-user sign-in and consent (interactions/). */
  interactions: Interactions;
}

export interface ProviderHost {
  /** The instance serving requests now. */
  current(): Provider;
  /** The current instance's request handler. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Builds a new instance with the current signing keys; requests from now on go to it. */
  rebuild(): void;
}

type AssertionContext = { state: Record<string, unknown>; oidc?: { params?: Record<string, unknown>; client?: { clientId: string; tokenEndpointAuthMethod?: string } } };
type AssertionError = { error?: string; error_detail?: string; error_description?: string };

/**
 * private_key_jwt (BT-2): oidc-provider decides on the client assertion; its reason (error_detail, e.g.
 * the aud rule or a replayed jti) becomes a coded refusal, logged with the ref the client sees.
 */
function assertionRefused(ctx: AssertionContext, err: AssertionError): void {
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
}

export function createProviderHost(options: ProviderHostOptions): ProviderHost {
  const { config, db, logger, state, mtls, lookups, jwksUris, observer, metrics, failures, retryAfterS, interactions } = options;

  /**
   * A grant's own refusals worth a ref and a log line (refresh-token.ts: a refresh token presented with
   * another certificate, or none, PUB-3), logged by the auth observer like a client authentication refusal.
   */
  function grantRefused(ctx: AssertionContext & { oidc?: { route?: string } }, err: GrantError): void {
    // The mTLS hook records a missing certificate first; the grant says what it means for this request.
    if (ctx.state.certboundRefusal && (ctx.state.certboundRefusal as Refusal).code !== 'CERT_NOT_PRESENTED') return;
    const grant = grantOf(ctx.oidc?.params?.grant_type);
    const peer = mtls.peerCertificate(ctx as never);
    const refusal = grant?.explainRefusal?.(ctx as never, err, peer ? (peer.parsed?.x5t ?? undefined) : undefined);
    if (refusal) ctx.state.certboundRefusal = refusal;
  }
  /** Token, introspection and revocation requests in progress (bounded by CERTBOUND_MAX_PENDING_REQUESTS). */
  let pending = 0;
  const aliases = mtlsEndpointAliases(config.mtlsUrl);

  function build(): Provider {
    const p = buildProvider({ config, db, keys: state.keys(), mtls, lookups, jwksUris, interactions });
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
      const alias =
        refusal?.code === 'CERT_NOT_PRESENTED' && options.isMainListener((ctx.req.socket as { server?: unknown }).server) ? mtlsAliasHint(ctx.oidc?.route, aliases) : undefined;
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
      if (refusal?.binding) {
        body.error_description = `${refusal.message} (ref ${refusal.ref})`;
        return;
      }
      if (alias) body.error_description = `${body.error_description ?? body.error}: ${alias}`;
      clarifyScopeError(ctx.oidc?.route, body);
      formEndpoints.explainQuery(ctx, body);
      logger.info(
        { event: 'oauth_error', route: ctx.oidc?.route, error: body.error, error_description: body.error_description, client_id: ctx.oidc?.client?.clientId },
        'request refused',
      );
    });
    // The browser-facing pages of the code flow (after the middleware above: bounded, revision read, failures answered).
    p.use(interactions.middleware(p) as never);
    const on = (p as unknown as { on(event: string, listener: (...args: never[]) => void): void }).on.bind(p);
    for (const event of ['grant.error', 'introspection.error', 'revocation.error']) on(event, assertionRefused);
    on('grant.error', grantRefused);
    for (const grant of GRANTS) {
      for (const { event, format } of grant.issuedEvents) on(event, (token: { clientId: unknown }) => metrics.tokenIssued(String(token.clientId), format));
    }
    // Answered and logged by certbound's middleware above (respondWithFailure), once it regains control.
    p.on('server_error', (ctx, err) => {
      ctx.state.certboundFailure = err;
    });
    // Koa's own error output is a multi-line stack trace on stderr: what still reaches it (a response
    // stream that fails after its headers were sent) is logged as JSON instead.
    on('error', (err: unknown) => {
      failures.record('http_error', err, 'an HTTP response failed');
    });
    return p;
  }

  let provider = build();
  let callback = provider.callback();
  return {
    current: () => provider,
    handle: (req, res) => callback(req, res),
    rebuild() {
      provider = build();
      callback = provider.callback();
    },
  };
}
