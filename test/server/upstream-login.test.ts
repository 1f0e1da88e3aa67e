/**
 * certbound as the upstream OpenID Provider's relying party (src/server/interactions/upstream-login.ts),
 * against a real oidc-provider instance (test/support/upstream-op.ts) driven by the test user agent
 * (test/support/code-flow-driver.ts): both client authentication methods, the state, nonce and PKCE
 * checks, the upstream's refusal, an unreachable upstream, no upstream configured, the subject claim.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertboundError } from '../../src/errors/index.js';
import { createUpstreamLogin, type PendingUpstreamLogin, UPSTREAM_LOGIN_MAX_AGE_MS } from '../../src/server/interactions/upstream-login.js';
import { type UpstreamProvider, upstreamProviders } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { type CodeFlowDriver, createCodeFlowDriver } from '../support/code-flow-driver.js';
import { startUpstreamOp, type UpstreamOp } from '../support/upstream-op.js';

const CALLBACK = 'https://localhost:8443/interaction/callback';

let database: TestDatabase;
let op: UpstreamOp;
const logs: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  }),
);
const drivers: CodeFlowDriver[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  op = await startUpstreamOp({
    redirectUris: [CALLBACK],
    accounts: { alice: { password: 'wonderland', claims: { email: 'alice@example.com', name: 'Alice' } }, bob: { password: 'builder', claims: {} } },
  });
});

afterAll(async () => {
  await op?.stop();
  await database?.drop();
});

afterEach(async () => {
  op.refuseLogins(null);
  op.stall(false);
  await op.up();
  await Promise.all(drivers.splice(0).map((d) => d.close()));
  await upstreamProviders.remove(database.db).catch(() => {});
});

async function configure(authMethod: UpstreamProvider['authMethod'], overrides: Partial<UpstreamProvider> = {}): Promise<void> {
  await upstreamProviders.put(database.db, op.providerRow(authMethod, overrides), undefined);
}

function driver(): CodeFlowDriver {
  const d = createCodeFlowDriver({ ca: [op.ca] });
  drivers.push(d);
  return d;
}

/** begin, then the browser at the upstream until it comes back to the callback URL. */
async function signIn(login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch }), credentials?: { login: string; password: string }) {
  const { url, pending } = await login.begin({ callbackUrl: CALLBACK });
  const outcome = await driver().authorize(url, { redirectUri: CALLBACK, ...(credentials ? { credentials } : {}) });
  expect(outcome.redirect, outcome.page?.html).toBeDefined();
  return { login, url: new URL(url), pending, outcome, currentUrl: outcome.redirect as URL };
}

async function refusal(promise: Promise<unknown>): Promise<CertboundError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CertboundError);
  return err as CertboundError;
}

describe('upstream login (certbound as the relying party of the upstream OpenID Provider)', () => {
  it('signs alice in with client_secret_basic: PKCE S256, state and nonce sent, the ID token sub returned', async () => {
    await configure('client_secret_basic');
    const { login, url, pending, currentUrl, outcome } = await signIn();
    expect(url.origin).toBe(op.issuer);
    expect(url.searchParams.get('client_id')).toBe(op.clients.basic.clientId);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toBe(pending.state);
    expect(url.searchParams.get('nonce')).toBe(pending.nonce);
    expect(url.searchParams.get('scope')?.split(' ')).toEqual(['openid', 'email', 'profile']);
    expect(outcome.signedInUpstream).toBe(true);
    expect(outcome.iss).toBe(op.issuer);

    const identity = await login.finish({ callbackUrl: CALLBACK, currentUrl, pending });
    expect(identity.sub).toBe('alice');
    expect(identity.issuer).toBe(op.issuer);
    expect(identity.claims).toMatchObject({ sub: 'alice', iss: op.issuer, aud: op.clients.basic.clientId });
    expect(logs.some((l) => l.event === 'upstream_login_succeeded' && l.account_id === 'alice')).toBe(true);
  });

  it('signs alice in with private_key_jwt, the subject taken from the email claim (from userinfo: not in the ID token)', async () => {
    await configure('private_key_jwt', { subjectClaim: 'email' });
    const { login, pending, currentUrl } = await signIn();
    const identity = await login.finish({ callbackUrl: CALLBACK, currentUrl, pending });
    expect(identity.sub).toBe('alice@example.com');
    expect(identity.claims).toMatchObject({ sub: 'alice', email: 'alice@example.com', name: 'Alice', aud: op.clients.privateKeyJwt.clientId });
  });

  it('refuses a callback whose state is not the one sent (UPSTREAM_LOGIN_FAILED, state_mismatch), and never asks the token endpoint', async () => {
    await configure('client_secret_basic');
    const { login, pending, currentUrl } = await signIn();
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending: { ...pending, state: 'another-state' } }));
    expect({ code: err.code, status: err.status, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_LOGIN_FAILED', status: 400, reason: 'state_mismatch' });
    expect(err.message).toMatch(/does not belong to this sign-in/);
    // The code is still unused upstream: with the right state it completes.
    expect((await login.finish({ callbackUrl: CALLBACK, currentUrl, pending })).sub).toBe('alice');
  });

  it('refuses an ID token whose nonce is not the one sent (UPSTREAM_LOGIN_FAILED, nonce_mismatch)', async () => {
    await configure('client_secret_basic');
    const { login, pending, currentUrl } = await signIn();
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending: { ...pending, nonce: 'another-nonce' } }));
    expect({ code: err.code, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_LOGIN_FAILED', reason: 'nonce_mismatch' });
    expect(logs.some((l) => l.event === 'upstream_login_refused' && l.reason === 'nonce_mismatch')).toBe(true);
  });

  it('sends the PKCE verifier: another verifier is refused upstream (invalid_grant → UPSTREAM_LOGIN_FAILED, code_rejected)', async () => {
    await configure('client_secret_basic');
    const { login, pending, currentUrl } = await signIn();
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending: { ...pending, codeVerifier: 'x'.repeat(43) } }));
    expect({ code: err.code, reason: err.details?.reason, error: err.details?.error }).toEqual({ code: 'UPSTREAM_LOGIN_FAILED', reason: 'code_rejected', error: 'invalid_grant' });
  });

  it("passes on the upstream's refusal (access_denied) as UPSTREAM_LOGIN_FAILED, upstream_error", async () => {
    await configure('client_secret_basic');
    op.refuseLogins();
    const { login, pending, currentUrl, outcome } = await signIn();
    expect(outcome.error).toBe('access_denied');
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending }));
    expect({ code: err.code, status: err.status, reason: err.details?.reason, error: err.details?.error }).toEqual({
      code: 'UPSTREAM_LOGIN_FAILED',
      status: 400,
      reason: 'upstream_error',
      error: 'access_denied',
    });
    expect(err.message).toContain('access_denied');
  });

  it('says the upstream is unavailable when it cannot be reached, at discovery and at the token endpoint (UPSTREAM_UNAVAILABLE, 502)', async () => {
    await configure('client_secret_basic');
    const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch, timeoutMs: 3_000 });
    const { pending, currentUrl } = await signIn(login);
    await op.down();
    const atToken = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending }));
    expect({ code: atToken.code, status: atToken.status, reason: atToken.details?.reason }).toEqual({ code: 'UPSTREAM_UNAVAILABLE', status: 502, reason: 'unreachable' });
    expect(atToken.message).toContain(op.issuer);

    const fresh = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch, timeoutMs: 3_000 });
    const atDiscovery = await refusal(fresh.begin({ callbackUrl: CALLBACK }));
    expect({ code: atDiscovery.code, reason: atDiscovery.details?.reason }).toEqual({ code: 'UPSTREAM_UNAVAILABLE', reason: 'discovery_failed' });
    expect(logs.some((l) => l.event === 'upstream_unavailable' && l.reason === 'discovery_failed' && typeof l.detail === 'string')).toBe(true);
  });

  it('says the upstream is unavailable when it accepts the connection and never answers (timeout)', async () => {
    await configure('client_secret_basic');
    const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch, timeoutMs: 500 });
    const { pending, currentUrl } = await signIn(login);
    op.stall();
    const started = Date.now();
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending }));
    expect({ code: err.code, status: err.status, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_UNAVAILABLE', status: 502, reason: 'unreachable' });
    // openid-client's timeout is in whole seconds: 500 ms rounds up to 1 s.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses an ID token that does not validate (expired by certbound's clock: UPSTREAM_LOGIN_FAILED, id_token_invalid)", async () => {
    await configure('client_secret_basic');
    // Two hours ahead for the whole login: the pending login is fresh, the upstream's one-hour ID token has expired.
    const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch, now: () => Date.now() + 2 * 3600_000 });
    const { pending, currentUrl } = await signIn(login);
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending }));
    expect({ code: err.code, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_LOGIN_FAILED', reason: 'id_token_invalid' });
    expect(logs.some((l) => l.event === 'upstream_login_refused' && l.reason === 'id_token_invalid' && String(l.detail).includes('exp'))).toBe(true);
  });

  it('refuses to start a sign-in when the private_key_jwt key configured cannot sign (UPSTREAM_UNAVAILABLE, client_key_invalid)', async () => {
    // A public key where the private one belongs: found before the user is sent upstream, not after.
    await configure('private_key_jwt', { privateJwk: op.clients.privateKeyJwt.publicJwk as Record<string, unknown> });
    const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch });
    const err = await refusal(login.begin({ callbackUrl: CALLBACK }));
    expect({ code: err.code, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_UNAVAILABLE', reason: 'client_key_invalid' });
    expect(err.message).toMatch(/private key/);
  });

  it("says the upstream is unavailable when it refuses certbound's client credentials (token_endpoint_refused)", async () => {
    await configure('client_secret_basic', { clientSecret: 'not-the-secret' });
    const { login, pending, currentUrl } = await signIn();
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending }));
    expect({ code: err.code, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_UNAVAILABLE', reason: 'token_endpoint_refused' });
    expect(err.message).toContain('invalid_client');
  });

  it('refuses to start a sign-in when no upstream provider is configured (UPSTREAM_NOT_CONFIGURED, 503)', async () => {
    const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch });
    const err = await refusal(login.begin({ callbackUrl: CALLBACK }));
    expect({ code: err.code, status: err.status, expose: err.expose }).toEqual({ code: 'UPSTREAM_NOT_CONFIGURED', status: 503, expose: true });
    expect(err.message).toMatch(/no upstream identity provider is configured/);
  });

  it('refuses a user whose answer lacks the configured subject claim (UPSTREAM_LOGIN_FAILED, subject_claim_missing)', async () => {
    await configure('client_secret_basic', { subjectClaim: 'email' });
    const { login, pending, currentUrl } = await signIn(undefined, { login: 'bob', password: 'builder' });
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending }));
    expect({ code: err.code, reason: err.details?.reason, claim: err.details?.subject_claim }).toEqual({
      code: 'UPSTREAM_LOGIN_FAILED',
      reason: 'subject_claim_missing',
      claim: 'email',
    });
    expect(err.message).toContain('email');
  });

  it('refuses a sign-in that took longer than the allowed time', async () => {
    await configure('client_secret_basic');
    let clock = Date.now();
    const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch, now: () => clock });
    const { pending, currentUrl } = await signIn(login);
    clock += UPSTREAM_LOGIN_MAX_AGE_MS + 1_000;
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending }));
    expect({ code: err.code, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_LOGIN_FAILED', reason: 'expired' });
  });

  it('discovers once per issuer and configuration version; a changed provider row is discovered again', async () => {
    await configure('client_secret_basic');
    const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch });
    const discovered = () => logs.filter((l) => l.event === 'upstream_discovered').length;
    const before = discovered();
    await login.begin({ callbackUrl: CALLBACK });
    await login.begin({ callbackUrl: CALLBACK });
    expect(discovered() - before).toBe(1);
    await configure('private_key_jwt', { updatedAt: new Date(Date.now() + 1_000) });
    const { url } = await login.begin({ callbackUrl: CALLBACK });
    expect(new URL(url).searchParams.get('client_id')).toBe(op.clients.privateKeyJwt.clientId);
    expect(discovered() - before).toBe(2);
  });

  it('refuses a login whose provider changed issuer in between (provider_changed)', async () => {
    await configure('client_secret_basic');
    const { login, pending, currentUrl } = await signIn();
    const moved: PendingUpstreamLogin = { ...pending, issuer: 'https://idp.example.com' };
    const err = await refusal(login.finish({ callbackUrl: CALLBACK, currentUrl, pending: moved }));
    expect({ code: err.code, reason: err.details?.reason }).toEqual({ code: 'UPSTREAM_LOGIN_FAILED', reason: 'provider_changed' });
  });
});

describe('upstream credentials encrypted at rest (CERTBOUND_KEY_ENCRYPTION_KEY)', () => {
  it('a server with the key-encryption key signs in with the sealed private key; one without it, or with another, shows sign-in unavailable and logs why', async () => {
    const kek = Buffer.alloc(32, 3);
    await upstreamProviders.put(database.db, op.providerRow('private_key_jwt'), kek);
    expect(String((await database.db('upstream_providers').first()).private_jwk)).toMatch(/^enc:v1:/);
    const sealedLogin = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch, keyEncryptionKey: kek });
    const { pending, currentUrl } = await signIn(sealedLogin);
    expect((await sealedLogin.finish({ callbackUrl: CALLBACK, currentUrl, pending })).sub).toBe('alice');

    for (const keyEncryptionKey of [undefined, Buffer.alloc(32, 4)]) {
      logs.length = 0;
      const login = createUpstreamLogin({ db: database.db, logger, fetch: op.fetch, keyEncryptionKey });
      const err = await refusal(login.begin({ callbackUrl: CALLBACK }));
      expect(err).toMatchObject({ code: 'UPSTREAM_NOT_CONFIGURED', status: 503, details: { reason: 'credentials_unreadable' } });
      expect(err.message).not.toMatch(/KEY_ENCRYPTION/);
      expect(logs.find((l) => l.event === 'upstream_unavailable')).toMatchObject({
        reason: 'credentials_unreadable',
        detail: expect.stringMatching(/CERTBOUND_KEY_ENCRYPTION_KEY/),
      });
    }
  });
});
