/**
 * Clients: registration by authentication method (tls_client_auth with its first mapping,
 * self_signed_tls_client_auth with its certificates, private_key_jwt with its keys), their scopes,
 * default resource, bound-token setting and keys, and removal with everything that names them. The
 * mappings of a registered client have their own use cases (mappings.ts).
 */
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/index.js';
import { type AuthMethod, type ClientRecord, clients, type Db, removeClientTokens, resourceServers, writeAudit } from '../store/index.js';
import { ADMIN_SCOPE } from './admin-scopes.js';
import { type ClientKeyOptions, createClientKeyChecks, type GivenKeys, type RegisteredKeys } from './client-keys.js';
import { assertConsistentGrants, type ClientGrants, newClientGrants, requireGrantTypes, requireRedirectUris } from './client-grants.js';
import { attributed } from './error-fields.js';
import { requireScopes } from './input-checks.js';
import { assertAnotherAdministrator } from './last-administrator.js';
import { assertNoOverlapOf, type MappingInput, newMapping } from './mappings.js';
import { CLIENT_ID_PATTERN } from './patterns.js';
import { jwksFromCertificatePem } from '../jwks/self-signed.js';

export interface AddClientInput {
  clientId: string;
  /** tls_client_auth: one certificate mapping. */
  mapping?: MappingInput;
  /** self_signed_tls_client_auth: the client's certificate (PEM). */
  selfSignedCertPem?: string;
  /** self_signed_tls_client_auth: a JWKS (JSON text) whose keys carry the client's certificates in x5c. */
  selfSignedJwks?: string;
  /** private_key_jwt: a JWKS (JSON text) with the public keys the client signs its assertions with (BT-2). */
  privateKeyJwtJwks?: string;
  /** self_signed_tls_client_auth: where the client publishes its certificates (SS-4); fetched once to check it. */
  selfSignedJwksUri?: string;
  /** private_key_jwt: where the client publishes its public assertion keys (RFC 7591 jwks_uri); fetched once to check it. */
  privateKeyJwtJwksUri?: string;
  scopes?: string[];
  defaultResource?: string | undefined;
  /** RFC 8705 §3.4; default true. */
  boundTokens?: boolean;
  /**
   * A public client (token_endpoint_auth_method none, RFC 8705 §4): no mapping and no keys; the
   * certificate it connects with proves possession only, and its tokens are bound to it.
   */
  publicClient?: boolean;
  /** RFC 7591 grant_types; default client_credentials (authorization_code for a public client). */
  grantTypes?: string[];
  /** Where the authorization code flow returns (compared exactly): https, or http on loopback. */
  redirectUris?: string[];
  /** RFC 9126 require_pushed_authorization_requests; default true. */
  requirePar?: boolean;
}

/** Client-level settings an administrator may change after creation (mappings have their own use cases). */
export interface UpdateClientInput {
  scopes?: string[];
  /** `null` clears the default resource. */
  defaultResource?: string | null;
  boundTokens?: boolean;
  /**
   * Replaces the registered keys (JSON text of a JWKS): a private_key_jwt client's public keys, or a
   * self-signed client's certificates (`x5c`; a client that published them at a jwks_uri then uses these).
   */
  jwks?: string;
  /**
   * From now on the client publishes its keys here (fetched once to check it): a self-signed client its
   * certificates, a private_key_jwt client its assertion keys.
   */
  jwksUri?: string;
  /** Replaces the grant types. */
  grantTypes?: string[];
  /** Replaces the redirect URIs. */
  redirectUris?: string[];
  requirePar?: boolean;
}

export interface ClientUseCaseOptions extends ClientKeyOptions {
  db: Db;
}

/** The members of AddClientInput that say how the client authenticates: exactly one is given. */
export const CLIENT_SUBJECT_MEMBERS = ['mapping', 'selfSignedCertPem', 'selfSignedJwks', 'selfSignedJwksUri', 'privateKeyJwtJwks', 'privateKeyJwtJwksUri'] as const;

function unknownClient(clientId: string): NotFoundError {
  return new NotFoundError('ERR_CLIENT_UNKNOWN', `There is no client "${clientId}".`, { details: { clientId } });
}

async function assertScopesOffered(trx: Db, scopes: string[], defaultResource: string | undefined): Promise<void> {
  const all = await resourceServers.list(trx);
  if (defaultResource && !all.some((r) => r.identifier === defaultResource)) {
    const registered = all.map((r) => r.identifier);
    throw new NotFoundError('ERR_RESOURCE_UNKNOWN', `There is no resource server "${defaultResource}".`, {
      ...(registered.length ? { hint: `Registered: ${registered.join(', ')}.` } : {}),
      details: { member: 'defaultResource', registered },
    });
  }
  const offered = new Set(all.flatMap((r) => r.scopes));
  const missing = scopes.filter((s) => !offered.has(s));
  if (missing.length) {
    throw new InvalidInputError('ERR_SCOPE_UNKNOWN', `No resource server offers the scope(s) ${missing.join(', ')}.`, { details: { member: 'scopes', missing } });
  }
}

/** What a refused change to the last administrator is, and the input member it came in. */
function administratorChange(scopes: string[] | undefined, input: UpdateClientInput): { change: string; member: string } {
  if (scopes && !scopes.includes(ADMIN_SCOPE)) return { change: 'withdrawing the scope', member: 'scopes' };
  if (input.boundTokens === false) return { change: 'turning bound tokens off', member: 'boundTokens' };
  if (input.grantTypes && !input.grantTypes.includes('client_credentials')) return { change: 'withdrawing client_credentials', member: 'grantTypes' };
  return { change: 'this change', member: input.jwksUri !== undefined ? 'jwksUri' : input.jwks !== undefined ? 'jwks' : 'scopes' };
}

/**
 * The client use cases over a database.
 *
 * @example
 * const registry = createClientUseCases({ db });
 * await registry.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' },
 *   scopes: ['read'], defaultResource: 'https://api.example.com' }, 'cli:alice');
 */
export function createClientUseCases({ db, ...keyOptions }: ClientUseCaseOptions) {
  const keys = createClientKeyChecks(keyOptions);

  /** The validated replacement keys of updateClient, by the client's authentication method. */
  async function newKeysOf(clientId: string, input: UpdateClientInput): Promise<RegisteredKeys> {
    const client = await clients.find(db, clientId);
    if (!client) throw unknownClient(clientId);
    if (input.jwks !== undefined && input.jwksUri !== undefined) {
      throw new InvalidInputError('ERR_CLIENT_KEYS', 'Give either a JWKS or a jwks_uri, not both (SS-11).', { details: { member: 'jwks', problem: 'both' } });
    }
    if (client.authMethod === 'none') {
      throw new InvalidInputError('ERR_PUBLIC_CLIENT', `Client "${clientId}" is a public client: it has no keys, only the certificate it proves possession of.`, {
        details: { member: input.jwksUri !== undefined ? 'jwksUri' : 'jwks', problem: 'credentials', clientId },
      });
    }
    if (client.authMethod === 'tls_client_auth') {
      throw new InvalidInputError('ERR_CLIENT_KEYS', `Client "${clientId}" uses tls_client_auth: it has certificate mappings, not keys.`, {
        details: { member: 'jwks', problem: 'mappings', clientId },
      });
    }
    return keys.keysOf(client.authMethod, {
      ...(input.jwks !== undefined ? { jwks: { text: input.jwks, member: 'jwks' } } : {}),
      ...(input.jwksUri !== undefined ? { jwksUri: { url: input.jwksUri, member: 'jwksUri' } } : {}),
    });
  }

  /** The keys of a new client, by how it was given. */
  async function registeredKeysOf(input: AddClientInput, authMethod: AuthMethod): Promise<RegisteredKeys> {
    if (input.mapping) return { jwks: null, jwksUri: null };
    if (input.selfSignedCertPem) return { jwks: await attributed('selfSignedCertPem', () => jwksFromCertificatePem(input.selfSignedCertPem!)), jwksUri: null };
    const given: GivenKeys = input.privateKeyJwtJwksUri
      ? { jwksUri: { url: input.privateKeyJwtJwksUri, member: 'privateKeyJwtJwksUri' } }
      : input.selfSignedJwksUri
        ? { jwksUri: { url: input.selfSignedJwksUri, member: 'selfSignedJwksUri' } }
        : input.privateKeyJwtJwks
          ? { jwks: { text: input.privateKeyJwtJwks, member: 'privateKeyJwtJwks' } }
          : { jwks: { text: input.selfSignedJwks!, member: 'selfSignedJwks' } };
    return keys.keysOf(authMethod, given);
  }

  return {
    async addClient(input: AddClientInput, actor: string): Promise<ClientRecord> {
      if (!CLIENT_ID_PATTERN.test(input.clientId)) {
        throw new InvalidInputError('ERR_CLIENT_ID_INVALID', `"${input.clientId}" is not a valid client id`, {
          hint: 'Use letters, digits and . _ ~ : @ - (at most 255), starting with a letter or digit.',
          details: { member: 'clientId' },
        });
      }
      const given = CLIENT_SUBJECT_MEMBERS.filter((m) => Boolean(input[m]));
      if (input.publicClient && given.length) {
        throw new InvalidInputError('ERR_PUBLIC_CLIENT', 'A public client has no certificate mapping and no keys: its certificate proves possession only (RFC 8705 §4).', {
          hint: 'Leave the mapping and keys out, or register a confidential client.',
          details: { member: given[0], problem: 'credentials' },
        });
      }
      if (!input.publicClient && given.length !== 1) {
        throw new InvalidInputError(
          'ERR_CLIENT_SUBJECT_REQUIRED',
          'Give exactly one way for the client to authenticate: a subject DN or SAN mapping, a self-signed certificate (or where it is published), or private_key_jwt keys (or where they are published).',
        );
      }
      const authMethod: AuthMethod = input.publicClient
        ? 'none'
        : input.privateKeyJwtJwks || input.privateKeyJwtJwksUri
          ? 'private_key_jwt'
          : input.mapping
            ? 'tls_client_auth'
            : 'self_signed_tls_client_auth';
      const grants = newClientGrants(input, { isPublic: authMethod === 'none', boundTokens: input.boundTokens ?? true });
      const { jwks, jwksUri } = authMethod === 'none' ? { jwks: null, jwksUri: null } : await registeredKeysOf(input, authMethod);
      const scopes = requireScopes(input.scopes ?? [], 'scopes');
      return db.transaction(async (trx) => {
        if (await clients.find(trx, input.clientId)) {
          throw new ConflictError('ERR_CLIENT_EXISTS', `A client "${input.clientId}" already exists.`, { details: { member: 'clientId', clientId: input.clientId } });
        }
        await assertScopesOffered(trx, scopes, input.defaultResource);
        const mapping = input.mapping ? await newMapping(trx, input.clientId, input.mapping, 'mapping.') : undefined;
        if (mapping) await assertNoOverlapOf(trx, mapping, input.mapping?.allowOverlap, 'mapping.value');
        const now = new Date();
        const record: ClientRecord = {
          clientId: input.clientId,
          authMethod,
          boundTokens: input.boundTokens ?? true,
          scopes,
          defaultResource: input.defaultResource ?? null,
          jwks,
          jwksUri,
          ...grants,
          metadata: {},
          mappings: mapping ? [mapping] : [],
          registration: null,
          createdAt: now,
          updatedAt: now,
        };
        await clients.insert(trx, record);
        await writeAudit(trx, { actor, action: 'client.add', target: `client:${record.clientId}`, after: record });
        return record;
      });
    },

    listClients: (): Promise<ClientRecord[]> => clients.list(db),

    async showClient(clientId: string): Promise<ClientRecord> {
      const c = await clients.find(db, clientId);
      if (!c) throw unknownClient(clientId);
      return c;
    },

    /**
     * Changes scopes, default resource, bound-token setting and/or the registered keys (key rotation of a
     * private_key_jwt client, new certificates of a self-signed one); the new values apply to the next
     * token request. `keepAnAdministrator` (the admin API): refuse a change (scope, bound tokens, keys)
     * after which no client could sign in to the admin API with the admin scope.
     */
    async updateClient(clientId: string, input: UpdateClientInput, actor: string, options: { keepAnAdministrator?: boolean } = {}): Promise<ClientRecord> {
      const scopes = input.scopes === undefined ? undefined : requireScopes(input.scopes, 'scopes');
      // Keys are checked (and a jwks_uri fetched) before the transaction: no network wait inside it.
      const newKeys = input.jwks === undefined && input.jwksUri === undefined ? undefined : await newKeysOf(clientId, input);
      const grantTypes = input.grantTypes === undefined ? undefined : requireGrantTypes(input.grantTypes);
      const redirectUris = input.redirectUris === undefined ? undefined : requireRedirectUris(input.redirectUris);
      return db.transaction(async (trx) => {
        const before = await clients.find(trx, clientId);
        if (!before) throw unknownClient(clientId);
        const grantsChange = grantTypes !== undefined || redirectUris !== undefined || input.requirePar !== undefined;
        const grants: ClientGrants = {
          grantTypes: grantTypes ?? (before.grantTypes as ClientGrants['grantTypes']),
          redirectUris: redirectUris ?? before.redirectUris,
          requirePar: input.requirePar ?? before.requirePar,
        };
        if (grantsChange || input.boundTokens !== undefined) {
          assertConsistentGrants(grants, { isPublic: before.authMethod === 'none', boundTokens: input.boundTokens ?? before.boundTokens });
        }
        const defaultResource = input.defaultResource === undefined ? before.defaultResource : input.defaultResource;
        await assertScopesOffered(trx, scopes ?? before.scopes, defaultResource ?? undefined);
        if (options.keepAnAdministrator) {
          const after: ClientRecord = { ...before, scopes: scopes ?? before.scopes, boundTokens: input.boundTokens ?? before.boundTokens, ...grants, ...(newKeys ?? {}) };
          await assertAnotherAdministrator(trx, before, after, administratorChange(scopes, input));
        }
        const metadata = grantsChange
          ? { ...before.metadata, grant_types: grants.grantTypes, redirect_uris: grants.redirectUris, require_pushed_authorization_requests: grants.requirePar }
          : undefined;
        await clients.update(trx, clientId, { scopes, defaultResource: input.defaultResource, boundTokens: input.boundTokens, metadata, ...(newKeys ?? {}) });
        const after = (await clients.find(trx, clientId))!;
        await writeAudit(trx, { actor, action: 'client.update', target: `client:${clientId}`, before, after });
        return after;
      });
    },

    /**
     * Removes a client, its mappings, its stored tokens, and its right to introspect any resource
     * server's tokens. `keepAnAdministrator` (the admin API): refuse to remove the last client that can
     * sign in to the admin API with the admin scope.
     */
    async removeClient(clientId: string, actor: string, options: { keepAnAdministrator?: boolean } = {}): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await clients.find(trx, clientId);
        if (!before) throw unknownClient(clientId);
        if (options.keepAnAdministrator) await assertAnotherAdministrator(trx, before, undefined, { change: 'removing it' });
        await clients.remove(trx, clientId);
        // A later client registered under the same id must not inherit the right to introspect.
        for (const rs of await resourceServers.list(trx)) {
          if (!rs.introspectionClients.includes(clientId)) continue;
          const after = { ...rs, introspectionClients: rs.introspectionClients.filter((id) => id !== clientId), updatedAt: new Date() };
          await resourceServers.upsert(trx, after);
          await writeAudit(trx, { actor, action: 'resource.update', target: `resource:${rs.identifier}`, before: rs, after });
        }
        await removeClientTokens(trx, clientId);
        await writeAudit(trx, { actor, action: 'client.remove', target: `client:${clientId}`, before });
      });
    },
  };
}

export type ClientUseCases = ReturnType<typeof createClientUseCases>;
