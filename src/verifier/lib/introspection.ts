/** Opaque tokens through RFC 7662 introspection, with the answer checked like a JWT's claims. */
import type { IntrospectionOptions } from '../types.js';
import type { TokenFacts } from './cache.js';
import { type Fetcher, readJsonObject } from './http.js';
import { memoize } from './memoize.js';
import type { IssuerMetadata } from './metadata.js';
import type { Refusals } from './refusals.js';
import { TokenCache } from './token-cache.js';

export interface IntrospectorOptions {
  issuer: string;
  audience: string | string[];
  clockTolerance: number;
  /** Undefined: opaque tokens are refused (only JWT access tokens are accepted). */
  introspection: IntrospectionOptions | undefined;
  /** The `introspectionEndpoint` option; default: from the metadata. */
  endpoint: string | undefined;
  metadata: () => Promise<IssuerMetadata>;
  /** The fetcher that authenticates as `introspection` (with its client certificate for mTLS). */
  fetch: Fetcher;
  now: () => number;
  refusals: Refusals;
}

export class Introspector {
  readonly #options: IntrospectorOptions;
  readonly #endpoint: () => Promise<string>;
  // Negative introspection results live in a small cache of their own, so random tokens never evict good entries.
  readonly #inactive = new TokenCache<true>(1000);

  constructor(options: IntrospectorOptions) {
    this.#options = options;
    const { introspection, endpoint: explicit, metadata } = options;
    this.#endpoint = memoize(
      async () => {
        if (explicit) return explicit;
        const meta = await metadata();
        const endpoint = (introspection && 'tls' in introspection && meta.mtls_endpoint_aliases?.introspection_endpoint) || meta.introspection_endpoint;
        if (!endpoint) throw new Error('the issuer metadata has no introspection_endpoint');
        return endpoint;
      },
      options.now,
      10_000,
    );
  }

  /** The token's claims and until when the answer may be reused (ms), or the refusal. */
  async introspect(token: string): Promise<{ entry: TokenFacts; until: number }> {
    const { issuer, audience, clockTolerance, introspection, fetch, now, refusals } = this.#options;
    if (!introspection) {
      throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INVALID', 'token format not supported', { detail: 'not a JWS compact token and introspection is not configured' });
    }
    if (this.#inactive.get(token, now())) throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INACTIVE', 'token is not active', { detail: 'cached inactive result' });
    let json: Record<string, unknown>;
    try {
      const endpoint = await this.#endpoint();
      const body = new URLSearchParams({ token, token_type_hint: 'access_token' });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if ('clientSecret' in introspection) {
        // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
        const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
        headers.authorization = `Basic ${Buffer.from(`${encode(introspection.clientId)}:${encode(introspection.clientSecret)}`).toString('base64')}`;
      } else {
        body.set('client_id', introspection.clientId);
      }
      const response = await fetch(endpoint, { method: 'POST', body: body.toString(), headers });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`introspection endpoint answered ${response.status}`);
      }
      json = await readJsonObject(response);
      if (typeof json.active !== 'boolean') throw new Error('introspection response has no boolean "active"');
    } catch (cause) {
      throw refusals.upstream(`introspection failed: ${(cause as Error).message}`, cause);
    }
    const t = now();
    const nowSeconds = Math.floor(t / 1000);
    if (json.active !== true) {
      this.#inactive.set(token, true, t + (introspection.inactiveCacheMaxAge ?? 10_000));
      throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INACTIVE', 'token is not active');
    }
    const claim = (name: string, ok: boolean) => {
      if (!ok) throw refusals.invalidToken('ERR_VERIFIER_TOKEN_INVALID', `token ${name} claim invalid`, { detail: `introspection ${name}` });
    };
    claim('iss', json.iss === undefined || json.iss === issuer);
    if (json.aud !== undefined) {
      const auds = Array.isArray(json.aud) ? json.aud : [json.aud];
      const wanted = Array.isArray(audience) ? audience : [audience];
      claim(
        'aud',
        auds.some((a) => wanted.includes(a as string)),
      );
    }
    if (json.exp !== undefined) {
      claim('exp', typeof json.exp === 'number');
      if ((json.exp as number) + clockTolerance < nowSeconds) throw refusals.invalidToken('ERR_VERIFIER_TOKEN_EXPIRED', 'token expired');
    }
    if (json.nbf !== undefined) claim('nbf', typeof json.nbf === 'number' && json.nbf <= nowSeconds + clockTolerance);
    // A refresh token (or a DPoP token) is not a bearer access token for this resource.
    if (json.token_type !== undefined) claim('token_type', typeof json.token_type === 'string' && json.token_type.toLowerCase() === 'bearer');
    claim('client_id', json.client_id === undefined || typeof json.client_id === 'string');
    claim('scope', json.scope === undefined || typeof json.scope === 'string');
    const exp = typeof json.exp === 'number' ? json.exp : undefined;
    const maxAge = introspection.cacheMaxAge ?? 300_000;
    const until = Math.min(t + maxAge, exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000);
    return { entry: { claims: json as TokenFacts['claims'], exp }, until };
  }
}
