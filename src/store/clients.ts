import type { Db } from './knex.js';
import { type Queryable, sqlOf, toMs } from './sql.js';
import { isStorableKey } from './keys.js';
import { PENDING_MEMBER } from './registrations.js';
import { bumpRevision } from './revisions.js';
import type { MappingKind } from '../mapping/kinds.js';

/**
 * - tls_client_auth: PKI certificate matched by a mapping (RFC 8705 §2.1);
 * - self_signed_tls_client_auth: one of the registered certificates (§2.2);
 * - private_key_jwt: a JWT signed with a registered key (RFC 7523); the certificate of the mTLS
 *   connection is then proof of possession only, for the token binding (§3, BT-2);
 * - none: a public client (authorization code flow only); the certificate of the mTLS connection is proof
 *   of possession only, and its tokens, refresh tokens included, are bound to it (RFC 8705 §4, PUB-1..3).
 */
export type AuthMethod = 'tls_client_auth' | 'self_signed_tls_client_auth' | 'private_key_jwt' | 'none';
/**
 * The JWS algorithms a private_key_jwt client assertion may use: asymmetric only (client_secret_jwt,
 * with a shared secret, is not offered). The provider's `clientAuthSigningAlgValues`.
 */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'Ed25519', 'EdDSA'] as const;

export type { MappingKind } from '../mapping/kinds.js';

export interface MappingRecord {
  id: string;
  clientId: string;
  kind: MappingKind;
  /** As registered by the administrator. */
  value: string;
  /** Canonical form used for matching (pki/san.ts canonicalizeMappingValue). */
  canonical: string;
  trustAnchorId: string | null;
  trustAnchorName: string | null;
  trustAnchorSpki: string | null;
  trustAnchorEnvironment: string | null;
  notBefore: Date | null;
  notAfter: Date | null;
  createdAt: Date;
}

/**
 * Where a client that registered itself (RFC 7591) stands: `pending` while it awaits an administrator's
 * approval ({@link PENDING_MEMBER} in its metadata keeps it from authenticating), `approved` once it
 * may authenticate (approved by an administrator, or registered under automatic approval). A rejected
 * registration leaves no client behind, so there is no third state.
 */
export type ClientRegistrationState = 'pending' | 'approved';

export interface ClientRecord {
  clientId: string;
  authMethod: AuthMethod;
  /** RFC 8705 §3.4 tls_client_certificate_bound_access_tokens. */
  boundTokens: boolean;
  scopes: string[];
  defaultResource: string | null;
  /** Self-signed clients: the registered JWKS with x5c certificates; private_key_jwt clients: their public signing keys. */
  jwks: { keys: Record<string, unknown>[] } | null;
  /** Clients that publish their keys: where (self-signed: certificates, SS-4; private_key_jwt: assertion keys); `jwks` is then null. */
  jwksUri: string | null;
  /** RFC 7591 grant_types (stored in `metadata.grant_types`; a client without one has `client_credentials`). */
  grantTypes: string[];
  /** RFC 7591 redirect_uris, compared exactly (stored in `metadata.redirect_uris`). */
  redirectUris: string[];
  /** RFC 9126 require_pushed_authorization_requests (stored in `metadata`; true unless set false). */
  requirePar: boolean;
  /** Other RFC 7591 metadata (client_name …); grant_types, redirect_uris and require_pushed_authorization_requests are read into the fields above. */
  metadata: Record<string, unknown>;
  mappings: MappingRecord[];
  /** Null for a client an administrator made; else where its dynamic registration stands. */
  registration: ClientRegistrationState | null;
  createdAt: Date;
  updatedAt: Date;
}

function mappingFromRow(r: Record<string, unknown>): MappingRecord {
  return {
    id: String(r.id),
    clientId: String(r.client_id),
    kind: String(r.kind) as MappingKind,
    value: String(r.value),
    canonical: String(r.canonical),
    trustAnchorId: r.trust_anchor_id ? String(r.trust_anchor_id) : null,
    trustAnchorName: r.anchor_name ? String(r.anchor_name) : null,
    trustAnchorSpki: r.anchor_spki ? String(r.anchor_spki) : null,
    trustAnchorEnvironment: r.anchor_environment ? String(r.anchor_environment) : null,
    notBefore: r.not_before === null || r.not_before === undefined ? null : new Date(toMs(r.not_before)!),
    notAfter: r.not_after === null || r.not_after === undefined ? null : new Date(toMs(r.not_after)!),
    createdAt: new Date(toMs(r.created_at) ?? 0),
  };
}

/** A client row joined with its registration's status (`registration_status`, null without one). */
function clientFromRow(r: Record<string, unknown>, mappings: MappingRecord[]): ClientRecord {
  const metadata: Record<string, unknown> = JSON.parse(String(r.metadata ?? '{}'));
  return {
    clientId: String(r.client_id),
    authMethod: String(r.token_endpoint_auth_method) as AuthMethod,
    boundTokens: Boolean(r.bound_tokens),
    scopes: String(r.scope ?? '')
      .split(' ')
      .filter(Boolean),
    defaultResource: r.default_resource ? String(r.default_resource) : null,
    jwks: r.jwks ? JSON.parse(String(r.jwks)) : null,
    jwksUri: r.jwks_uri ? String(r.jwks_uri) : null,
    grantTypes: Array.isArray(metadata.grant_types) ? metadata.grant_types.map(String) : ['client_credentials'],
    redirectUris: Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris.map(String) : [],
    requirePar: metadata.require_pushed_authorization_requests !== false,
    metadata,
    mappings,
    // The member decides, as it does on the token path; the registration row tells a registered client from an administrator's.
    registration: metadata[PENDING_MEMBER] === 'pending' ? 'pending' : r.registration_status ? 'approved' : null,
    createdAt: new Date(toMs(r.created_at) ?? 0),
    updatedAt: new Date(toMs(r.updated_at) ?? 0),
  };
}

/** Mappings with their trust anchor's name, key and environment, oldest first unless `order` says otherwise; `where` filters `m`. */
async function mappings(db: Queryable, where: string, params: readonly unknown[], order = 'm.created_at, m.id'): Promise<MappingRecord[]> {
  const rows = await sqlOf(db).all(
    'select m.*, a.name as anchor_name, a.spki_sha256 as anchor_spki, a.environment as anchor_environment' +
      ` from certificate_mappings m left join trust_anchors a on a.id = m.trust_anchor_id${where ? ` where ${where}` : ''} order by ${order}`,
    params,
  );
  return rows.map(mappingFromRow);
}

/** The mapping row alone; callers bump the revision (once per change). */
async function insertMappingRow(db: Db, m: MappingRecord): Promise<void> {
  await db('certificate_mappings').insert({
    id: m.id,
    client_id: m.clientId,
    kind: m.kind,
    value: m.value,
    canonical: m.canonical,
    trust_anchor_id: m.trustAnchorId,
    not_before: m.notBefore?.getTime() ?? null,
    not_after: m.notAfter?.getTime() ?? null,
    created_at: m.createdAt.getTime(),
  });
}

/** The stored metadata: `metadata` with the record's grant types, redirect URIs and PAR setting written into it. */
function withFlowMetadata(metadata: Record<string, unknown>, c: Partial<Pick<ClientRecord, 'grantTypes' | 'redirectUris' | 'requirePar'>>): Record<string, unknown> {
  const out = { ...metadata };
  if (c.grantTypes !== undefined) out.grant_types = [...c.grantTypes];
  if (c.redirectUris !== undefined) out.redirect_uris = [...c.redirectUris];
  if (c.requirePar !== undefined) out.require_pushed_authorization_requests = c.requirePar;
  return out;
}

const SELECT_CLIENTS = 'select c.*, r.status as registration_status from clients c left join client_registrations r on r.client_id = c.client_id';

export const clients = {
  async find(db: Queryable, clientId: string): Promise<ClientRecord | undefined> {
    if (!isStorableKey(clientId)) return undefined;
    const [row] = await sqlOf(db).all(`${SELECT_CLIENTS} where c.client_id = ?`, [clientId]);
    if (!row) return undefined;
    return clientFromRow(row, await mappings(db, 'm.client_id = ?', [clientId]));
  },
  async list(db: Queryable): Promise<ClientRecord[]> {
    const rows = await sqlOf(db).all(`${SELECT_CLIENTS} order by c.client_id`);
    const all = await mappings(db, '', []);
    const byClient = new Map<string, MappingRecord[]>();
    for (const m of all) byClient.set(m.clientId, [...(byClient.get(m.clientId) ?? []), m]);
    return rows.map((r) => clientFromRow(r, byClient.get(String(r.client_id)) ?? []));
  },
  async insert(db: Db, c: ClientRecord): Promise<void> {
    await bumpRevision(db, 'clients');
    await db('clients').insert({
      client_id: c.clientId,
      token_endpoint_auth_method: c.authMethod,
      bound_tokens: c.boundTokens,
      scope: c.scopes.join(' '),
      default_resource: c.defaultResource,
      jwks: c.jwks ? JSON.stringify(c.jwks) : null,
      jwks_uri: c.jwksUri,
      metadata: JSON.stringify(withFlowMetadata(c.metadata, c)),
      created_at: c.createdAt.getTime(),
      updated_at: c.updatedAt.getTime(),
    });
    for (const m of c.mappings) await insertMappingRow(db, m);
  },
  /** Updates the client-level settings (not its mappings); returns the number of rows changed. */
  async update(
    db: Db,
    clientId: string,
    fields: {
      scopes?: string[] | undefined;
      defaultResource?: string | null | undefined;
      boundTokens?: boolean | undefined;
      jwks?: ClientRecord['jwks'] | undefined;
      jwksUri?: string | null | undefined;
      metadata?: ClientRecord['metadata'] | undefined;
    },
  ): Promise<number> {
    await bumpRevision(db, 'clients');
    const row: Record<string, unknown> = { updated_at: Date.now() };
    if (fields.jwks !== undefined) row.jwks = fields.jwks === null ? null : JSON.stringify(fields.jwks);
    if (fields.jwksUri !== undefined) row.jwks_uri = fields.jwksUri;
    if (fields.scopes !== undefined) row.scope = fields.scopes.join(' ');
    if (fields.defaultResource !== undefined) row.default_resource = fields.defaultResource;
    if (fields.boundTokens !== undefined) row.bound_tokens = fields.boundTokens;
    if (fields.metadata !== undefined) row.metadata = JSON.stringify(fields.metadata);
    return db('clients').where({ client_id: clientId }).update(row);
  },
  async insertMapping(db: Db, m: MappingRecord): Promise<void> {
    await bumpRevision(db, 'clients');
    await insertMappingRow(db, m);
    await db('clients').where({ client_id: m.clientId }).update({ updated_at: Date.now() });
  },
  /** Sets a mapping's validity window (null: open on that side). */
  async setMappingWindow(db: Db, clientId: string, mappingId: string, window: { notBefore: Date | null; notAfter: Date | null }): Promise<number> {
    await bumpRevision(db, 'clients');
    const n = await db('certificate_mappings')
      .where({ id: mappingId, client_id: clientId })
      .update({ not_before: window.notBefore?.getTime() ?? null, not_after: window.notAfter?.getTime() ?? null });
    await db('clients').where({ client_id: clientId }).update({ updated_at: Date.now() });
    return n;
  },
  async removeMapping(db: Db, clientId: string, mappingId: string): Promise<number> {
    await bumpRevision(db, 'clients');
    const n = await db('certificate_mappings').where({ id: mappingId, client_id: clientId }).delete();
    await db('clients').where({ client_id: clientId }).update({ updated_at: Date.now() });
    return n;
  },
  async remove(db: Db, clientId: string): Promise<number> {
    await bumpRevision(db, 'clients');
    await db('certificate_mappings').where({ client_id: clientId }).delete();
    return db('clients').where({ client_id: clientId }).delete();
  },
  /** Mappings of any client with this kind and canonical value (overlap checks), oldest first; at most `limit` when given. */
  async findMappingsByCanonical(db: Queryable, kind: MappingKind, canonical: string, limit?: number): Promise<MappingRecord[]> {
    return mappings(db, 'm.kind = ? and m.canonical = ?', [kind, canonical], `m.created_at, m.id${limit === undefined ? '' : ` limit ${Math.max(0, Math.trunc(limit))}`}`);
  },
  /**
   * The mappings of this kind whose canonical values come just before and just after `canonical` in
   * the (kind, canonical) index's order, at most `perSide` each, the equal ones excluded: values that
   * share the longest prefix with it (a typo near the end, last year's CN), for the diagnosis's near
   * misses. Two range reads of that index, so the cost does not grow with the number of clients.
   */
  async mappingsAround(db: Queryable, kind: MappingKind, canonical: string, perSide: number): Promise<MappingRecord[]> {
    const n = Math.max(0, Math.trunc(perSide));
    if (n === 0) return [];
    const after = await mappings(db, 'm.kind = ? and m.canonical > ?', [kind, canonical], `m.kind, m.canonical limit ${n}`);
    const before = await mappings(db, 'm.kind = ? and m.canonical < ?', [kind, canonical], `m.kind desc, m.canonical desc limit ${n}`);
    return [...before.reverse(), ...after];
  },
  /**
   * The ids of the other clients whose scope text contains `scope`, a superset of those allowed it
   * (the caller reads each client to decide): who else may hold an administrator's scope.
   */
  async idsWithScopeText(db: Queryable, scope: string, except: string): Promise<string[]> {
    const pattern = `%${scope.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await sqlOf(db).all<{ client_id: string }>('select client_id from clients where client_id <> ? and scope like ? escape ? order by client_id', [
      except,
      pattern,
      '\\',
    ]);
    return rows.map((r) => String(r.client_id));
  },
  /**
   * The ids of self-signed clients whose registered keys hold this certificate (standard base64 of its
   * DER, which has neither `%` nor `_`, so it needs no escaping in the pattern), at most `limit`.
   */
  async idsRegisteringCertificate(db: Queryable, derBase64: string, limit: number): Promise<string[]> {
    const rows = await sqlOf(db).all<{ client_id: string }>(
      `select client_id from clients where token_endpoint_auth_method = 'self_signed_tls_client_auth' and jwks like ? limit ${Math.trunc(limit)}`,
      [`%${derBase64}%`],
    );
    return rows.map((r) => String(r.client_id));
  },
  /** Self-signed clients that publish their certificates at a jwks_uri: how many, and the first `limit` by id. */
  async publishingSelfSigned(db: Queryable, limit: number): Promise<{ total: number; first: { clientId: string; jwksUri: string }[] }> {
    const publishing = "from clients where token_endpoint_auth_method = 'self_signed_tls_client_auth' and jwks_uri is not null";
    const total = Number((await sqlOf(db).all<{ n: number | string }>(`select count(*) as n ${publishing}`))[0]?.n ?? 0);
    if (total === 0) return { total, first: [] };
    const rows = await sqlOf(db).all<{ client_id: string; jwks_uri: string }>(`select client_id, jwks_uri ${publishing} order by client_id limit ${Math.trunc(limit)}`);
    return { total, first: rows.map((r) => ({ clientId: String(r.client_id), jwksUri: String(r.jwks_uri) })) };
  },
};
