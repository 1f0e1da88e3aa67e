/**
 * The upstream OpenID Provider end users sign in at, for tests: a real, separate oidc-provider instance
 * (real OIDC software, not a mock) on its own HTTPS listener at https://127.0.0.1:<free port>, with a
 * certificate from a CA of its own (the relying party must trust `ca` through its fetch). It is on
 * 127.0.0.1, not localhost, so that a cookie jar keeps its cookies apart from certbound's (cookies ignore
 * ports, as browsers do).
 *
 * It has test accounts (`alice` / `wonderland` by default, with `email` and `name`), a login page of
 * its own (a form with `login` and `password`), consent given automatically, and the two clients
 * certbound uses there: `certbound-basic` (client_secret_basic) and `certbound-jwt` (private_key_jwt,
 * ES256). `refuseLogins()` makes it answer the next logins with an OAuth error; `down()`/`up()` close
 * and reopen its listener on the same port.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { Agent, fetch as undiciFetch } from 'undici';
import type { UpstreamAuthMethod, UpstreamProvider } from '../../src/store/index.js';
import { freePort } from '../helpers/net.js';
import { createCa, EKU_SERVER_AUTH, type Issued, issueLeaf } from '../helpers/pki.js';

export interface UpstreamAccount {
  password: string;
  /** Claims besides `sub` (the account id): `email`, `email_verified`, `name`, or any other. */
  claims: Record<string, unknown>;
}

export const DEFAULT_ACCOUNTS: Readonly<Record<string, UpstreamAccount>> = {
  alice: { password: 'wonderland', claims: { email: 'alice@example.com', email_verified: true, name: 'Alice Liddell' } },
};

export interface StartUpstreamOptions {
  /** The redirect URIs registered for certbound's clients (certbound's callback URL). */
  redirectUris: string[];
  /** Default {@link DEFAULT_ACCOUNTS}. */
  accounts?: Record<string, UpstreamAccount>;
  /**
   * The CA that issues the upstream's TLS certificate (default: one made now). Made first with
   * {@link createUpstreamCa} when certbound must trust it before the upstream starts (CERTBOUND_OUTBOUND_CA_FILE).
   */
  ca?: Issued;
  /** Put the scope claims in the ID token too (Keycloak, Entra do); by default they are in userinfo only, as OpenID Connect says for the code flow. */
  claimsInIdToken?: boolean;
}

export interface UpstreamClients {
  basic: { clientId: string; clientSecret: string };
  privateKeyJwt: { clientId: string; privateJwk: JWK; publicJwk: JWK };
}

export interface UpstreamOp {
  issuer: string;
  /** PEM of the CA that issued the upstream's TLS certificate. */
  ca: string;
  /** A fetch that trusts {@link ca} (for `createUpstreamLogin({ fetch })`). */
  fetch: typeof fetch;
  /** An undici dispatcher that trusts {@link ca}. */
  dispatcher: Agent;
  clients: UpstreamClients;
  accounts: Record<string, UpstreamAccount>;
  /** The oidc-provider instance itself. */
  provider: Provider;
  /** An `upstream_providers` row for one of the clients (`upstreamProviders.put(db, op.providerRow(...))`). */
  providerRow(authMethod: UpstreamAuthMethod, overrides?: Partial<UpstreamProvider>): UpstreamProvider;
  /** From now on, a submitted login ends with this OAuth error at the redirect URI instead of signing in (access_denied by default); `null` stops it. */
  refuseLogins(refusal?: { error: string; error_description?: string } | null): void;
  /** From now on (until `stall(false)`), requests are accepted and never answered: an upstream that hangs. */
  stall(on?: boolean): void;
  /** How many logins succeeded (a correct password). */
  readonly logins: number;
  /** Closes the listener and every connection: the upstream is unreachable until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** oidc-provider's storage, per instance (its own memory adapter is shared by every instance of a process). */
function memoryAdapter(): new (name: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();
  const live = (key: string) => {
    const entry = store.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry?.payload;
  };
  return class MemoryAdapter implements Adapter {
    constructor(private readonly name: string) {}
    private key(id: string) {
      return `${this.name}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      store.set(this.key(id), { payload: { ...payload }, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }
    async find(id: string) {
      return live(this.key(id));
    }
    async findByUid(uid: string) {
      for (const [key] of store) if (key.startsWith(`${this.name}:`) && live(key)?.uid === uid) return live(key);
      return undefined;
    }
    async findByUserCode(userCode: string) {
      for (const [key] of store) if (key.startsWith(`${this.name}:`) && live(key)?.userCode === userCode) return live(key);
      return undefined;
    }
    async consume(id: string) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, clientId: string, message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Upstream Test IdP</title></head>
<body>
<h1>Sign in to Upstream Test IdP</h1>
<p>${escapeHtml(clientId)} asks you to sign in.</p>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Username <input name="login" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A CA for the upstream's TLS certificate, to trust before the upstream starts. */
export function createUpstreamCa(): Promise<Issued> {
  return createCa({ name: [{ O: ['Upstream IdP'] }, { CN: ['Upstream IdP Test CA'] }] });
}

export async function startUpstreamOp(options: StartUpstreamOptions): Promise<UpstreamOp> {
  const accounts = { ...(options.accounts ?? DEFAULT_ACCOUNTS) };
  const root = options.ca ?? (await createUpstreamCa());
  const tlsLeaf = await issueLeaf(root, {
    subject: [{ CN: ['127.0.0.1'] }],
    san: [
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'localhost' },
    ],
    eku: [EKU_SERVER_AUTH],
  });
  const port = await freePort();
  const issuer = `https://127.0.0.1:${port}`;

  const signing = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'upstream-rs256', alg: 'RS256', use: 'sig' };
  const assertion = await generateKeyPair('ES256', { extractable: true });
  const kid = `certbound-${randomBytes(4).toString('hex')}`;
  const clients: UpstreamClients = {
    basic: { clientId: 'certbound-basic', clientSecret: randomBytes(24).toString('base64url') },
    privateKeyJwt: {
      clientId: 'certbound-jwt',
      privateJwk: { ...(await exportJWK(assertion.privateKey)), kid, alg: 'ES256' },
      publicJwk: { ...(await exportJWK(assertion.publicKey)), kid, alg: 'ES256', use: 'sig' },
    },
  };
  const common = { redirect_uris: options.redirectUris, grant_types: ['authorization_code'], response_types: ['code' as const] };

  const configuration: Configuration = {
    adapter: memoryAdapter(),
    clients: [
      { ...common, client_id: clients.basic.clientId, client_secret: clients.basic.clientSecret, token_endpoint_auth_method: 'client_secret_basic' },
      {
        ...common,
        client_id: clients.privateKeyJwt.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [clients.privateKeyJwt.publicJwk as never] },
      },
    ],
    jwks: { keys: [signingJwk as never] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: options.claimsInIdToken !== true,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ ...account.claims, sub: id }) };
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><h1>${escapeHtml(String(out.error))}</h1><p>${escapeHtml(String(out.error_description ?? ''))}</p></body></html>`;
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();
  let refusal: { error: string; error_description?: string } | null = null;
  let logins = 0;
  let stalled = false;

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params } = details;
    const clientId = String(params.client_id);
    if (req.method === 'GET' && path === `/interaction/${uid}`) {
      if (prompt.name === 'login') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(loginPage(uid, clientId));
        return;
      }
      // Consent is given at once: certbound is this provider's first-party relying party.
      const accountId = details.session?.accountId;
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId });
      if (!grant) throw new Error('the interaction names a grant that does not exist');
      const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'POST' && path === `/interaction/${uid}/login`) {
      const form = await readForm(req);
      if (refusal) {
        await provider.interactionFinished(req, res, { ...refusal }, { mergeWithLastSubmission: false });
        return;
      }
      const login = form.get('login') ?? '';
      const account = accounts[login];
      if (!account || account.password !== form.get('password')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(loginPage(uid, clientId, 'Wrong username or password.'));
        return;
      }
      logins++;
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  const server: Server = createServer({ cert: tlsLeaf.pem, key: tlsLeaf.keyPem }, (req, res) => {
    if (stalled) return;
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (!path.startsWith('/interaction/')) {
      callback(req, res);
      return;
    }
    interaction(req, res, path).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><body><h1>Sign-in failed</h1><p>${escapeHtml(err instanceof Error ? err.message : String(err))}</p></body></html>`);
    });
  });
  const listen = () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  await listen();

  const dispatcher = new Agent({ connect: { ca: root.pem } });
  const boundFetch = ((url: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(url as string, { ...(init as object), dispatcher }) as unknown as Promise<Response>) as typeof fetch;
  let listening = true;
  const close = async () => {
    if (!listening) return;
    listening = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  return {
    issuer,
    ca: root.pem,
    fetch: boundFetch,
    dispatcher,
    clients,
    accounts,
    provider,
    providerRow(authMethod, overrides = {}) {
      const at = new Date();
      return {
        name: 'default',
        issuer,
        clientId: authMethod === 'client_secret_basic' ? clients.basic.clientId : clients.privateKeyJwt.clientId,
        authMethod,
        clientSecret: authMethod === 'client_secret_basic' ? clients.basic.clientSecret : null,
        privateJwk: authMethod === 'private_key_jwt' ? (clients.privateKeyJwt.privateJwk as Record<string, unknown>) : null,
        scopes: ['openid', 'email', 'profile'],
        subjectClaim: 'sub',
        createdAt: at,
        updatedAt: at,
        ...overrides,
      };
    },
    refuseLogins(next = { error: 'access_denied', error_description: 'the user did not allow the sign-in' }) {
      refusal = next;
    },
    stall(on = true) {
      stalled = on;
    },
    get logins() {
      return logins;
    },
    down: close,
    async up() {
      if (listening) return;
      await listen();
      listening = true;
    },
    async stop() {
      await close();
      await dispatcher.close().catch(() => {});
    },
  };
}
