/**
 * SS-4: the server's fetched copies of what clients publish at a jwks_uri: certificates of
 * self_signed_tls_client_auth clients, assertion keys of private_key_jwt clients. The fetching code
 * (undici) is loaded when the first such client makes a request (loaders.ts); until then every read
 * answers "nothing fetched yet".
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { JwksUriCache, PublishedKind } from '../outbound/jwks-uri-cache.js';
import type { Config } from '../config/index.js';
import { load, loadOnce } from './loaders.js';

export interface ServerJwksUris {
  /** The cache oidc-provider's client lookups use; loads the fetching code on the first `ensure`. */
  cache: JwksUriCache;
  /** The set fetched for a client, if any (no fetch). */
  publishedKeys(clientId: string, uri: string, kind?: PublishedKind): { keys: Record<string, unknown>[] } | undefined;
  /** For a refusal: how old the fetched set is and when an unknown certificate makes it fetched again. */
  publishedSetNote(clientId: string): string | undefined;
  /** Where a failed fetch is logged (also for the admin use cases' fetches). */
  logFailure(failure: { uri: string; reason: string; error: unknown }): void;
}

export function createServerJwksUris({
  config,
  logger,
}: {
  config: Pick<Config, 'outboundCaFile' | 'jwksUriMinRefreshMs' | 'jwksUriAllowedRanges'>;
  logger: Logger;
}): ServerJwksUris {
  // A failed fetch (registration through the admin API, or on use): the reason the caller got and the
  // full error, here only.
  const logFailure = ({ uri, reason, error }: { uri: string; reason: string; error: unknown }) =>
    logger.warn({ event: 'jwks_uri_fetch_failed', uri, err: error }, `jwks_uri ${uri}: ${reason}`);
  let loaded: JwksUriCache | undefined;
  const loadCache = loadOnce<JwksUriCache>(() =>
    load.jwksUri().then(({ createJwksUriCache, validateSelfSignedJwks, validatePrivateKeyJwtJwks }) => {
      loaded = createJwksUriCache({
        ca: config.outboundCaFile ? readFileSync(config.outboundCaFile, 'utf8') : undefined,
        minRefreshMs: config.jwksUriMinRefreshMs,
        allowedRanges: config.jwksUriAllowedRanges,
        onFailure: logFailure,
        validate: (text, kind) => (kind === 'keys' ? validatePrivateKeyJwtJwks(text) : validateSelfSignedJwks(text)),
      });
      return loaded;
    }),
  );
  return {
    cache: {
      peek: (clientId, uri, kind) => loaded?.peek(clientId, uri, kind) ?? { uri, jwks: undefined, thumbprints: new Set(), kids: new Set(), fetchedAt: 0, error: undefined },
      ensure: async (clientId, uri, need, kind) => (await loadCache()).ensure(clientId, uri, need, kind),
      status: (clientId) => loaded?.status(clientId),
      close: async () => loaded?.close(),
    },
    publishedKeys: (clientId, uri, kind) => loaded?.peek(clientId, uri, kind).jwks,
    publishedSetNote(clientId) {
      const status = loaded?.status(clientId);
      if (!status) return undefined;
      const t = Date.now();
      const waitS = Math.ceil((status.attemptedAt + config.jwksUriMinRefreshMs - t) / 1000);
      return (
        ` It is not in the set the client publishes at ${status.uri}, as last fetched ${Math.round((t - (status.fetchedAt || status.attemptedAt)) / 1000)} s ago;` +
        ` for an unknown certificate the set is fetched again at most every ${config.jwksUriMinRefreshMs / 1000} s (CERTBOUND_JWKS_URI_MIN_REFRESH_MS)` +
        (waitS > 0 ? `, so a certificate published since is seen in ${waitS} s: retry then.` : '.')
      );
    },
    logFailure,
  };
}
