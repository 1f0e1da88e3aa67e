/**
 * Resource servers: the token audiences (RFC 8707 resource indicators), the scopes each offers, its token
 * format and lifetime, and the clients that may introspect its tokens.
 */
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { clients, type Db, ensureResourceServerScopes, type ResourceServer, resourceServers, writeAudit } from '../store/index.js';
import { requireScopes } from './input-checks.js';
import { CLIENT_ID_PATTERN, MAX_RESOURCE_ID_LENGTH } from './patterns.js';

export interface AddResourceServerInput {
  identifier: string;
  scopes: string[];
  tokenFormat?: 'jwt' | 'opaque';
  ttl?: number | undefined;
  /**
   * Registered clients that may introspect this resource's tokens (the resource server's own client
   * identity), besides each token's own client. Absent: unchanged (none for a new resource server).
   */
  introspectionClients?: string[] | undefined;
}

/** The shortest and longest token lifetime a resource server may set, in seconds. */
export const TTL_RANGE = { min: 10, max: 86_400 } as const;

function checkIdentifier(identifier: string): void {
  let url: URL | undefined;
  try {
    url = new URL(identifier);
  } catch {
    url = undefined;
  }
  // The URL parser drops or percent-encodes whitespace and control characters, but the identifier is
  // stored as given: a URI (RFC 3986) holds none, and PostgreSQL text cannot hold U+0000.
  if (!url || url.hash || !/^(https:|urn:)/.test(url.protocol) || /[\s\x00-\x1f\x7f]/.test(identifier) || identifier.length > MAX_RESOURCE_ID_LENGTH) {
    const shown = identifier.length > 200 ? `${identifier.slice(0, 200)}...` : identifier;
    throw new InvalidInputError('ERR_RESOURCE_ID_INVALID', `${JSON.stringify(shown)} is not a valid resource indicator`, {
      hint: `Use an absolute https:// URI without a fragment, spaces or control characters, of at most ${MAX_RESOURCE_ID_LENGTH} characters (RFC 8707), e.g. https://api.example.com, or a urn:.`,
      details: { member: 'identifier' },
    });
  }
}

async function assertClientsExist(trx: Db, clientIds: string[]): Promise<void> {
  const missing: string[] = [];
  for (const id of clientIds) if (!(await clients.find(trx, id))) missing.push(id);
  if (missing.length) {
    throw new NotFoundError('ERR_CLIENT_UNKNOWN', `there is no client ${missing.map((id) => `"${id}"`).join(', ')}.`, {
      hint: "Register the resource server's own client first, then name it here.",
      details: { member: 'introspectionClients', missing },
    });
  }
}

/**
 * The resource-server use cases over a database.
 *
 * @example
 * const apis = createResourceServerUseCases({ db });
 * await apis.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'cli:alice');
 */
export function createResourceServerUseCases({ db }: { db: Db }) {
  return {
    /**
     * Creates or replaces a resource server. `expect: 'new'` refuses an existing identifier (409),
     * `expect: 'existing'` refuses an unknown one (404); without it the call is an upsert (the CLI).
     */
    async addResourceServer(input: AddResourceServerInput, actor: string, options: { expect?: 'new' | 'existing' } = {}): Promise<ResourceServer> {
      checkIdentifier(input.identifier);
      const scopes = requireScopes(input.scopes, 'scopes');
      if (!scopes.length) throw new InvalidInputError('ERR_SCOPE_INVALID', 'A resource server needs at least one scope', { details: { member: 'scopes', problem: 'none' } });
      const ttl = input.ttl;
      if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < TTL_RANGE.min || ttl > TTL_RANGE.max)) {
        throw new InvalidInputError('ERR_TTL_INVALID', `${ttl} is out of range`, {
          hint: `Use a whole number of seconds from ${TTL_RANGE.min} to ${TTL_RANGE.max}.`,
          details: { member: 'ttl', value: ttl },
        });
      }
      const format = input.tokenFormat ?? 'jwt';
      if (format !== 'jwt' && format !== 'opaque')
        throw new InvalidInputError('ERR_FORMAT_INVALID', `${String(format)} is not jwt or opaque`, { details: { member: 'tokenFormat', value: String(format) } });
      const introspectionClients = input.introspectionClients === undefined ? undefined : [...new Set(input.introspectionClients)];
      for (const id of introspectionClients ?? []) {
        if (!CLIENT_ID_PATTERN.test(id)) {
          throw new InvalidInputError('ERR_CLIENT_ID_INVALID', `"${id}" is not a valid client id`, {
            hint: 'Give the client ids, space-separated.',
            details: { member: 'introspectionClients' },
          });
        }
      }
      return db.transaction(async (trx) => {
        const before = await resourceServers.find(trx, input.identifier);
        if (introspectionClients?.length) await assertClientsExist(trx, introspectionClients);
        if (before && options.expect === 'new') {
          throw new ConflictError('ERR_RESOURCE_EXISTS', `A resource server "${input.identifier}" already exists.`, {
            hint: 'Update it instead, or remove it first.',
            details: { member: 'identifier' },
          });
        }
        if (!before && options.expect === 'existing') throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${input.identifier}".`);
        const rs: ResourceServer = {
          identifier: input.identifier,
          scopes,
          tokenFormat: format,
          ttl: ttl ?? null,
          signingAlg: null,
          introspectionClients: introspectionClients ?? before?.introspectionClients ?? [],
          createdAt: before?.createdAt ?? new Date(),
          updatedAt: new Date(),
        };
        await resourceServers.upsert(trx, rs);
        await writeAudit(trx, { actor, action: before ? 'resource.update' : 'resource.add', target: `resource:${rs.identifier}`, before, after: rs });
        return rs;
      });
    },

    listResourceServers: (): Promise<ResourceServer[]> => resourceServers.list(db),

    async showResourceServer(identifier: string): Promise<ResourceServer> {
      const rs = await resourceServers.find(db, identifier);
      if (!rs) throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${identifier}".`);
      return rs;
    },

    /**
     * Makes sure a resource server exists and offers at least `scopes` (adding missing ones, keeping its
     * other settings). Idempotent: writes (with an audit row) only when something was missing.
     */
    ensureResourceServer(identifier: string, scopes: string[], actor: string): Promise<ResourceServer> {
      return ensureResourceServerScopes(db, identifier, scopes, actor);
    },

    /** Refused (ERR_RESOURCE_IN_USE) while it is a client's default resource. */
    async removeResourceServer(identifier: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await resourceServers.find(trx, identifier);
        if (!before) throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${identifier}".`);
        const users = (await clients.list(trx)).filter((c) => c.defaultResource === identifier).map((c) => c.clientId);
        if (users.length) {
          throw new ConflictError('ERR_RESOURCE_IN_USE', `Resource server "${identifier}" is the default resource of: ${users.join(', ')}.`, {
            hint: 'Change or remove those clients first.',
            details: { clients: users },
          });
        }
        await resourceServers.remove(trx, identifier);
        await writeAudit(trx, { actor, action: 'resource.remove', target: `resource:${identifier}`, before });
      });
    },
  };
}

export type ResourceServerUseCases = ReturnType<typeof createResourceServerUseCases>;
