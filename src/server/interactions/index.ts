/**
 * End-user sign-in and consent for the authorization code flow, on the main listener (browser-facing,
 * no client certificate asked): oidc-provider sends the browser to `/interaction/<uid>`, where
 * - login: the browser goes to the login's URL (the upstream OpenID Provider, login.ts) and comes back to
 *   `/interaction/callback`; the verified `sub` becomes the interaction's account;
 * - consent: a page names the client, the resource and the scopes; the answer is remembered per user and
 *   client in SQL (`user_consents`), so a later request within what was consented asks no more. A consent
 *   an administrator revoked (its row gone) is asked again.
 * Pages and errors are server-rendered HTML (pages.ts), never a redirect to an unverified redirect_uri.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import { consents, createOidcAdapter, type Queryable } from '../../store/index.js';
import type { EndUserLogin, PendingLogin } from './login.js';
import { consentPage, errorPage, PAGE_HEADERS, pageCsp } from './pages.js';

export type { EndUserLogin, PendingLogin, VerifiedUser } from './login.js';

/** Where interactions live; the callback is one fixed URL (registered at the upstream provider). */
const INTERACTION_PREFIX = '/interaction/';
export const CALLBACK_PATH = '/interaction/callback';
/** The cookie that ties the callback to the browser that started the sign-in. */
const LOGIN_COOKIE = 'certbound_login';
/** The anti-CSRF cookie of the consent form (double submit). */
const CSRF_COOKIE = 'certbound_csrf';
/** Seconds a started sign-in waits for its callback. */
const PENDING_TTL_S = 600;
/** Bytes a consent form may have. */
const MAX_FORM_BYTES = 4096;

export interface InteractionsOptions {
  config: Pick<Config, 'issuer'>;
  db: Queryable;
  logger: Logger;
  /** The end-user login (the upstream provider by default), created on first use; undefined: none configured. */
  login(): Promise<EndUserLogin>;
  /** Whether a socket's server is the main listener. */
  isMainListener(server: unknown): boolean;
}

interface PendingRecord {
  uid: string;
  pending: PendingLogin;
  [key: string]: unknown;
}

/** A page answer (status, HTML) thrown inside the routes. */
class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly explanation: string,
  ) {
    super(title);
  }
}

function send(ctx: KoaContextWithOIDC, status: number, html: string, formTargets: readonly string[] = []): void {
  ctx.status = status;
  ctx.set(PAGE_HEADERS);
  if (formTargets.length) ctx.set('content-security-policy', pageCsp(formTargets));
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

function keyOf(state: string): string {
  return createHash('sha256').update(state).digest('base64url');
}

function sameValue(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

async function readForm(ctx: KoaContextWithOIDC): Promise<URLSearchParams> {
  if (!String(ctx.get('content-type')).startsWith('application/x-www-form-urlencoded')) throw new PageError(400, 'The form could not be read', 'Submit the form from the page.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new PageError(413, 'The form is too large', 'Submit the form from the page.');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The status and words of a login failure (a CertboundError from the login, or anything else). */
function loginFailure(err: unknown): { status: number; title: string; explanation: string } {
  const e = err as { status?: unknown; message?: unknown; hint?: unknown; expose?: unknown };
  const status = typeof e?.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 502;
  const message = typeof e?.message === 'string' && e.expose !== false ? e.message : undefined;
  if (status >= 500)
    return {
      status,
      title: 'Sign-in is unavailable',
      explanation: `${message ?? 'The sign-in provider could not be reached.'} Try again later; if it persists, tell the administrator of this server.`,
    };
  return { status, title: 'Sign-in failed', explanation: `${message ?? 'The sign-in could not be completed.'} Start again from the application.` };
}

export function createInteractions(options: InteractionsOptions) {
  const { config, db, logger } = options;
  const Adapter = createOidcAdapter(db, async () => undefined);
  const pendingLogins = new Adapter('CertboundPendingLogin');
  const callbackUrl = new URL(CALLBACK_PATH, config.issuer).href;

  /** The provider configuration members that plug sign-in and consent in. */
  function configuration(): Pick<Configuration, 'interactions' | 'findAccount' | 'loadExistingGrant' | 'renderError'> {
    return {
      interactions: { url: (_ctx, interaction) => `${INTERACTION_PREFIX}${interaction.uid}` },
      // The only account ids are the subjects a login verified (the login result below is the only place
      // one is set); tokens carry the same id.
      findAccount: async (_ctx, sub) => (typeof sub === 'string' && sub.length > 0 ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
      // A grant comes from this interaction's consent, or from the consent remembered in SQL; the grant a
      // browser session remembers does not count (an administrator's revocation would not be seen).
      async loadExistingGrant(ctx) {
        const { Grant } = ctx.oidc.provider;
        const resultGrant = (ctx.oidc.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId;
        if (resultGrant) return Grant.find(resultGrant);
        const accountId = ctx.oidc.session?.accountId;
        const clientId = ctx.oidc.client?.clientId;
        if (!accountId || !clientId) return undefined;
        const remembered = await consents.find(db, accountId, clientId);
        if (!remembered) return undefined;
        const grant = new Grant({ accountId, clientId });
        for (const resource of remembered.resources) grant.addResourceScope(resource, remembered.scopes.join(' '));
        await grant.save();
        return grant;
      },
      // A request that cannot be sent back to the client (unknown client, a redirect_uri that is not
      // registered) gets a page, never a redirect.
      async renderError(ctx, out) {
        const o = out as { error?: string; error_description?: string };
        // A program that does not ask for HTML (an API client, a test) reads the RFC 6749 body as JSON.
        if (!String(ctx.get('accept')).includes('text/html')) {
          ctx.set(PAGE_HEADERS);
          ctx.type = 'application/json';
          ctx.body = out;
          return;
        }
        const ref = randomUUID().slice(0, 8);
        logger.info({ event: 'authorization_page_refused', ref, error: o.error, error_description: o.error_description }, 'authorization request refused with an error page');
        send(
          ctx as KoaContextWithOIDC,
          Math.max(ctx.status, 400),
          errorPage(
            'The application sent a request this server refuses',
            `${o.error ?? 'invalid_request'}: ${o.error_description ?? 'the request is not valid'}. Go back to the application; its developer fixes the request (client, redirect_uri, parameters).`,
            ref,
          ),
        );
      },
    };
  }

  async function showInteraction(provider: Provider, ctx: KoaContextWithOIDC): Promise<void> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const uid = details.uid;
    if (details.prompt.name === 'login') {
      const login = await options.login();
      const { url, pending } = await login.begin({ callbackUrl });
      await pendingLogins.upsert(keyOf(pending.state), { uid, pending } as PendingRecord, PENDING_TTL_S);
      ctx.cookies.set(LOGIN_COOKIE, uid, { path: CALLBACK_PATH, httpOnly: true, secure: true, sameSite: 'lax', maxAge: PENDING_TTL_S * 1000 });
      ctx.set('cache-control', 'no-store');
      ctx.status = 303;
      ctx.redirect(url);
      return;
    }
    if (details.prompt.name === 'consent') {
      const clientId = String(details.params.client_id);
      const client = await provider.Client.find(clientId);
      const missing = ((details.prompt.details as { missingResourceScopes?: Record<string, string[]> }).missingResourceScopes ?? {}) as Record<string, string[]>;
      const csrf = randomBytes(24).toString('base64url');
      ctx.cookies.set(CSRF_COOKIE, csrf, { path: `${INTERACTION_PREFIX}${uid}`, httpOnly: true, secure: true, sameSite: 'strict', maxAge: PENDING_TTL_S * 1000 });
      const name = (client?.metadata() as { client_name?: unknown } | undefined)?.client_name;
      send(
        ctx,
        200,
        consentPage({
          clientId,
          clientName: typeof name === 'string' && name ? name : clientId,
          resources: Object.entries(missing).map(([identifier, scopes]) => ({ identifier, scopes })),
          action: `${INTERACTION_PREFIX}${uid}/consent`,
          csrf,
        }),
        // The answer is a redirect to the client's redirect URI (oidc-provider checked it against the registered ones, exactly).
        [new URL(String(details.params.redirect_uri)).origin],
      );
      return;
    }
    throw new PageError(400, 'This step is not supported', `The authorization request asks for ${details.prompt.name}, which this server does not serve.`);
  }

  async function consent(provider: Provider, ctx: KoaContextWithOIDC): Promise<void> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const form = await readForm(ctx);
    if (!sameValue(form.get('csrf') ?? undefined, ctx.cookies.get(CSRF_COOKIE) ?? undefined))
      throw new PageError(
        403,
        'The consent form was not accepted',
        'The form did not come from this page (its anti-forgery value is missing or wrong). Start again from the application.',
      );
    if (details.prompt.name !== 'consent')
      throw new PageError(400, 'Nothing to consent to', 'This authorization request asks for no consent now. Start again from the application.');
    const accountId = details.session?.accountId;
    const clientId = String(details.params.client_id);
    if (!accountId) throw new PageError(400, 'You are not signed in', 'Start again from the application.');
    ctx.cookies.set(CSRF_COOKIE, null, { path: `${INTERACTION_PREFIX}${details.uid}` });
    const decision = form.get('decision');
    if (decision !== 'allow') {
      logger.info({ event: 'consent_decided', decision: 'deny', client_id: clientId, account_id: accountId }, 'the user denied the authorization request');
      ctx.respond = false;
      const denied = new errors.AccessDenied('the user denied the authorization request');
      await provider.interactionFinished(ctx.req, ctx.res, { error: denied.error, error_description: denied.error_description }, { mergeWithLastSubmission: false });
      return;
    }
    const { Grant } = provider;
    const grant = (details.grantId ? await Grant.find(details.grantId) : undefined) ?? new Grant({ accountId, clientId });
    const missing = ((details.prompt.details as { missingResourceScopes?: Record<string, string[]> }).missingResourceScopes ?? {}) as Record<string, string[]>;
    for (const [resource, scopes] of Object.entries(missing)) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await remember(accountId, clientId, missing);
    logger.info(
      { event: 'consent_decided', decision: 'allow', client_id: clientId, account_id: accountId, resources: Object.keys(missing) },
      'the user allowed the authorization request',
    );
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  /**
   * Remembers what was consented: added to the remembered scopes when the resource is the same, else in
   * place of them (the record says "these scopes at these resources", never more than was consented).
   */
  async function remember(accountId: string, clientId: string, granted: Record<string, string[]>): Promise<void> {
    const resources = Object.keys(granted).sort();
    if (resources.length === 0) return;
    const scopes = [...new Set(Object.values(granted).flat())];
    const previous = await consents.find(db, accountId, clientId);
    const now = new Date();
    const same = previous && previous.resources.length === resources.length && [...previous.resources].sort().every((r, i) => r === resources[i]);
    await consents.save(db, {
      accountId,
      clientId,
      scopes: same ? [...new Set([...previous.scopes, ...scopes])] : scopes,
      resources,
      grantedAt: previous?.grantedAt ?? now,
      updatedAt: now,
    });
  }

  async function callback(provider: Provider, ctx: KoaContextWithOIDC): Promise<void> {
    const state = ctx.query.state;
    if (typeof state !== 'string' || !state)
      throw new PageError(400, 'Sign-in failed', 'The sign-in provider sent the browser back without a state. Start again from the application.');
    const key = keyOf(state);
    const record = (await pendingLogins.find(key)) as PendingRecord | undefined;
    if (!record)
      throw new PageError(400, 'This sign-in has expired', 'The sign-in was not started here, was already completed, or took too long. Start again from the application.');
    if (!sameValue(ctx.cookies.get(LOGIN_COOKIE) ?? undefined, record.uid))
      throw new PageError(400, 'Sign-in failed', 'The sign-in was started in another browser (or its cookie is gone). Start again from the application in this browser.');
    await pendingLogins.destroy(key);
    ctx.cookies.set(LOGIN_COOKIE, null, { path: CALLBACK_PATH });
    const login = await options.login();
    const user = await login.finish({ callbackUrl, currentUrl: new URL(ctx.originalUrl, config.issuer), pending: record.pending });
    const interaction = await provider.Interaction.find(record.uid);
    if (!interaction) throw new PageError(400, 'This sign-in has expired', 'The authorization request expired while you signed in. Start again from the application.');
    interaction.result = { ...interaction.lastSubmission, login: { accountId: user.sub } };
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    logger.info({ event: 'end_user_signed_in', account_id: user.sub, issuer: user.issuer, client_id: interaction.params.client_id }, 'an end user signed in');
    ctx.status = 303;
    ctx.set('cache-control', 'no-store');
    ctx.redirect(interaction.returnTo);
  }

  /** The interaction routes: certbound's middleware on the provider (before oidc-provider's routes). */
  function middleware(provider: Provider) {
    const authorizationPath = provider.pathFor('authorization');
    // Not async: a token request passes with no extra promise (the token path's cost, docs/performance.md).
    return (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
      const path = ctx.path;
      const interaction = path.startsWith(INTERACTION_PREFIX);
      const authorization = path === authorizationPath || path.startsWith(`${authorizationPath}/`);
      if (!interaction && !authorization) return next();
      return pageRoute(provider, ctx, next, path, interaction);
    };
  }

  async function pageRoute(provider: Provider, ctx: KoaContextWithOIDC, next: () => Promise<void>, path: string, interaction: boolean): Promise<void> {
    // AL-4: the browser-facing endpoints are on the main listener only; the mTLS listener asks for a certificate.
    if (!options.isMainListener((ctx.req.socket as { server?: unknown }).server)) {
      send(ctx, 404, errorPage('Not served here', `Sign-in and authorization are served on ${config.issuer}, not on the mTLS listener.`));
      return;
    }
    if (!interaction) return next();
    try {
      if (path === CALLBACK_PATH && ctx.method === 'GET') await callback(provider, ctx);
      else if (/^\/interaction\/[^/]+$/.test(path) && ctx.method === 'GET') await showInteraction(provider, ctx);
      else if (/^\/interaction\/[^/]+\/consent$/.test(path) && ctx.method === 'POST') await consent(provider, ctx);
      else send(ctx, 404, errorPage('Page not found', 'There is no such page. Start again from the application.'));
    } catch (err) {
      ctx.respond = true;
      const ref = randomUUID().slice(0, 8);
      if (err instanceof PageError) {
        logger.info({ event: 'sign_in_refused', ref, status: err.status, reason: err.title, path }, err.explanation);
        send(ctx, err.status, errorPage(err.title, err.explanation, ref));
        return;
      }
      if ((err as { name?: string }).name === 'SessionNotFound') {
        logger.info({ event: 'sign_in_refused', ref, status: 400, reason: 'interaction not found', path }, String((err as Error).message));
        send(ctx, 400, errorPage('This sign-in has expired', 'The authorization request is unknown or expired, or cookies are blocked. Start again from the application.', ref));
        return;
      }
      const failure = loginFailure(err);
      logger.warn({ event: 'sign_in_failed', ref, status: failure.status, code: (err as { code?: unknown }).code, err }, failure.explanation);
      send(ctx, failure.status, errorPage(failure.title, failure.explanation, ref));
    }
  }

  return { configuration, middleware, callbackUrl };
}

export type Interactions = ReturnType<typeof createInteractions>;
