import type { Db } from './knex.js';
import { toMs } from './knex.js';
import { writeAudit } from './audit.js';
import { bumpRevision } from './revisions.js';

export interface ResourceServer {
  /** The resource indicator (RFC 8707) and the `aud` of its tokens. */
  identifier: string;
  scopes: string[];
  tokenFormat: 'jwt' | 'opaque';
  /** Access token lifetime in seconds; null → the server default. */
  ttl: number | null;
  signingAlg: string | null;
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
    createdAt: new Date(toMs(r.created_at) ?? 0),
    updatedAt: new Date(toMs(r.updated_at) ?? 0),
  };
}

export const resourceServers = {
  async list(db: Db): Promise<ResourceServer[]> {
    return ((await db('resource_servers').select('*').orderBy('identifier')) as Record<string, unknown>[]).map(fromRow);
  },
  async find(db: Db, identifier: string): Promise<ResourceServer | undefined> {
    const r = await db('resource_servers').where({ identifier }).first();
    return r ? fromRow(r) : undefined;
  },
  async upsert(db: Db, rs: ResourceServer): Promise<void> {
    await bumpRevision(db, 'resource_servers');
    const row = {
      identifier: rs.identifier,
      scope: rs.scopes.join(' '),
      token_format: rs.tokenFormat,
      ttl: rs.ttl,
      signing_alg: rs.signingAlg,
      created_at: rs.createdAt.getTime(),
      updated_at: rs.updatedAt.getTime(),
    };
    await db('resource_servers').insert(row).onConflict('identifier').merge(['scope', 'token_format', 'ttl', 'signing_alg', 'updated_at']);
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
export async function ensureResourceServerScopes(db: Db, identifier: string, scopes: readonly string[], actor: string): Promise<ResourceServer> {
  return db.transaction(async (trx) => {
    const before = await resourceServers.find(trx, identifier);
    if (before && scopes.every((s) => before.scopes.includes(s))) return before;
    const rs: ResourceServer = before
      ? { ...before, scopes: [...before.scopes, ...scopes.filter((s) => !before.scopes.includes(s))], updatedAt: new Date() }
      : { identifier, scopes: [...scopes], tokenFormat: 'jwt', ttl: null, signingAlg: null, createdAt: new Date(), updatedAt: new Date() };
    await resourceServers.upsert(trx, rs);
    await writeAudit(trx, { actor, action: before ? 'resource.update' : 'resource.add', target: `resource:${identifier}`, before, after: rs });
    return rs;
  });
}
