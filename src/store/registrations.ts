/**
 * Dynamic client registration's records: initial access tokens (RFC 7591 §3, only their SHA-256 is
 * stored) and, per registered client, its registration (RFC 7592: the access token's hash, the
 * certificate it was registered with, pending or active).
 */
import { type Queryable, sqlOf, toMs } from './sql.js';
import { isStorableKey } from './keys.js';

export type ApprovalMode = 'auto' | 'manual';

/**
 * The member of a client's stored metadata that keeps it from authenticating until an administrator
 * approves its registration (value `pending`): the token path reads it with the client, no other table.
 */
export const PENDING_MEMBER = 'certbound_registration';

export interface InitialAccessToken {
  id: string;
  tokenHash: string;
  expiresAt: Date;
  /** null: no limit. */
  maxUses: number | null;
  uses: number;
  /** The scopes a registration may ask for (empty: none). */
  scopes: string[];
  /** The resources a registration may name as its default (empty: none). */
  resources: string[];
  /** The trust-anchor environments a registrant's certificate may chain to (empty: any). */
  environments: string[];
  approval: ApprovalMode;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** What a registration may ask for: an initial access token's limits, or a software statement issuer's. */
export interface RegistrationLimits {
  /** The scopes a registration may ask for (empty: none). */
  scopes: string[];
  /** The resources a registration may name as its default (empty: none). */
  resources: string[];
  /** The trust-anchor environments a registrant's certificate may chain to (empty: any). */
  environments: string[];
  approval: ApprovalMode;
}

/** An issuer of software statements (RFC 7591 §2.3) administrators trust: its `iss` is its name. */
export interface SoftwareIssuer extends RegistrationLimits {
  name: string;
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
  createdAt: Date;
}

export type RegistrationStatus = 'active' | 'pending';

export interface RegistrationRecord {
  clientId: string;
  status: RegistrationStatus;
  accessTokenHash: string;
  /** x5t#S256 of the certificate the registration request came with. */
  registrantX5t: string;
  initialAccessTokenId: string | null;
  /** The issuer of the software statement it was registered with, if any. */
  softwareIssuer: string | null;
  createdAt: Date;
  updatedAt: Date;
}

function tokenFromRow(r: Record<string, unknown>): InitialAccessToken {
  return {
    id: String(r.id),
    tokenHash: String(r.token_hash),
    expiresAt: new Date(toMs(r.expires_at) ?? 0),
    maxUses: r.max_uses === null || r.max_uses === undefined ? null : Number(r.max_uses),
    uses: Number(r.uses ?? 0),
    scopes: String(r.scope ?? '')
      .split(' ')
      .filter(Boolean),
    resources: JSON.parse(String(r.resources ?? '[]')),
    environments: JSON.parse(String(r.environments ?? '[]')),
    approval: r.approval === 'manual' ? 'manual' : 'auto',
    createdBy: String(r.created_by),
    createdAt: new Date(toMs(r.created_at) ?? 0),
    revokedAt: r.revoked_at === null || r.revoked_at === undefined ? null : new Date(toMs(r.revoked_at)!),
  };
}

function registrationFromRow(r: Record<string, unknown>): RegistrationRecord {
  return {
    clientId: String(r.client_id),
    status: r.status === 'pending' ? 'pending' : 'active',
    accessTokenHash: String(r.access_token_hash),
    registrantX5t: String(r.registrant_x5t),
    initialAccessTokenId: r.initial_access_token_id ? String(r.initial_access_token_id) : null,
    softwareIssuer: r.software_issuer ? String(r.software_issuer) : null,
    createdAt: new Date(toMs(r.created_at) ?? 0),
    updatedAt: new Date(toMs(r.updated_at) ?? 0),
  };
}

export const initialAccessTokens = {
  async insert(db: Queryable, t: InitialAccessToken): Promise<void> {
    await sqlOf(db).run(
      'insert into initial_access_tokens (id, token_hash, expires_at, max_uses, uses, scope, resources, environments, approval, created_by, created_at, revoked_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        t.id,
        t.tokenHash,
        t.expiresAt.getTime(),
        t.maxUses,
        t.uses,
        t.scopes.join(' '),
        JSON.stringify(t.resources),
        JSON.stringify(t.environments),
        t.approval,
        t.createdBy,
        t.createdAt.getTime(),
        t.revokedAt?.getTime() ?? null,
      ],
    );
  },
  async list(db: Queryable): Promise<InitialAccessToken[]> {
    return (await sqlOf(db).all('select * from initial_access_tokens order by created_at, id')).map(tokenFromRow);
  },
  async find(db: Queryable, id: string): Promise<InitialAccessToken | undefined> {
    if (!isStorableKey(id)) return undefined;
    const [r] = await sqlOf(db).all('select * from initial_access_tokens where id = ?', [id]);
    return r ? tokenFromRow(r) : undefined;
  },
  async findByHash(db: Queryable, tokenHash: string): Promise<InitialAccessToken | undefined> {
    const [r] = await sqlOf(db).all('select * from initial_access_tokens where token_hash = ?', [tokenHash]);
    return r ? tokenFromRow(r) : undefined;
  },
  /**
   * Counts one use, only while the token is usable at `now` (not revoked, not expired, uses left):
   * one statement, so two registrations racing for the last use cannot both have it. True when counted.
   */
  async consumeUse(db: Queryable, id: string, now: number): Promise<boolean> {
    const n = await sqlOf(db).run(
      'update initial_access_tokens set uses = uses + 1 where id = ? and revoked_at is null and expires_at > ? and (max_uses is null or uses < max_uses)',
      [id, now],
    );
    return n === 1;
  },
  async revoke(db: Queryable, id: string, at: number): Promise<number> {
    return sqlOf(db).run('update initial_access_tokens set revoked_at = ? where id = ? and revoked_at is null', [at, id]);
  },
};

export const registrations = {
  async insert(db: Queryable, r: RegistrationRecord): Promise<void> {
    await sqlOf(db).run(
      'insert into client_registrations (client_id, status, access_token_hash, registrant_x5t, initial_access_token_id, software_issuer, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
      [r.clientId, r.status, r.accessTokenHash, r.registrantX5t, r.initialAccessTokenId, r.softwareIssuer, r.createdAt.getTime(), r.updatedAt.getTime()],
    );
  },
  async find(db: Queryable, clientId: string): Promise<RegistrationRecord | undefined> {
    if (!isStorableKey(clientId)) return undefined;
    const [r] = await sqlOf(db).all('select * from client_registrations where client_id = ?', [clientId]);
    return r ? registrationFromRow(r) : undefined;
  },
  async setStatus(db: Queryable, clientId: string, status: RegistrationStatus): Promise<number> {
    return sqlOf(db).run('update client_registrations set status = ?, updated_at = ? where client_id = ?', [status, Date.now(), clientId]);
  },
  async remove(db: Queryable, clientId: string): Promise<number> {
    return sqlOf(db).run('delete from client_registrations where client_id = ?', [clientId]);
  },
};

function issuerFromRow(r: Record<string, unknown>): SoftwareIssuer {
  return {
    name: String(r.name),
    jwks: r.jwks ? JSON.parse(String(r.jwks)) : null,
    jwksUri: r.jwks_uri ? String(r.jwks_uri) : null,
    scopes: String(r.scope ?? '')
      .split(' ')
      .filter(Boolean),
    resources: JSON.parse(String(r.resources ?? '[]')),
    environments: JSON.parse(String(r.environments ?? '[]')),
    approval: r.approval === 'manual' ? 'manual' : 'auto',
    createdAt: new Date(toMs(r.created_at) ?? 0),
  };
}

export const softwareIssuers = {
  async insert(db: Queryable, i: SoftwareIssuer): Promise<void> {
    await sqlOf(db).run('insert into software_issuers (name, jwks, jwks_uri, scope, resources, environments, approval, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)', [
      i.name,
      i.jwks ? JSON.stringify(i.jwks) : null,
      i.jwksUri,
      i.scopes.join(' '),
      JSON.stringify(i.resources),
      JSON.stringify(i.environments),
      i.approval,
      i.createdAt.getTime(),
    ]);
  },
  async list(db: Queryable): Promise<SoftwareIssuer[]> {
    return (await sqlOf(db).all('select * from software_issuers order by name')).map(issuerFromRow);
  },
  async find(db: Queryable, name: string): Promise<SoftwareIssuer | undefined> {
    if (!isStorableKey(name)) return undefined;
    const [r] = await sqlOf(db).all('select * from software_issuers where name = ?', [name]);
    return r ? issuerFromRow(r) : undefined;
  },
  async remove(db: Queryable, name: string): Promise<number> {
    return sqlOf(db).run('delete from software_issuers where name = ?', [name]);
  },
};
