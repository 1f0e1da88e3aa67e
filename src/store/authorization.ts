/**
 * The authorization code flow's records: the upstream OpenID Provider end users sign in at, the
 * consents they gave (per user and client), and the refresh tokens issued to them, read from the
 * oidc-provider payload rows by the columns the adapter fills (client, user, certificate thumbprint).
 */
import { isStorableKey } from './keys.js';
import { isSealed, seal, unseal } from './sealed.js';
import { type Queryable, sqlOf, toMs } from './sql.js';

/** How certbound authenticates to the upstream provider's token endpoint. */
export type UpstreamAuthMethod = 'client_secret_basic' | 'private_key_jwt';

/**
 * The upstream OpenID Provider end users sign in at (certbound is not a user directory). One per
 * server, named `default`; `subjectClaim` is the ID token claim that becomes the `sub` certbound issues.
 */
export interface UpstreamProvider {
  name: string;
  issuer: string;
  clientId: string;
  authMethod: UpstreamAuthMethod;
  /** client_secret_basic only. Never listed or logged. */
  clientSecret: string | null;
  /** private_key_jwt only: the private JWK certbound signs its client assertions with. Never listed or logged. */
  privateJwk: Record<string, unknown> | null;
  /** The scopes asked for upstream (always including `openid`). */
  scopes: string[];
  subjectClaim: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What an end user allowed a client: the scopes and resources of the consent page, remembered. */
export interface UserConsent {
  accountId: string;
  clientId: string;
  scopes: string[];
  resources: string[];
  grantedAt: Date;
  updatedAt: Date;
}

/** A refresh token as an administrator sees it (never the token value itself). */
export interface RefreshTokenRecord {
  /** The row id (oidc-provider's token id, the value a client holds): used to revoke it, never shown in full. */
  id: string;
  grantId: string | null;
  clientId: string;
  accountId: string | null;
  /** x5t#S256 of the certificate it is bound to (RFC 8705 §4), if bound. */
  x5tS256: string | null;
  scopes: string[];
  issuedAt: Date | null;
  expiresAt: Date | null;
  /** Used once already (rotated): it refreshes no more, but its grant lives on. */
  consumed: boolean;
}

/** The additional authenticated data of the provider's sealed credentials: a sealed value stays with its row and member. */
const sealedAs = (name: string, member: 'client_secret' | 'private_jwk') => `upstream:${name}:${member}`;

function upstreamFromRow(r: Record<string, unknown>, kek: Buffer | undefined): UpstreamProvider {
  const name = String(r.name);
  return {
    name,
    issuer: String(r.issuer),
    clientId: String(r.client_id),
    authMethod: String(r.auth_method) as UpstreamAuthMethod,
    clientSecret: r.client_secret ? unseal(String(r.client_secret), kek, sealedAs(name, 'client_secret'), "The upstream provider's client secret") : null,
    privateJwk: r.private_jwk ? JSON.parse(unseal(String(r.private_jwk), kek, sealedAs(name, 'private_jwk'), "The upstream provider's private key")) : null,
    scopes: String(r.scope ?? '')
      .split(' ')
      .filter(Boolean),
    subjectClaim: String(r.subject_claim),
    createdAt: new Date(toMs(r.created_at) ?? 0),
    updatedAt: new Date(toMs(r.updated_at) ?? 0),
  };
}

function consentFromRow(r: Record<string, unknown>): UserConsent {
  return {
    accountId: String(r.account_id),
    clientId: String(r.client_id),
    scopes: String(r.scope ?? '')
      .split(' ')
      .filter(Boolean),
    resources: JSON.parse(String(r.resources ?? '[]')),
    grantedAt: new Date(toMs(r.granted_at) ?? 0),
    updatedAt: new Date(toMs(r.updated_at) ?? 0),
  };
}

function refreshTokenFromRow(r: Record<string, unknown>): RefreshTokenRecord {
  const payload = JSON.parse(String(r.payload)) as Record<string, unknown>;
  const expiresAt = toMs(r.expires_at);
  return {
    id: String(r.id),
    grantId: r.grant_id ? String(r.grant_id) : null,
    clientId: String(r.client_id ?? payload.clientId ?? ''),
    accountId: r.account_id ? String(r.account_id) : typeof payload.accountId === 'string' ? payload.accountId : null,
    x5tS256: r.x5t_s256 ? String(r.x5t_s256) : typeof payload['x5t#S256'] === 'string' ? (payload['x5t#S256'] as string) : null,
    scopes: String(payload.scope ?? '')
      .split(' ')
      .filter(Boolean),
    issuedAt: typeof payload.iat === 'number' ? new Date(payload.iat * 1000) : null,
    expiresAt: expiresAt ? new Date(expiresAt) : null,
    consumed: toMs(r.consumed_at) !== null,
  };
}

/** `where` conditions (and their parameters) narrowed to a user and/or a client. */
function byUserAndClient(filter: { accountId?: string; clientId?: string }, where: string[], params: unknown[]): { where: string[]; params: unknown[] } {
  if (filter.accountId !== undefined) {
    where.push('account_id = ?');
    params.push(filter.accountId);
  }
  if (filter.clientId !== undefined) {
    where.push('client_id = ?');
    params.push(filter.clientId);
  }
  return { where, params };
}

export const DEFAULT_UPSTREAM = 'default';

export const upstreamProviders = {
  /**
   * The provider, its credentials decrypted with `kek` when they were stored encrypted (refused without
   * it, or with another key: ERR_KEY_ENCRYPTION_KEY_MISSING / _WRONG).
   */
  async find(db: Queryable, kek: Buffer | undefined, name = DEFAULT_UPSTREAM): Promise<UpstreamProvider | undefined> {
    const [r] = await sqlOf(db).all('select * from upstream_providers where name = ?', [name]);
    return r ? upstreamFromRow(r, kek) : undefined;
  },
  /** The provider without its credentials (`clientSecret` and `privateJwk` null), read without decrypting anything. */
  async findWithoutCredentials(db: Queryable, name = DEFAULT_UPSTREAM): Promise<UpstreamProvider | undefined> {
    const [r] = await sqlOf(db).all('select * from upstream_providers where name = ?', [name]);
    return r ? upstreamFromRow({ ...r, client_secret: null, private_jwk: null }, undefined) : undefined;
  },
  /** Whether the stored row's credentials are encrypted at rest (read without decrypting them). */
  async isSealed(db: Queryable, name = DEFAULT_UPSTREAM): Promise<boolean> {
    const [r] = await sqlOf(db).all('select client_secret, private_jwk from upstream_providers where name = ?', [name]);
    return !!r && [r.client_secret, r.private_jwk].some((v) => typeof v === 'string' && isSealed(v));
  },
  /**
   * Creates or replaces the provider's row; with `kek` (CERTBOUND_KEY_ENCRYPTION_KEY) the client secret and
   * the private key are stored encrypted, as the signing keys are.
   */
  async put(db: Queryable, p: UpstreamProvider, kek: Buffer | undefined): Promise<void> {
    const secret = p.clientSecret === null ? null : kek ? seal(p.clientSecret, kek, sealedAs(p.name, 'client_secret')) : p.clientSecret;
    const jwkText = p.privateJwk ? JSON.stringify(p.privateJwk) : null;
    const jwk = jwkText === null ? null : kek ? seal(jwkText, kek, sealedAs(p.name, 'private_jwk')) : jwkText;
    await sqlOf(db).run(
      'insert into upstream_providers (name, issuer, client_id, auth_method, client_secret, private_jwk, scope, subject_claim, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)' +
        ' on conflict (name) do update set issuer = excluded.issuer, client_id = excluded.client_id, auth_method = excluded.auth_method, client_secret = excluded.client_secret,' +
        ' private_jwk = excluded.private_jwk, scope = excluded.scope, subject_claim = excluded.subject_claim, updated_at = excluded.updated_at',
      [p.name, p.issuer, p.clientId, p.authMethod, secret, jwk, p.scopes.join(' '), p.subjectClaim, p.createdAt.getTime(), p.updatedAt.getTime()],
    );
  },
  async remove(db: Queryable, name = DEFAULT_UPSTREAM): Promise<number> {
    return sqlOf(db).run('delete from upstream_providers where name = ?', [name]);
  },
};

export const consents = {
  async find(db: Queryable, accountId: string, clientId: string): Promise<UserConsent | undefined> {
    if (!isStorableKey(accountId) || !isStorableKey(clientId)) return undefined;
    const [r] = await sqlOf(db).all('select * from user_consents where account_id = ? and client_id = ?', [accountId, clientId]);
    return r ? consentFromRow(r) : undefined;
  },
  /** Creates or replaces the consent of `accountId` to `clientId`. */
  async save(db: Queryable, c: UserConsent): Promise<void> {
    await sqlOf(db).run(
      'insert into user_consents (account_id, client_id, scope, resources, granted_at, updated_at) values (?, ?, ?, ?, ?, ?)' +
        ' on conflict (account_id, client_id) do update set scope = excluded.scope, resources = excluded.resources, updated_at = excluded.updated_at',
      [c.accountId, c.clientId, c.scopes.join(' '), JSON.stringify(c.resources), c.grantedAt.getTime(), c.updatedAt.getTime()],
    );
  },
  async list(db: Queryable, filter: { accountId?: string; clientId?: string } = {}): Promise<UserConsent[]> {
    const { where, params } = byUserAndClient(filter, [], []);
    const rows = await sqlOf(db).all(`select * from user_consents${where.length ? ` where ${where.join(' and ')}` : ''} order by client_id, account_id`, params);
    return rows.map(consentFromRow);
  },
  async remove(db: Queryable, accountId: string, clientId: string): Promise<number> {
    return sqlOf(db).run('delete from user_consents where account_id = ? and client_id = ?', [accountId, clientId]);
  },
};

export const refreshTokens = {
  /** Live refresh tokens (not expired), oldest first, of a client and/or a user. */
  async list(db: Queryable, filter: { accountId?: string; clientId?: string } = {}): Promise<RefreshTokenRecord[]> {
    const { where, params } = byUserAndClient(filter, ["model = 'RefreshToken'", '(expires_at is null or expires_at > ?)'], [Date.now()]);
    const rows = await sqlOf(db).all(`select * from oidc_payloads where ${where.join(' and ')} order by id`, params);
    return rows.map(refreshTokenFromRow).sort((a, b) => (a.issuedAt?.getTime() ?? 0) - (b.issuedAt?.getTime() ?? 0));
  },
  async find(db: Queryable, id: string): Promise<RefreshTokenRecord | undefined> {
    if (!isStorableKey(id)) return undefined;
    const [r] = await sqlOf(db).all("select * from oidc_payloads where model = 'RefreshToken' and id = ?", [id]);
    return r ? refreshTokenFromRow(r) : undefined;
  },
  /**
   * Revokes a refresh token and everything issued under its grant (the access tokens, the other
   * refresh tokens, the code), and the grant itself, as oidc-provider's own revocation does: returns
   * how many tokens were removed (the grant not counted).
   */
  async revoke(db: Queryable, id: string): Promise<number> {
    const found = await refreshTokens.find(db, id);
    if (!found) return 0;
    const sql = sqlOf(db);
    if (!found.grantId) return sql.run("delete from oidc_payloads where model = 'RefreshToken' and id = ?", [id]);
    const removed = await sql.run('delete from oidc_payloads where grant_id = ? or (model = ? and id = ?)', [found.grantId, 'RefreshToken', id]);
    await sql.run("delete from oidc_payloads where model = 'Grant' and id = ?", [found.grantId]);
    return removed;
  },
  /** Revokes every token of a user at a client (after its consent is revoked) and their grants: returns how many tokens were removed. */
  async revokeFor(db: Queryable, accountId: string, clientId: string): Promise<number> {
    const sql = sqlOf(db);
    const grants = await sql.all<{ grant_id: string | null }>(
      "select distinct grant_id from oidc_payloads where model in ('RefreshToken', 'AccessToken', 'AuthorizationCode') and account_id = ? and client_id = ? and grant_id is not null",
      [accountId, clientId],
    );
    let removed = 0;
    for (const g of grants) {
      if (!g.grant_id) continue;
      removed += await sql.run('delete from oidc_payloads where grant_id = ?', [g.grant_id]);
      await sql.run("delete from oidc_payloads where model = 'Grant' and id = ?", [g.grant_id]);
    }
    return removed;
  },
};
