/**
 * The dynamic client registration endpoint on the mTLS listener: `POST /register` (RFC 7591) and
 * GET/PUT/DELETE on each registration client URI `/register/{client_id}` (RFC 7592). certbound serves it
 * itself rather than through oidc-provider's registration feature, whose client store would bypass the
 * SQL client model: the use cases (src/app/registrations.ts) apply the rules of `certbound client add`,
 * and the certificate of the request is read by the token endpoint's own code (the mTLS hooks: the same
 * certificate source, chain verdict, leaf policy and mapping matcher).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PresentedCertificate, RegistrationUseCases } from '../../app/registrations.js';
import { CertboundError, type OAuthErrorBody, oauthErrorBody } from '../../errors/index.js';
import type { OAuthErrorCode } from '../../errors/catalog/oauth.js';
import { x5tS256 } from '../../pki/index.js';
import type { ClientRecord, RegistrationRecord } from '../../store/index.js';
import { registrationAliasHint } from '../error-hints.js';
import { type FailureLog, unavailableAnswer } from '../failures.js';
import type { createMtlsHooks } from '../mtls.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { bearerOf, readJsonObject, sendJson } from './request.js';

export const REGISTRATION_PATH = '/register';

export interface LoadedRegistration {
  useCases: RegistrationUseCases;
  registeredMetadata(client: ClientRecord): Record<string, unknown>;
}

export interface RegistrationEndpointOptions {
  /** The use cases, loaded (and knex opened) on the first registration request. */
  load(): Promise<LoadedRegistration>;
  mtls: Pick<ReturnType<typeof createMtlsHooks>, 'peerCertificate' | 'stillAuthenticates'>;
  /** The endpoint's public URL (the mTLS listener's `/register`): the base of each registration client URI. */
  registrationUrl: string;
  logger: Logger;
  failures: FailureLog;
  /** Seconds a registrant is told to wait when the database cannot answer now (docs/reliability.md). */
  retryAfterS: number;
  rateLimiter?: RateLimiter;
}

/** RFC 6749 §5.2 / RFC 7591 §3.2.2: an error_description is printable ASCII without `"` or `\`. */
function safeDescription(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}

/** The RFC 7591 error a refusal of the use cases is answered with, naming the member it is about. */
export function registrationErrorBody(err: CertboundError): OAuthErrorBody & { error: OAuthErrorCode } {
  const member = typeof err.details?.member === 'string' ? err.details.member : undefined;
  const error = err.code.startsWith('ERR_REGISTRATION_') || err.code.startsWith('ERR_SOFTWARE_STATEMENT_') ? registrationError(err.code) : 'invalid_client_metadata';
  const sentence =
    err.code === 'ERR_MAPPING_OVERLAP' ? 'a certificate with this value would also authenticate another registered client; register a subject only this client holds' : err.message;
  return { ...oauthErrorBody(error, safeDescription(member && !sentence.startsWith(`${member}:`) ? `${member}: ${sentence}` : sentence)), error };
}

function registrationError(code: string): OAuthErrorCode {
  switch (code) {
    case 'ERR_REGISTRATION_TOKEN_INVALID':
    case 'ERR_REGISTRATION_ACCESS_DENIED':
      return 'invalid_token';
    case 'ERR_REGISTRATION_RATE_LIMITED':
      return 'invalid_request';
    case 'ERR_SOFTWARE_STATEMENT_UNAPPROVED':
      return 'unapproved_software_statement';
    case 'ERR_SOFTWARE_STATEMENT_INVALID':
      return 'invalid_software_statement';
    default:
      return 'invalid_client_metadata';
  }
}

/**
 * @example
 * const registration = createRegistrationEndpoint({ load, mtls, registrationUrl: `${mtlsUrl}/register`, logger, failures, retryAfterS: 2 });
 * if (registration.handles(path)) registration.handle(req, res, path);
 */
export function createRegistrationEndpoint({ load, mtls, registrationUrl, logger, failures, retryAfterS, rateLimiter = createRateLimiter() }: RegistrationEndpointOptions) {
  function presentedOf(req: IncomingMessage): PresentedCertificate | undefined {
    const peer = mtls.peerCertificate({ req, state: {} });
    if (!peer) return undefined;
    return {
      x5t: peer.parsed?.x5t ?? x5tS256(peer.x509.raw),
      anchor: peer.anchor ? { name: peer.anchor.name, environment: peer.anchor.environment } : undefined,
      authenticates: (client) => mtls.stillAuthenticates(req, client, client.jwks ?? undefined),
    };
  }

  function described(loaded: LoadedRegistration, client: ClientRecord, registration?: RegistrationRecord): Record<string, unknown> {
    return {
      ...loaded.registeredMetadata(client),
      registration_client_uri: `${registrationUrl}/${encodeURIComponent(client.clientId)}`,
      ...(registration?.status === 'pending' ? { certbound_registration_status: 'pending' } : {}),
    };
  }

  async function serve(req: IncomingMessage, res: ServerResponse, clientId: string | undefined): Promise<void> {
    const token = bearerOf(req);
    const method = req.method ?? 'GET';
    if (clientId === undefined) {
      if (method !== 'POST') return sendJson(res, 405, oauthErrorBody('invalid_request', 'the registration endpoint accepts POST only'), { allow: 'POST' });
      // Registrations with a software statement alone share one budget.
      const wait = rateLimiter.take(token ?? '');
      if (wait !== undefined) {
        throw new CertboundError('ERR_REGISTRATION_RATE_LIMITED', `Too many registrations with this initial access token; retry in ${wait} s.`, {
          status: 429,
          details: { retryAfterS: wait },
        });
      }
      const metadata = await readJsonObject(req);
      const loaded = await load();
      const { client, registration, registrationAccessToken } = await loaded.useCases.register({ initialAccessToken: token, metadata, presented: presentedOf(req) });
      logger.info(
        { event: 'client_registered', client_id: client.clientId, status: registration.status, initial_access_token: registration.initialAccessTokenId },
        `client ${client.clientId} registered (${registration.status})`,
      );
      return sendJson(res, 201, { ...described(loaded, client, registration), registration_access_token: registrationAccessToken });
    }
    const loaded = await load();
    const presented = presentedOf(req);
    if (method === 'GET') {
      const { client, registration } = await loaded.useCases.readRegistration(clientId, token, presented);
      return sendJson(res, 200, described(loaded, client, registration));
    }
    if (method === 'PUT') {
      const metadata = await readJsonObject(req);
      const client = await loaded.useCases.updateRegistration(clientId, token, presented, metadata);
      logger.info({ event: 'client_registration_changed', client_id: clientId, change: 'update' }, `registration of ${clientId} updated`);
      const { registration } = await loaded.useCases.readRegistration(clientId, token, presented);
      return sendJson(res, 200, described(loaded, client, registration));
    }
    if (method === 'DELETE') {
      await loaded.useCases.deleteRegistration(clientId, token, presented);
      logger.info({ event: 'client_registration_changed', client_id: clientId, change: 'delete' }, `registration of ${clientId} deleted`);
      res.writeHead(204, { 'cache-control': 'no-store' }).end();
      return;
    }
    sendJson(res, 405, oauthErrorBody('invalid_request', 'a registration client URI accepts GET, PUT and DELETE'), { allow: 'GET, PUT, DELETE' });
  }

  return {
    /** Whether `path` is the endpoint or a registration client URI. */
    handles: (path: string): boolean => path === REGISTRATION_PATH || path.startsWith(`${REGISTRATION_PATH}/`),

    /**
     * A registration request on the main listener: a JSON error naming the mTLS alias, rather than
     * oidc-provider's answer to a route it does not know. 404, as oidc-provider answers an unknown route
     * and the admin API a request on the wrong listener: the endpoint does not exist at this origin,
     * whatever the request holds. 400 would blame the request's content, and 421 (Misdirected Request)
     * lets a client retry the same URL on a new connection, which lands here again.
     */
    refuseOnMainListener(res: ServerResponse, path: string): void {
      sendJson(res, 404, oauthErrorBody('invalid_request', registrationAliasHint(path, REGISTRATION_PATH, registrationUrl)));
    },

    handle(req: IncomingMessage, res: ServerResponse, path: string): void {
      let clientId: string | undefined;
      try {
        clientId = path === REGISTRATION_PATH ? undefined : decodeURIComponent(path.slice(REGISTRATION_PATH.length + 1));
      } catch {
        clientId = '';
      }
      serve(req, res, clientId).catch((err: unknown) => {
        if (err instanceof CertboundError && err.status < 500) {
          const body = registrationErrorBody(err);
          logger.info({ event: 'registration_refused', code: err.code, member: err.details?.member, client_id: clientId, error: body.error }, err.message);
          const headers: Record<string, string> = {};
          if (body.error === 'invalid_token') headers['www-authenticate'] = `Bearer error="invalid_token"`;
          if (err.code === 'ERR_REGISTRATION_RATE_LIMITED') headers['retry-after'] = String(err.details?.retryAfterS ?? 60);
          // RFC 7591 §3.2.2: a metadata refusal is a 400, whatever status the use case gave it (an overlap is 409 elsewhere).
          sendJson(res, body.error === 'invalid_client_metadata' && err.status !== 413 ? 400 : err.status, body, headers);
          return;
        }
        // The database down, frozen or locked: 503 with Retry-After, as on every other endpoint.
        const unavailable = unavailableAnswer(err, failures, retryAfterS, { method: req.method, path });
        if (unavailable) {
          sendJson(res, unavailable.status, unavailable.body, { 'retry-after': String(unavailable.retryAfterS) });
          return;
        }
        const ref = failures.record('registration_failed', err, 'a registration request failed with an internal error', { path });
        sendJson(res, 500, oauthErrorBody('server_error', `the registration failed (ref ${ref}); the authorization server's log explains why`));
      });
    },
  };
}

export type RegistrationEndpoint = ReturnType<typeof createRegistrationEndpoint>;
