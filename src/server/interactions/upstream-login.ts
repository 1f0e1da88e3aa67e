/**
 * certbound as the relying party of the upstream OpenID Provider end users sign in at (certbound is not a
 * user directory): the authorization code flow with PKCE (S256), `state` and `nonce`, run by
 * `openid-client`, which also validates the ID token. The configured subject claim becomes the `sub`
 * certbound issues; nothing here returns an identity the upstream did not vouch for.
 *
 * The upstream is the `default` row of `upstream_providers`, read on every `begin` and `finish` (logins
 * are rare, and an administrator's change applies at once). Its discovery document is cached per issuer
 * and row version (`updatedAt`) in the instance, with the upstream's key set.
 *
 * Outbound requests: the upstream's address is chosen by an administrator, like the database URL, not by
 * a client, so the address policy of src/outbound (which stops clients from making certbound fetch from
 * its own network) does not apply: an organisation's Keycloak usually sits on the private network. What
 * does apply: HTTPS only, a bounded timeout, redirects never followed (openid-client sends
 * `redirect: 'manual'`), and extra CAs only where the deployment names them.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import { CertboundError } from '../../errors/index.js';
import { type Queryable, type UpstreamProvider, upstreamProviders } from '../../store/index.js';

export interface PendingUpstreamLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  issuer: string;
  startedAt: number;
}

export interface UpstreamIdentity {
  sub: string;
  claims: Record<string, unknown>;
  issuer: string;
}

export interface UpstreamLogin {
  /** The upstream authorization URL to redirect the browser to; `pending` is kept by the caller (the interaction's session) until the callback. */
  begin(input: { callbackUrl: string }): Promise<{ url: string; pending: PendingUpstreamLogin }>;
  /** Completes the login from the callback request's full URL: checks state, nonce, PKCE, the ID token; returns the sub certbound issues (the configured subject claim's value). */
  finish(input: { callbackUrl: string; currentUrl: URL; pending: PendingUpstreamLogin }): Promise<UpstreamIdentity>;
}

export interface UpstreamLoginOptions {
  db: Queryable;
  logger: Logger;
  /** Outbound fetch, for tests with a private CA. Default: undici's fetch (with `ca` when given). */
  fetch?: typeof fetch;
  /** Extra CA certificates (PEM) trusted for the upstream besides Node's bundled ones. */
  ca?: string;
  /** The same read from a file: CERTBOUND_OUTBOUND_CA_FILE, the CAs certbound trusts for every outbound request. */
  caFile?: string;
  /** Timeout of each request to the upstream, ms. Default 10 000. */
  timeoutMs?: number;
  /** CERTBOUND_KEY_ENCRYPTION_KEY: decrypts the provider's client secret or private key when they are stored encrypted. */
  keyEncryptionKey?: Buffer | undefined;
  /** The clock, ms since the epoch (ID token times, the pending login's age). Default `Date.now`. */
  now?: () => number;
}

/** How long a user may take at the upstream between `begin` and `finish`. */
export const UPSTREAM_LOGIN_MAX_AGE_MS = 15 * 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;
/** The `account_id` columns' width: a longer subject could not be stored. */
const MAX_SUBJECT_LENGTH = 255;

type LoginFailure = 'upstream_error' | 'state_mismatch' | 'nonce_mismatch' | 'id_token_invalid' | 'subject_claim_missing' | 'expired' | 'provider_changed' | 'code_rejected';
type Unavailable = 'discovery_failed' | 'unreachable' | 'token_endpoint_refused' | 'userinfo_failed' | 'client_key_invalid';

interface Discovered {
  version: string;
  metadata: oidc.ServerMetadata;
  jwks?: oidc.ExportedJWKSCache;
}

/**
 * @example
 * const upstream = createUpstreamLogin({ db, logger });
 * const { url, pending } = await upstream.begin({ callbackUrl: 'https://as.example.com/interaction/callback' });
 * // … the browser comes back to the callback URL …
 * const { sub } = await upstream.finish({ callbackUrl, currentUrl: new URL(ctx.href), pending });
 */
export function createUpstreamLogin(options: UpstreamLoginOptions): UpstreamLogin {
  const { db, logger } = options;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchImpl = outboundFetch(options);
  const discovered = new Map<string, Discovered>();

  function unavailable(reason: Unavailable, provider: UpstreamProvider | undefined, message: string, cause?: unknown): CertboundError {
    const detail = describe(cause);
    logger.warn({ event: 'upstream_unavailable', code: 'UPSTREAM_UNAVAILABLE', reason, issuer: provider?.issuer, detail }, message);
    return new CertboundError('UPSTREAM_UNAVAILABLE', message, {
      status: 502,
      expose: true,
      cause,
      details: { reason, issuer: provider?.issuer },
      hint: 'Try again in a moment. If it keeps happening, an administrator checks the upstream provider: that its issuer is reachable from certbound and that certbound’s client credentials there are right.',
    });
  }

  function loginFailed(reason: LoginFailure, provider: UpstreamProvider, message: string, extra: Record<string, unknown> = {}, cause?: unknown): CertboundError {
    logger.warn({ event: 'upstream_login_refused', reason, issuer: provider.issuer, ...extra, detail: describe(cause) }, message);
    return new CertboundError('UPSTREAM_LOGIN_FAILED', message, {
      status: 400,
      expose: true,
      cause,
      details: { reason, issuer: provider.issuer, ...extra },
      hint:
        reason === 'subject_claim_missing'
          ? 'An administrator sets the subject claim of the upstream provider to a claim it issues for every user (for example sub or email).'
          : 'Go back to the application and sign in again.',
    });
  }

  async function currentProvider(): Promise<UpstreamProvider> {
    let provider: UpstreamProvider | undefined;
    try {
      provider = await upstreamProviders.find(db, options.keyEncryptionKey);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code !== 'ERR_KEY_ENCRYPTION_KEY_MISSING' && code !== 'ERR_KEY_ENCRYPTION_KEY_WRONG') throw err;
      // The end user learns sign-in is unavailable; the log says why (the key-encryption key), for the administrator.
      const message = 'Sign-in is not available: this server cannot read the credentials of its upstream identity provider.';
      logger.error({ event: 'upstream_unavailable', code: 'UPSTREAM_NOT_CONFIGURED', reason: 'credentials_unreadable', detail: (err as Error).message }, message);
      throw new CertboundError('UPSTREAM_NOT_CONFIGURED', message, {
        status: 503,
        expose: true,
        cause: err,
        details: { reason: 'credentials_unreadable' },
        hint: 'An administrator starts the server with the CERTBOUND_KEY_ENCRYPTION_KEY the upstream provider was configured with (the server log says which is wrong), or configures the provider again.',
      });
    }
    if (!provider) {
      const message = 'Sign-in is not available: no upstream identity provider is configured on this server.';
      logger.warn({ event: 'upstream_unavailable', code: 'UPSTREAM_NOT_CONFIGURED', reason: 'not_configured' }, message);
      throw new CertboundError('UPSTREAM_NOT_CONFIGURED', message, {
        status: 503,
        expose: true,
        hint: 'An administrator configures the upstream OpenID Provider (issuer, client credentials, scopes and subject claim), then you sign in again.',
      });
    }
    return provider;
  }

  async function clientAuth(provider: UpstreamProvider): Promise<oidc.ClientAuth> {
    if (provider.authMethod === 'client_secret_basic') {
      if (!provider.clientSecret)
        throw unavailable('client_key_invalid', provider, 'Sign-in is not available: the upstream provider is configured for client_secret_basic without a client secret.');
      return oidc.ClientSecretBasic(provider.clientSecret);
    }
    const jwk = provider.privateJwk as JWK | null;
    if (!jwk) throw unavailable('client_key_invalid', provider, 'Sign-in is not available: the upstream provider is configured for private_key_jwt without a private key.');
    try {
      const alg = jwk.alg ?? algorithmOf(jwk);
      const key = await importJWK(jwk, alg);
      if (!(key instanceof CryptoKey) || key.type !== 'private') throw new TypeError('the JWK is not a private key');
      return oidc.PrivateKeyJwt({ key, kid: jwk.kid }, {});
    } catch (err) {
      throw unavailable('client_key_invalid', provider, 'Sign-in is not available: the private key configured for the upstream provider cannot sign client assertions.', err);
    }
  }

  async function configuration(provider: UpstreamProvider): Promise<{ config: oidc.Configuration; entry: Discovered }> {
    const version = String(provider.updatedAt.getTime());
    let entry = discovered.get(provider.issuer);
    if (!entry || entry.version !== version) {
      let config: oidc.Configuration;
      try {
        config = await oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, undefined, {
          [oidc.customFetch]: fetchImpl,
          timeout: Math.ceil(timeoutMs / 1000),
        });
      } catch (err) {
        throw unavailable(
          'discovery_failed',
          provider,
          `Sign-in is not available: the upstream identity provider ${provider.issuer} could not be reached or did not publish valid OpenID Connect metadata.`,
          err,
        );
      }
      entry = { version, metadata: config.serverMetadata() };
      // One issuer at a time is configured: entries of an issuer no longer configured are dropped.
      discovered.clear();
      discovered.set(provider.issuer, entry);
      logger.info({ event: 'upstream_discovered', issuer: provider.issuer }, 'upstream OpenID Provider discovered');
    }
    // The clock openid-client checks the ID token's times against: `now` as a skew from the system clock, in seconds.
    const skew = Math.round((now() - Date.now()) / 1000);
    const config = new oidc.Configuration(entry.metadata, provider.clientId, { [oidc.clockSkew]: skew }, await clientAuth(provider));
    config[oidc.customFetch] = fetchImpl;
    config.timeout = Math.ceil(timeoutMs / 1000);
    if (entry.jwks) oidc.setJwksCache(config, entry.jwks);
    return { config, entry };
  }

  function scopesOf(provider: UpstreamProvider): string {
    return [...new Set(['openid', ...provider.scopes])].join(' ');
  }

  return {
    async begin({ callbackUrl }) {
      const provider = await currentProvider();
      const { config } = await configuration(provider);
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const pending: PendingUpstreamLogin = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier, issuer: provider.issuer, startedAt: now() };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: callbackUrl,
        response_type: 'code',
        scope: scopesOf(provider),
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, pending };
    },

    async finish({ callbackUrl, currentUrl, pending }) {
      const provider = await currentProvider();
      if (provider.issuer !== pending.issuer) {
        throw loginFailed('provider_changed', provider, 'The sign-in cannot be completed: the upstream identity provider was changed while you were signing in.', {
          started_at: pending.issuer,
        });
      }
      if (now() - pending.startedAt > UPSTREAM_LOGIN_MAX_AGE_MS) {
        throw loginFailed('expired', provider, 'The sign-in took too long and has expired.');
      }
      // Checked here as well as by openid-client, so that a response of another sign-in never reaches the upstream's token endpoint.
      if (currentUrl.searchParams.get('state') !== pending.state) {
        throw loginFailed('state_mismatch', provider, 'The sign-in response does not belong to this sign-in (its state does not match).');
      }
      const { config, entry } = await configuration(provider);
      // The redirect_uri sent to the token endpoint is the one sent in `begin`, whatever host or proxy the callback came through.
      const responseUrl = new URL(callbackUrl);
      responseUrl.search = currentUrl.search;
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, responseUrl, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        throw classify(err, provider, 'token');
      } finally {
        entry.jwks = oidc.getJwksCache(config) ?? entry.jwks;
      }
      const idClaims = tokens.claims();
      if (!idClaims) throw loginFailed('id_token_invalid', provider, 'The upstream identity provider did not return an ID token.');
      const claims: Record<string, unknown> = { ...idClaims };
      // OpenID Connect puts scope claims (email, profile) in the userinfo response of the code flow, not always in the ID token.
      if (claims[provider.subjectClaim] === undefined && config.serverMetadata().userinfo_endpoint) {
        try {
          const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          for (const [name, value] of Object.entries(info)) if (!(name in claims)) claims[name] = value;
        } catch (err) {
          throw classify(err, provider, 'userinfo');
        }
      }
      const sub = claims[provider.subjectClaim];
      if (typeof sub !== 'string' || sub === '') {
        throw loginFailed(
          'subject_claim_missing',
          provider,
          `The upstream identity provider did not say who you are: its answer has no ${provider.subjectClaim} claim${sub === undefined ? '' : ' with a text value'}, which this server uses as your user id.`,
          { subject_claim: provider.subjectClaim },
        );
      }
      if (sub.length > MAX_SUBJECT_LENGTH) {
        throw loginFailed(
          'subject_claim_missing',
          provider,
          `The upstream identity provider's ${provider.subjectClaim} claim is longer than ${MAX_SUBJECT_LENGTH} characters and cannot be used as your user id.`,
          {
            subject_claim: provider.subjectClaim,
          },
        );
      }
      logger.info({ event: 'upstream_login_succeeded', issuer: provider.issuer, account_id: sub }, 'end user signed in upstream');
      return { sub, claims, issuer: provider.issuer };
    },
  };

  /** openid-client's failure, as a coded refusal: the network and the upstream's server side are "unavailable", the rest is a failed login. */
  function classify(err: unknown, provider: UpstreamProvider, stage: 'token' | 'userinfo'): CertboundError {
    const refused: Unavailable = stage === 'token' ? 'token_endpoint_refused' : 'userinfo_failed';
    if (err instanceof oidc.AuthorizationResponseError) {
      const text = err.error_description ? `${err.error} (${err.error_description})` : err.error;
      return loginFailed('upstream_error', provider, `The upstream identity provider did not sign you in: it answered ${text}.`, { error: err.error }, err);
    }
    if (err instanceof oidc.WWWAuthenticateChallengeError) {
      const error = err.cause.find((c) => c.parameters.error)?.parameters.error ?? `HTTP ${err.status}`;
      return unavailable(refused, provider, `Sign-in is not available: the upstream identity provider refused this server's request (${error}).`, err);
    }
    if (err instanceof oidc.ResponseBodyError) {
      if (err.error === 'invalid_grant') {
        return loginFailed('code_rejected', provider, 'The upstream identity provider refused the sign-in code (expired or already used).', { error: err.error }, err);
      }
      return unavailable(refused, provider, `Sign-in is not available: the upstream identity provider refused this server's request (${err.error}).`, err);
    }
    const code = (err as { code?: unknown }).code;
    const cause = (err as { cause?: unknown }).cause;
    const causeMessage = cause instanceof Error ? cause.message : err instanceof Error ? err.message : '';
    if (causeMessage.includes('"state"')) {
      return loginFailed('state_mismatch', provider, 'The sign-in response does not belong to this sign-in (its state does not match).', {}, err);
    }
    if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && causeMessage.includes('"nonce"')) {
      return loginFailed('nonce_mismatch', provider, "The upstream identity provider's ID token does not belong to this sign-in (its nonce does not match).", {}, err);
    }
    if (err instanceof TypeError || code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT' || code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      return unavailable(
        stage === 'token' ? 'unreachable' : 'userinfo_failed',
        provider,
        `Sign-in is not available: the upstream identity provider ${provider.issuer} did not answer.`,
        err,
      );
    }
    return loginFailed('id_token_invalid', provider, "The upstream identity provider's answer did not validate.", {}, err);
  }
}

/** The JWS algorithm of a private JWK that names none: the one its key type and curve imply. */
function algorithmOf(jwk: JWK): string {
  if (jwk.kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv ?? ''] ?? 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  return 'RS256';
}

function describe(err: unknown): string | undefined {
  if (err === undefined) return undefined;
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message];
  let cause = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++, cause = cause.cause) parts.push(cause.message);
  return parts.join(': ');
}

function outboundFetch(options: UpstreamLoginOptions): oidc.CustomFetch {
  if (options.fetch) {
    const f = options.fetch;
    return (url, init) => f(url, init as RequestInit);
  }
  const ca = [options.ca, options.caFile ? readFileSync(options.caFile, 'utf8') : undefined].filter((pem): pem is string => pem !== undefined);
  const dispatcher = ca.length ? new Agent({ connect: { ca: [...rootCertificates, ...ca] } }) : undefined;
  return (url, init) => undiciFetch(url, { ...(init as object), ...(dispatcher ? { dispatcher } : {}) }) as unknown as Promise<Response>;
}
