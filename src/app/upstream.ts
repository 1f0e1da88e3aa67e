/**
 * The upstream OpenID Provider end users sign in at (certbound is not a user directory): its issuer,
 * certbound's client there and how it authenticates (a client secret, or a private key for
 * private_key_jwt), the scopes asked for, and the ID token claim that becomes the `sub` certbound
 * issues. One per server. The secret and the private key are stored, never shown or audited: a view
 * says whether a secret is set and gives the key's public JWK thumbprint.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { InvalidInputError, NotFoundError } from '../errors/index.js';
import { type Db, DEFAULT_UPSTREAM, type UpstreamAuthMethod, type UpstreamProvider, upstreamProviders, writeAudit } from '../store/index.js';
import { requireScopes } from './input-checks.js';

export const UPSTREAM_AUTH_METHODS: readonly UpstreamAuthMethod[] = ['client_secret_basic', 'private_key_jwt'];

export interface SetUpstreamInput {
  /** The provider's issuer identifier: an absolute https URL (http on a loopback host only). */
  issuer: string;
  /** certbound's client id at the provider. */
  clientId: string;
  authMethod: UpstreamAuthMethod;
  /** client_secret_basic: the client secret. */
  clientSecret?: string | undefined;
  /** private_key_jwt: the private key certbound signs its client assertions with, as a JWK (JSON text) or PEM (PKCS#8, SEC1 or PKCS#1). */
  privateKey?: string | undefined;
  /** The scopes asked for; must include openid. Default `openid`. */
  scopes?: string[] | undefined;
  /** The ID token claim whose value becomes the `sub` certbound issues. Default `sub`. */
  subjectClaim?: string | undefined;
}

/** The provider as an administrator sees it: no secret, no private key. */
export interface UpstreamView {
  issuer: string;
  clientId: string;
  authMethod: UpstreamAuthMethod;
  /** Whether a client secret is stored (client_secret_basic). */
  clientSecretSet: boolean;
  /** private_key_jwt: the key's public JWK thumbprint (RFC 7638, SHA-256), the `kid` its assertions carry, its type and signing algorithm. */
  privateKey: { thumbprint: string; kid: string; kty: string; alg: string } | null;
  scopes: string[];
  subjectClaim: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface UpstreamUseCaseOptions {
  db: Db;
  /** Fetches the provider's discovery document for `check` (tests give their own). Default: the global fetch. */
  fetch?: typeof fetch | undefined;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;
const CLAIM_NAME = /^[\x21-\x7e]{1,255}$/;
const MAX_SECRET_LENGTH = 4096;
const MAX_KEY_LENGTH = 16_384;
const DISCOVERY_TIMEOUT_MS = 5000;

function invalid(member: string, message: string, hint?: string, extra: Record<string, unknown> = {}): InvalidInputError {
  return new InvalidInputError('ERR_UPSTREAM_INVALID', message, { ...(hint ? { hint } : {}), details: { member, ...extra } });
}

function credentials(member: string, message: string, hint?: string): InvalidInputError {
  return new InvalidInputError('ERR_UPSTREAM_CREDENTIALS', message, { ...(hint ? { hint } : {}), details: { member } });
}

/** An OpenID issuer identifier: absolute https URL without query, fragment or credentials (OIDC Discovery §3); http on loopback for a local provider. */
export function checkIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('issuer', `${JSON.stringify(value)} is not an absolute URL.`, 'Give the issuer identifier of the provider, e.g. https://login.example.com/realms/staff.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw invalid(
      'issuer',
      `The issuer must be https (got ${url.protocol.replace(/:$/, '')}${url.protocol === 'http:' ? ' on a host that is not loopback' : ''}).`,
      'Use the https issuer URL the provider publishes in its discovery document.',
    );
  }
  if (url.search || value.includes('#') || url.username || url.password || value.length > 2048) {
    throw invalid('issuer', 'The issuer must not carry a query, a fragment or credentials, and has at most 2048 characters.');
  }
  return value;
}

/** The JWS algorithm a private key signs client assertions with, by its type. */
function algorithmOf(key: KeyObject, given: unknown): string {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw credentials('privateKey', `The RSA key has ${bits} bits; at least 2048 are needed.`);
    return given === 'PS256' || given === 'RS256' ? given : 'RS256';
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const alg = curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : undefined;
    if (!alg) throw credentials('privateKey', `The EC key is on the curve ${String(curve)}; use P-256, P-384 or P-521.`);
    return alg;
  }
  if (type === 'ed25519') return 'EdDSA';
  throw credentials('privateKey', `A ${String(type)} key cannot sign client assertions; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key.`);
}

/**
 * The private JWK certbound stores for private_key_jwt, from a JWK (JSON) or PEM text, with its `alg`
 * and its `kid`: a JWK's own (the provider may know the key by it), else the public thumbprint.
 */
export async function privateJwkFrom(text: string): Promise<{ jwk: Record<string, unknown>; thumbprint: string }> {
  const trimmed = text.trim();
  if (!trimmed || trimmed.length > MAX_KEY_LENGTH) throw credentials('privateKey', `The private key is empty or longer than ${MAX_KEY_LENGTH} characters.`);
  let key: KeyObject;
  let given: Record<string, unknown> = {};
  try {
    if (trimmed.startsWith('{')) {
      given = JSON.parse(trimmed) as Record<string, unknown>;
      if (given.kty === 'oct') throw new Error('symmetric');
      key = createPrivateKey({ key: given as JWK as import('node:crypto').JsonWebKey, format: 'jwk' });
    } else {
      key = createPrivateKey(trimmed);
    }
  } catch (cause) {
    throw new InvalidInputError('ERR_UPSTREAM_CREDENTIALS', 'The private key does not parse as a private JWK or a PEM private key.', {
      hint: 'Give the private key (with its private part: "d" in a JWK, -----BEGIN PRIVATE KEY----- in PEM), not the public key or a certificate.',
      details: { member: 'privateKey' },
      cause,
    });
  }
  const alg = algorithmOf(key, given.alg);
  const publicJwk = createPublicKey(key).export({ format: 'jwk' }) as JWK;
  const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  const kid = typeof given.kid === 'string' && /^[\x21-\x7e]{1,255}$/.test(given.kid) ? given.kid : thumbprint;
  return { jwk: { ...(key.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg, use: 'sig' }, thumbprint };
}

/**
 * The provider as shown: whether a secret is set, and the key's public thumbprint, never either one.
 *
 * @example
 * const view = await upstreamView(provider); // { clientSecretSet: true, privateKey: null, … }
 */
export async function upstreamView(p: UpstreamProvider): Promise<UpstreamView> {
  let privateKey: UpstreamView['privateKey'] = null;
  if (p.privateJwk) {
    const publicJwk = createPublicKey({ key: p.privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ format: 'jwk' }) as JWK;
    const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
    privateKey = { thumbprint, kid: typeof p.privateJwk.kid === 'string' ? p.privateJwk.kid : thumbprint, kty: String(p.privateJwk.kty), alg: String(p.privateJwk.alg ?? '') };
  }
  return {
    issuer: p.issuer,
    clientId: p.clientId,
    authMethod: p.authMethod,
    clientSecretSet: p.clientSecret !== null,
    privateKey,
    scopes: p.scopes,
    subjectClaim: p.subjectClaim,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

/** What the audit log records of a provider: the view, without its dates. */
async function auditView(p: UpstreamProvider): Promise<Record<string, unknown>> {
  const { createdAt: _c, updatedAt: _u, ...rest } = await upstreamView(p);
  return rest;
}

function notConfigured(): NotFoundError {
  return new NotFoundError('ERR_UPSTREAM_UNKNOWN', 'No upstream OpenID Provider is configured: end users cannot sign in for the authorization code flow.', {
    details: {},
  });
}

/**
 * @example
 * const upstream = createUpstreamUseCases({ db });
 * await upstream.setUpstream({ issuer: 'https://login.example.com', clientId: 'certbound', authMethod: 'client_secret_basic',
 *   clientSecret: secret, scopes: ['openid', 'email'], subjectClaim: 'sub' }, 'cli:alice');
 */
export function createUpstreamUseCases({ db, fetch: fetchDiscovery }: UpstreamUseCaseOptions) {
  /** Fetches the issuer's discovery document and checks it names that issuer and serves the method. */
  async function checkDiscovery(issuer: string, authMethod: UpstreamAuthMethod): Promise<void> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const unavailable = (reason: string, cause?: unknown) =>
      new InvalidInputError('ERR_UPSTREAM_DISCOVERY', `The discovery document at ${url} ${reason}.`, {
        hint: 'Check the issuer URL (it is the provider’s "issuer" value, exactly), and that this host reaches the provider; or save it without the check.',
        details: { member: 'issuer', url },
        ...(cause ? { cause } : {}),
      });
    let doc: Record<string, unknown>;
    try {
      const res = await (fetchDiscovery ?? fetch)(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
      if (!res.ok) throw unavailable(`answered HTTP ${res.status}`);
      doc = (await res.json()) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof InvalidInputError) throw err;
      throw unavailable(
        `could not be fetched (${(err as Error).name === 'TimeoutError' ? 'timed out' : (((err as Error).cause as Error | undefined)?.message ?? (err as Error).message)})`,
        err,
      );
    }
    if (doc === null || typeof doc !== 'object' || doc.issuer !== issuer) {
      throw unavailable(`names the issuer ${JSON.stringify((doc as Record<string, unknown> | null)?.issuer ?? null)}, not ${JSON.stringify(issuer)}`);
    }
    for (const member of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
      if (typeof doc[member] !== 'string') throw unavailable(`has no ${member}`);
    }
    const methods = doc.token_endpoint_auth_methods_supported;
    // Absent, the default is client_secret_basic (OIDC Discovery §3).
    if (Array.isArray(methods) ? !methods.includes(authMethod) : authMethod !== 'client_secret_basic') {
      throw unavailable(`does not list ${authMethod} in token_endpoint_auth_methods_supported`);
    }
  }

  /** The provider to store, from the input, every member checked. */
  async function providerOf(input: SetUpstreamInput, now: Date, createdAt: Date): Promise<UpstreamProvider> {
    const issuer = checkIssuer(input.issuer);
    if (!CLIENT_ID.test(input.clientId)) {
      throw invalid('clientId', 'The client id must be 1 to 255 visible ASCII characters, without spaces.', 'Give the client id the provider assigned to certbound.');
    }
    if (!UPSTREAM_AUTH_METHODS.includes(input.authMethod)) {
      throw invalid('authMethod', `${JSON.stringify(input.authMethod)} is not client_secret_basic or private_key_jwt.`);
    }
    let clientSecret: string | null = null;
    let privateJwk: Record<string, unknown> | null = null;
    if (input.authMethod === 'client_secret_basic') {
      if (input.privateKey !== undefined)
        throw credentials('privateKey', 'A private key is for private_key_jwt; client_secret_basic takes a client secret.', 'Give the client secret, or choose private_key_jwt.');
      if (input.clientSecret === undefined || input.clientSecret === '')
        throw credentials('clientSecret', 'client_secret_basic needs the client secret.', 'Give the client secret the provider issued to certbound.');
      if (input.clientSecret.length > MAX_SECRET_LENGTH || /[\x00-\x1f\x7f]/.test(input.clientSecret)) {
        throw credentials('clientSecret', `The client secret must be at most ${MAX_SECRET_LENGTH} characters, without control characters (line breaks included).`);
      }
      clientSecret = input.clientSecret;
    } else {
      if (input.clientSecret !== undefined)
        throw credentials(
          'clientSecret',
          'A client secret is for client_secret_basic; private_key_jwt takes a private key.',
          'Give the private key, or choose client_secret_basic.',
        );
      if (input.privateKey === undefined)
        throw credentials(
          'privateKey',
          'private_key_jwt needs the private key certbound signs its client assertions with.',
          'Give the private key (JWK or PEM); register its public key at the provider.',
        );
      privateJwk = (await privateJwkFrom(input.privateKey)).jwk;
    }
    const scopes = requireScopes(input.scopes ?? ['openid'], 'scopes');
    if (!scopes.includes('openid')) throw invalid('scopes', 'The scopes must include openid: the sign-in needs an ID token.', 'Add openid, e.g. "openid email".');
    const subjectClaim = input.subjectClaim ?? 'sub';
    if (!CLAIM_NAME.test(subjectClaim))
      throw invalid('subjectClaim', 'The subject claim must be a claim name: 1 to 255 visible ASCII characters, without spaces.', 'e.g. sub, email or oid.');
    return {
      name: DEFAULT_UPSTREAM,
      issuer,
      clientId: input.clientId,
      authMethod: input.authMethod,
      clientSecret,
      privateJwk,
      scopes,
      subjectClaim,
      createdAt,
      updatedAt: now,
    };
  }

  return {
    /**
     * Configures (or replaces) the upstream provider; a sign-in started afterwards uses it. With
     * `check`, the issuer's discovery document is fetched first and must name that issuer.
     */
    async setUpstream(input: SetUpstreamInput, actor: string, options: { check?: boolean } = {}): Promise<UpstreamView> {
      const now = new Date();
      const provider = await providerOf(input, now, now);
      if (options.check) await checkDiscovery(provider.issuer, provider.authMethod);
      return db.transaction(async (trx) => {
        const before = await upstreamProviders.find(trx);
        const stored = { ...provider, createdAt: before?.createdAt ?? now };
        await upstreamProviders.put(trx, stored);
        await writeAudit(trx, {
          actor,
          action: 'upstream.set',
          target: `upstream:${DEFAULT_UPSTREAM}`,
          ...(before ? { before: await auditView(before) } : {}),
          after: await auditView(stored),
        });
        return upstreamView(stored);
      });
    },

    async showUpstream(): Promise<UpstreamView> {
      const p = await upstreamProviders.find(db);
      if (!p) throw notConfigured();
      return upstreamView(p);
    },

    /** Removes the provider: sign-ins fail (with a page that says so) until one is configured again. */
    async removeUpstream(actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await upstreamProviders.find(trx);
        if (!before) throw notConfigured();
        await upstreamProviders.remove(trx);
        await writeAudit(trx, { actor, action: 'upstream.remove', target: `upstream:${DEFAULT_UPSTREAM}`, before: await auditView(before) });
      });
    },
  };
}

export type UpstreamUseCases = ReturnType<typeof createUpstreamUseCases>;
