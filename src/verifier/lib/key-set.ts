import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JSONWebKeySet } from 'jose';
import type { Fetcher } from './http.js';
import { memoize } from './memoize.js';
import type { IssuerMetadata } from './metadata.js';

export interface IssuerKeysOptions {
  /** A given key set (`checkKeySet`); undefined: the keys are fetched from `jwksUri` or the metadata's `jwks_uri`. */
  readKeySet: (() => JSONWebKeySet) | undefined;
  jwksUri: string | undefined;
  jwks: { cooldownDuration?: number; cacheMaxAge?: number } | undefined;
  timeout: number;
  fetch: Fetcher;
  metadata: () => Promise<IssuerMetadata>;
  now: () => number;
}

/** The issuer's public keys, given or fetched, and the generation they are at. */
export class IssuerKeys {
  /**
   * Goes up whenever the issuer's key set may have changed: a `keySet` function returned another set, or
   * the JWKS was fetched (again). A cached JWT verified under an older generation is verified again, so a
   * key that left the set stops verifying its tokens, cached or not.
   */
  generation = 0;
  /**
   * A given key set (or key-set function) as a jose key resolver, rebuilt only when the set object
   * changes (a `keySet` function returned another object; the generation goes up then). Undefined when
   * the keys are fetched.
   */
  readonly local: (() => ReturnType<typeof createLocalJWKSet>) | undefined;
  /** The fetched JWKS as a jose key resolver (jose caches it and refetches for an unknown `kid`). */
  readonly remote: () => Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(options: IssuerKeysOptions) {
    const { readKeySet, jwksUri, jwks, timeout, fetch, metadata } = options;
    if (readKeySet) {
      let last: JSONWebKeySet | undefined;
      let resolver: ReturnType<typeof createLocalJWKSet> | undefined;
      this.local = () => {
        const current = readKeySet();
        if (current !== last || !resolver) {
          resolver = createLocalJWKSet(current);
          if (last !== undefined) this.generation++;
          last = current;
        }
        return resolver;
      };
    }
    this.remote = memoize(
      async () => {
        const uri = jwksUri ?? (await metadata()).jwks_uri;
        if (!uri) throw new Error('the issuer metadata has no jwks_uri');
        return createRemoteJWKSet(new URL(uri), {
          cooldownDuration: jwks?.cooldownDuration,
          cacheMaxAge: jwks?.cacheMaxAge,
          timeoutDuration: timeout,
          // Every JWKS fetch starts a new key generation (cached tokens are verified again once).
          [customFetch]: (async (...args: Parameters<typeof fetch>) => {
            const response = await fetch(...args);
            this.generation++;
            return response;
          }) as unknown as FetchImplementation,
        });
      },
      options.now,
      10_000,
    );
  }
}
