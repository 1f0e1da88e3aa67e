/**
 * The admin console at /admin/console/: its pages and hashed assets, and the session that signs a browser
 * in with the administrator's client certificate. The console reads and writes only through the admin
 * API: the API accepts a console session (cookie + same certificate + anti-CSRF token on writes) as it
 * accepts a certificate-bound token, with the same checks on every request, so every change is audited
 * with the same actor `admin:<client_id>:<x5t#S256>`.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { Access, AdminPrincipal } from '../admin-api/router.js';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE, ADMIN_SCOPES } from '../admin-api/scopes.js';
import { adminSignInRefusal } from '../app/administrators.js';
import { CertboundError } from '../errors/index.js';
import { parseCertificate } from '../pki/index.js';
import { x5tS256 } from '../pki/thumbprint.js';
import type { ClientRecord } from '../store/index.js';
import { type ConsoleAssets, loadConsoleAssets, SECURITY_HEADERS } from './assets.js';
import { CONSOLE_PATH, type Explanation, explanationPage, shellPage } from './pages.js';
import { CSRF_HEADER, type ConsoleSession, clearedSessionCookie, createSessionStore, csrfMatches, type SessionStoreOptions, sessionCookie, sessionIdOf } from './session.js';

export { CONSOLE_PATH } from './pages.js';
export { CSRF_HEADER, SESSION_COOKIE } from './session.js';

export interface ConsoleOptions {
  /** Every registered client (sign-in looks for the administrator this certificate authenticates). */
  listClients: () => Promise<ClientRecord[]>;
  /** The client as registered now; undefined when it no longer exists. */
  findClient: (clientId: string) => Promise<ClientRecord | undefined>;
  /** DER of the request's client certificate. */
  certificateOf: (req: IncomingMessage) => Buffer | undefined;
  /** Whether the request's certificate authenticates `client` now, as the token endpoint would: the reason when not. */
  certificateStillAuthenticates?: ((req: IncomingMessage, client: ClientRecord) => string | undefined) | undefined;
  certificateTrustAnchor?: ((req: IncomingMessage) => string | undefined) | undefined;
  /** The admin API resource (named in the commands the explanation page suggests). */
  adminResource: string;
  logger: Logger;
  /** Where the built console is (manifest.json, assets/); default dist/console of this package. */
  assetsDir?: string | undefined;
  session?: SessionStoreOptions | undefined;
}

export interface AdminConsole {
  /** Serves a request under /admin/console. */
  handle(ctx: Context): Promise<void>;
  /**
   * The administrator of an admin API request made with a console session, or undefined when the request
   * carries no session cookie (or carries a token: then the token decides). Throws when the session is
   * not good for this request.
   */
  authenticate(ctx: Context, access: Exclude<Access, 'public'>): Promise<AdminPrincipal | undefined>;
}

function refused(code: string, status: number, message: string, hint: string): CertboundError {
  return new CertboundError(code, message, { status, expose: true, hint });
}

const SIGN_IN_AGAIN = 'Reload the console (/admin/console/) to sign in again with your certificate.';

/** Who a certificate is: subject (RFC 4514) and thumbprint, for the pages that say who the server saw. */
function identify(der: Buffer): { subject: string; thumbprint: string } {
  const thumbprint = x5tS256(der);
  try {
    return { subject: parseCertificate(der).subjectRfc4514, thumbprint };
  } catch {
    return { subject: '(the certificate could not be parsed)', thumbprint };
  }
}

export function createConsole(options: ConsoleOptions): AdminConsole {
  const { logger } = options;
  const sessions = createSessionStore(options.session);
  let assets: ConsoleAssets | undefined;
  const loadAssets = () => {
    assets ??= loadConsoleAssets(options.assetsDir);
    return assets;
  };

  /** The session of a request, checked against the certificate and the client as registered now; throws when not good. */
  async function checkSession(req: IncomingMessage, id: string, access: Exclude<Access, 'public'>): Promise<{ session: ConsoleSession; client: ClientRecord }> {
    const found = sessions.find(id);
    if ('refused' in found) {
      const why = {
        unknown: 'This console session is not known to this server (signed out, or the server restarted).',
        expired: 'This console session reached the end of its lifetime.',
        idle: 'This console session was unused for too long.',
      }[found.refused];
      throw refused('ERR_CONSOLE_SESSION_ENDED', 401, why, SIGN_IN_AGAIN);
    }
    const { session } = found;
    const end = (code: string, status: number, message: string, hint = SIGN_IN_AGAIN): never => {
      sessions.end(session.id);
      logger.info({ event: 'console_session_ended', reason: code, client_id: session.clientId, detail: message }, 'console session ended');
      throw refused(code, status, message, hint);
    };
    const der = options.certificateOf(req);
    if (!der || x5tS256(der) !== session.thumbprint) {
      end('ERR_CONSOLE_CERTIFICATE_MISMATCH', 401, 'This request did not come with the certificate the console session was signed in with; the session is ended.', SIGN_IN_AGAIN);
    }
    const client = await options.findClient(session.clientId);
    if (!client) return end('ERR_CONSOLE_SESSION_ENDED', 401, `Client ${session.clientId} no longer exists; its console session is ended.`);
    const accepted = access === 'write' ? [ADMIN_SCOPE] : [...ADMIN_SCOPES];
    const readRefusal = adminSignInRefusal(client, ADMIN_SCOPES, Date.now());
    if (readRefusal) return end('ERR_CONSOLE_SESSION_ENDED', 401, `The console session is ended: ${readRefusal}.`);
    const outOfService = options.certificateStillAuthenticates?.(req, client);
    if (outOfService) return end('ERR_CONSOLE_SESSION_ENDED', 401, `The certificate no longer authenticates ${client.clientId} (${outOfService}); the console session is ended.`);
    if (!accepted.some((s) => client.scopes.includes(s))) {
      throw refused(
        'ERR_ADMIN_FORBIDDEN',
        403,
        `Client ${client.clientId} is a read-only administrator (${ADMIN_READ_SCOPE}); changes need ${ADMIN_SCOPE}.`,
        `An administrator with ${ADMIN_SCOPE} can grant it: certbound client update ${client.clientId} --scope "${[...client.scopes, ADMIN_SCOPE].join(' ')}".`,
      );
    }
    return { session, client };
  }

  function principalOf(req: IncomingMessage, session: ConsoleSession, client: ClientRecord): AdminPrincipal {
    const trustAnchor = options.certificateTrustAnchor?.(req);
    return {
      clientId: client.clientId,
      thumbprint: session.thumbprint,
      scopes: client.scopes.filter((s) => (ADMIN_SCOPES as readonly string[]).includes(s)),
      actor: `admin:${client.clientId}:${session.thumbprint}`,
      ...(trustAnchor === undefined ? {} : { trustAnchor }),
    };
  }

  /** Signs the certificate of this connection in, or says why it cannot. */
  async function signIn(req: IncomingMessage): Promise<{ session: ConsoleSession } | { explanation: Explanation }> {
    const der = options.certificateOf(req);
    const adminCommand = `certbound client add --id ops --from-cert ops.pem --match subject-dn --scope ${ADMIN_SCOPE} --resource ${options.adminResource}`;
    if (!der) {
      return {
        explanation: {
          status: 401,
          title: 'No client certificate',
          paragraphs: [
            'The console signs you in with your administrator client certificate, and this browser did not present one.',
            "Import the administrator's certificate and private key into the browser (a PKCS#12 file: Settings → Privacy and security → Manage certificates), choose it when the browser asks, and open the console again.",
          ],
          todo: 'If you have no administrator certificate yet, an existing administrator (or anyone with the certbound command on the server) registers one (read-only: --scope certbound:admin:read):',
          commands: [adminCommand],
          retry: true,
        },
      };
    }
    const seen = identify(der);
    const check = options.certificateStillAuthenticates;
    if (!check) {
      return {
        explanation: {
          status: 503,
          title: 'Sign-in unavailable',
          paragraphs: ['This server cannot check client certificates for the console (it runs without the token endpoint’s certificate rules). Use the admin API with a token.'],
          seen,
        },
      };
    }
    const now = Date.now();
    // Certificates only: a private_key_jwt client authenticates with an assertion, not with this certificate.
    const authenticated = (await options.listClients()).filter((c) => c.authMethod !== 'private_key_jwt' && check(req, c) === undefined);
    const admins = authenticated
      .filter((c) => adminSignInRefusal(c, ADMIN_SCOPES, now) === undefined)
      .sort((a, b) => Number(b.scopes.includes(ADMIN_SCOPE)) - Number(a.scopes.includes(ADMIN_SCOPE)) || a.clientId.localeCompare(b.clientId));
    const admin = admins[0];
    if (admin) {
      const session = sessions.create(
        admin.clientId,
        seen.thumbprint,
        admin.scopes.filter((s) => (ADMIN_SCOPES as readonly string[]).includes(s)),
      );
      logger.info({ event: 'console_sign_in', client_id: admin.clientId, x5t: seen.thumbprint }, 'console sign-in');
      return { session };
    }
    const ids = authenticated.map((c) => c.clientId);
    return {
      explanation: {
        status: 403,
        title: 'Not an administrator’s certificate',
        paragraphs: [
          ids.length
            ? `This certificate authenticates ${ids.join(', ')}, which ${ids.length === 1 ? 'is' : 'are'} not allowed ${ADMIN_SCOPE} or ${ADMIN_READ_SCOPE} (with certificate-bound tokens), so it cannot sign in to the console.`
            : 'This certificate does not authenticate any registered client (no current mapping matches it under a trusted, unrevoked chain), so it cannot sign in to the console.',
        ],
        todo: ids.length
          ? `To make ${ids[0]} an administrator, give it the admin scope and keep its other scopes (${ADMIN_READ_SCOPE} instead for read-only):`
          : 'To register it as an administrator (certbound doctor --cert ops.pem explains why a certificate does not match a client):',
        seen: { ...seen, clients: ids },
        commands: authenticated[0] ? [`certbound client update ${authenticated[0].clientId} --scope "${[...authenticated[0].scopes, ADMIN_SCOPE].join(' ')}"`] : [adminCommand],
        retry: true,
      },
    };
  }

  function send(ctx: Context, status: number, type: string, body: string | Buffer, cache = 'no-store'): void {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) ctx.set(name, value);
    ctx.set('Cache-Control', cache);
    ctx.status = status;
    ctx.type = type;
    ctx.body = body;
  }

  function explain(ctx: Context, explanation: Explanation): void {
    send(ctx, explanation.status, 'text/html; charset=utf-8', explanationPage(explanation, loadAssets()?.manifest));
  }

  async function handle(ctx: Context): Promise<void> {
    const sub = ctx.path.slice(CONSOLE_PATH.length);
    const built = loadAssets();
    if (!built) {
      explain(ctx, {
        status: 503,
        title: 'Console not built',
        paragraphs: ['This installation has no console files (dist/console). Build them with npm run build, or use the admin API and the certbound command.'],
      });
      return;
    }
    if (sub.startsWith('/assets/') && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      const file = built.file(sub.slice('/assets/'.length));
      if (!file) return explain(ctx, { status: 404, title: 'Not found', paragraphs: ['There is no such console file.'], retry: true });
      return send(ctx, 200, file.contentType, file.body, 'public, max-age=31536000, immutable');
    }
    if (sub === '' && ctx.method === 'GET') {
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(`${CONSOLE_PATH}/`);
      return;
    }
    if (sub === '/' && ctx.method === 'GET') {
      const id = sessionIdOf(ctx.get('cookie'));
      if (id !== undefined) {
        const good = await checkSession(ctx.req, id, 'read').then(
          () => true,
          () => false,
        );
        if (good) return send(ctx, 200, 'text/html; charset=utf-8', shellPage(built.manifest));
      }
      const result = await signIn(ctx.req);
      if ('explanation' in result) {
        if (id !== undefined) ctx.append('Set-Cookie', clearedSessionCookie());
        return explain(ctx, result.explanation);
      }
      ctx.append('Set-Cookie', sessionCookie(result.session, Math.floor(sessions.ttlMs / 1000)));
      return send(ctx, 200, 'text/html; charset=utf-8', shellPage(built.manifest));
    }
    if (sub === '/session' && (ctx.method === 'GET' || ctx.method === 'DELETE')) {
      // JSON for the script: who is signed in (GET), or sign out (DELETE, a write: it needs the anti-CSRF token).
      ctx.set('Cache-Control', 'no-store');
      try {
        const id = sessionIdOf(ctx.get('cookie'));
        if (id === undefined) throw refused('ERR_CONSOLE_SESSION_ENDED', 401, 'There is no console session on this request.', SIGN_IN_AGAIN);
        const { session, client } = await checkSession(ctx.req, id, 'read');
        if (ctx.method === 'DELETE') {
          if (!csrfMatches(session, ctx.get(CSRF_HEADER)))
            throw refused('ERR_CONSOLE_CSRF', 403, 'Signing out needs the console’s anti-CSRF token.', 'Sign out from the console page itself.');
          sessions.end(session.id);
          logger.info({ event: 'console_sign_out', client_id: session.clientId }, 'console sign-out');
          ctx.append('Set-Cookie', clearedSessionCookie());
          ctx.status = 204;
          return;
        }
        const der = options.certificateOf(ctx.req)!;
        ctx.body = {
          client_id: client.clientId,
          subject: identify(der).subject,
          'x5t#S256': session.thumbprint,
          scope: client.scopes.filter((s) => (ADMIN_SCOPES as readonly string[]).includes(s)).join(' '),
          read_only: !client.scopes.includes(ADMIN_SCOPE),
          client_scope: client.scopes.join(' '),
          csrf_token: session.csrf,
          csrf_header: CSRF_HEADER,
          expires_at: new Date(session.createdAt + sessions.ttlMs).toISOString(),
          admin_resource: options.adminResource,
        };
      } catch (err) {
        const e = err instanceof CertboundError ? err : refused('ERR_INTERNAL', 500, 'an internal error occurred; see the server log', '');
        if (!(err instanceof CertboundError)) logger.error({ event: 'console_session_error', err }, 'console session error');
        ctx.status = e.status;
        ctx.body = e.toJSON();
      }
      return;
    }
    if (sub === '/signed-out' && ctx.method === 'GET') {
      return explain(ctx, {
        status: 200,
        title: 'Signed out',
        paragraphs: [
          'Your console session has ended on the server. The browser still holds your certificate: opening the console again signs you in with it. Close the browser (or remove the certificate from it) to stay signed out.',
        ],
        retry: true,
      });
    }
    explain(ctx, { status: 404, title: 'Not found', paragraphs: [`The console has no page ${ctx.path}.`], retry: true });
  }

  return {
    handle,
    async authenticate(ctx, access) {
      // A token caller is the token's business, even if a browser cookie rides along.
      if (ctx.get('authorization')) return undefined;
      const id = sessionIdOf(ctx.get('cookie'));
      if (id === undefined) return undefined;
      const { session, client } = await checkSession(ctx.req, id, access);
      if (access === 'write' && !csrfMatches(session, ctx.get(CSRF_HEADER))) {
        throw refused(
          'ERR_CONSOLE_CSRF',
          403,
          `A change made with a console session needs the anti-CSRF token in the ${CSRF_HEADER} header; this request had none or another one.`,
          'Make the change from the console page itself; a page of another site cannot.',
        );
      }
      return principalOf(ctx.req, session, client);
    },
  };
}
