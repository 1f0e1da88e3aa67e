/**
 * Per-request lookups of clients (with their mappings) and resource servers, cached in memory. Every
 * write bumps the `clients` / `resource_servers` revision in the same transaction; each token,
 * introspection and revocation request waits for a read of the revisions issued after it arrived
 * (concurrent requests share one, see coalesceReads) and drops what changed, so a CLI or admin change
 * still applies on the next request.
 */
import { clients, type Queryable, type ResourceServer, type RevisionReader, readRevisions, resourceServers } from '../store/index.js';
import type { PublishedKind } from '../outbound/jwks-uri-cache.js';
import { toClientMetadata } from './client-metadata.js';

const MAX_ENTRIES = 10_000;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as string);
}

/** The JWKS fetched from a client's jwks_uri, when there is one (src/outbound/jwks-uri-cache.ts). */
export type PublishedKeys = (clientId: string, uri: string, kind: PublishedKind) => { keys: Record<string, unknown>[] } | undefined;

/** What a client's jwks_uri serves: assertion keys for private_key_jwt, certificates for self-signed clients. */
export function publishedKindOf(authMethod: string): PublishedKind {
  return authMethod === 'private_key_jwt' ? 'keys' : 'certificates';
}

export function createLookupCache(db: Queryable, revisions: Pick<RevisionReader, 'read'> = { read: () => readRevisions(db) }, publishedKeys?: PublishedKeys) {
  let seen: { clients: number; resource_servers: number } | undefined;
  const clientMetadata = new Map<string, Record<string, unknown>>();
  const resources = new Map<string, ResourceServer>();

  return {
    /** Reads the revisions; drops cached entries of tables that changed since the last read. */
    async refresh(): Promise<void> {
      const r = await revisions.read();
      if (seen?.clients === r.clients && seen.resource_servers === r.resource_servers) return;
      if (seen?.clients !== r.clients) clientMetadata.clear();
      if (seen?.resource_servers !== r.resource_servers) resources.clear();
      seen = { clients: r.clients, resource_servers: r.resource_servers };
    },

    /** oidc-provider client metadata for `clientId`; unknown ids are not cached. */
    async client(clientId: string): Promise<Record<string, unknown> | undefined> {
      const hit = clientMetadata.get(clientId);
      if (hit) return hit;
      const record = await clients.find(db, clientId);
      if (!record) return undefined;
      const metadata = toClientMetadata(record);
      // SS-4: oidc-provider sees the certificates (or assertion keys) certbound fetched, never the jwks_uri itself.
      if (record.jwksUri) metadata.jwks = publishedKeys?.(clientId, record.jwksUri, publishedKindOf(record.authMethod)) ?? { keys: [] };
      remember(clientMetadata, clientId, metadata);
      return metadata;
    },

    /** Drops one client's cached metadata (its published certificates changed). */
    forget(clientId: string): void {
      clientMetadata.delete(clientId);
    },

    /** The cached resource server, without a database read (and without a promise); undefined on a miss. */
    cachedResourceServer(identifier: string): ResourceServer | undefined {
      return resources.get(identifier);
    },

    async resourceServer(identifier: string): Promise<ResourceServer | undefined> {
      const hit = resources.get(identifier);
      if (hit) return hit;
      const rs = await resourceServers.find(db, identifier);
      if (rs) remember(resources, identifier, rs);
      return rs;
    },
  };
}

export type LookupCache = ReturnType<typeof createLookupCache>;
