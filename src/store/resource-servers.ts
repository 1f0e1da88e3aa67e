import type { Db } from './knex.js';
import { type Queryable, sqlOf, toMs } from './sql.js';
import { writeAudit } from './audit.js';
import { isStorableKey } from './keys.js';
import { bumpRevision } from './revisions.js';

export interface ResourceServer {
  /** The resource indicator (RFC 8707) and the `aud` of its tokens. */
  identifier: string;
  scopes: string[];
  tokenFormat: 'jwt' | 'opaque';
  /** Access token lifetime in seconds; null → the server default. */
  ttl: number | null;
  signingAlg: string | null;
  /** Client ids that may introspect this resource's tokens besides each token's own client (RFC 7662 §4). */
  introspectionClients: string[];
  createdAt: Date;
  updatedAt: Date;
}

function fromRow(r: Record<string, unknown>): ResourceServer {
  return {
    identifier: String(r.identifier),
    scopes: String(r.scope).split(' ').filter(Boolean),
    tokenFormat: r.token_format === 'opaque' ? 'opaque' : 'jwt',
    ttl: r.ttl === null || r.ttl === undefined ? null : Number(r.ttl),
    signingAlg: r.signing_alg ? String(r.signing_alg) : null,
    introspectionClients: r.introspection_clients ? String(r.introspection_clients).split(' ').filter(Boolean) : [],
    createdAt: new Date(toMs(r.created_at) ?? 0),
    updatedAt: new Date(toMs(r.updated_at) ?? 0),
  };
}

export const resourceServers = {
  async list(db: Queryable): Promise<ResourceServer[]> {
    return (await sqlOf(db).all('select * from resource_servers order by identifier')).map(fromRow);
  },
  async find(db: Queryable, identifier: string): Promise<ResourceServer | undefined> {
    if (!isStorableKey(identifier)) return undefined;
    const [r] = await sqlOf(db).all('select * from resource_servers where identifier = ?', [identifier]);
    return r ? fromRow(r) : undefined;
  },
  async upsert(db: Queryable, rs: ResourceServer): Promise<void> {
    await bumpRevision(db, 'resource_servers');
    await sqlOf(db).run(
      'insert into resource_servers (identifier, scope, token_format, ttl, signing_alg, introspection_clients, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)' +
        ' on conflict (identifier) do update set scope = excluded.scope, token_format = excluded.token_format, ttl = excluded.ttl, signing_alg = excluded.signing_alg, introspection_clients = excluded.introspection_clients, updated_at = excluded.updated_at',
      [rs.identifier, rs.scopes.join(' '), rs.tokenFormat, rs.ttl, rs.signingAlg, rs.introspectionClients.join(' ') || null, rs.createdAt.getTime(), rs.updatedAt.getTime()],
    );
  },
  async remove(db: Db, identifier: string): Promise<void> {
    await bumpRevision(db, 'resource_servers');
    await db('resource_servers').where({ identifier }).delete();
  },
};

/**
 * Makes sure a resource server exists and offers at least `scopes` (adding missing ones, keeping its
 * other settings). Idempotent: writes (with an audit row, in one transaction) only when something was
 * missing. Here rather than in the admin service so that the server's start-up check of its own admin
 * resource does not load the admin use cases.
 */
export async function ensureResourceServerScopes(db: Queryable, identifier: string, scopes: readonly string[], actor: string): Promise<ResourceServer> {
  return sqlOf(db).transaction(async (trx) => {
    const before = await resourceServers.find(trx, identifier);
    if (before && scopes.every((s) => before.scopes.includes(s))) return before;
    const rs: ResourceServer = before
      ? { ...before, scopes: [...before.scopes, ...scopes.filter((s) => !before.scopes.includes(s))], updatedAt: new Date() }
      : { identifier, scopes: [...scopes], tokenFormat: 'jwt', ttl: null, signingAlg: null, introspectionClients: [], createdAt: new Date(), updatedAt: new Date() };
    await resourceServers.upsert(trx, rs);
    await writeAudit(trx, { actor, action: before ? 'resource.update' : 'resource.add', target: `resource:${identifier}`, before, after: rs });
    return rs;
  });
}
