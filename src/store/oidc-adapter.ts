import { isStorableKey } from './keys.js';
import { type Queryable, sqlOf, toMs } from './sql.js';

/** The subset of oidc-provider's Adapter interface (see its docs, "adapter"). */
export interface AdapterPayload {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: unknown;
  [key: string]: unknown;
}

export interface OidcAdapter {
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Models whose rows are keyed by grant and revoked together (revokeByGrantId). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * Builds the oidc-provider adapter class over SQL. Every model lives in `oidc_payloads`, except
 * `Client`, which is read from the clients tables through `findClient` (so a CLI change is seen on the
 * next request) and is never written by the provider (dynamic registration is off).
 */
export function createOidcAdapter(db: Queryable, findClient: (id: string) => Promise<AdapterPayload | undefined>) {
  const now = () => Date.now();
  const sql = sqlOf(db);

  async function findRow(model: string, column: 'id' | 'user_code' | 'uid', value: string): Promise<AdapterPayload | undefined> {
    // The value may be a request's, as sent (a token at introspection or revocation).
    if (!isStorableKey(value)) return undefined;
    const [row] = await sql.all(`select payload, consumed_at from oidc_payloads where model = ? and ${column} = ? and (expires_at is null or expires_at > ?)`, [
      model,
      value,
      now(),
    ]);
    if (!row) return undefined;
    const payload = JSON.parse(String(row.payload)) as AdapterPayload;
    const consumedAt = toMs(row.consumed_at);
    if (consumedAt) payload.consumed = Math.floor(consumedAt / 1000);
    return payload;
  }

  return class SqlAdapter implements OidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed with the certbound CLI or admin API');
      await sql.run(
        'insert into oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at, client_id, account_id, x5t_s256) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)' +
          ' on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at,' +
          ' client_id = excluded.client_id, account_id = excluded.account_id, x5t_s256 = excluded.x5t_s256',
        [
          this.model,
          id,
          JSON.stringify(payload),
          GRANTABLE.has(this.model) || payload.grantId ? (payload.grantId ?? null) : null,
          payload.userCode ?? null,
          payload.uid ?? null,
          expiresIn ? now() + expiresIn * 1000 : null,
          // Listing columns (store/authorization.ts): whose token, which user, the certificate it is bound to.
          typeof payload.clientId === 'string' ? payload.clientId : null,
          typeof payload.accountId === 'string' ? payload.accountId : null,
          typeof payload['x5t#S256'] === 'string' ? payload['x5t#S256'] : null,
        ],
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(id);
      return findRow(this.model, 'id', id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return findRow(this.model, 'user_code', userCode);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return findRow(this.model, 'uid', uid);
    }

    async consume(id: string): Promise<void> {
      await sql.run('update oidc_payloads set consumed_at = ? where model = ? and id = ?', [now(), this.model, id]);
    }

    async destroy(id: string): Promise<void> {
      await sql.run('delete from oidc_payloads where model = ? and id = ?', [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await sql.run('delete from oidc_payloads where grant_id = ?', [grantId]);
    }
  };
}

/** Deletes expired rows; returns how many. Run periodically by the server. */
export async function purgeExpiredPayloads(db: Queryable): Promise<number> {
  return sqlOf(db).run('delete from oidc_payloads where expires_at <= ?', [Date.now()]);
}

/** A unique-key violation on PostgreSQL (23505) or SQLite (SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Stores a payload row only if no live row of that model and id exists; true when this call created
 * it. One INSERT decides, so of two concurrent callers exactly one gets true (replay detection). An
 * expired row with the same key is removed first.
 */
export async function insertIfAbsent(db: Queryable, model: string, id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
  const now = Date.now();
  const sql = sqlOf(db);
  await sql.run('delete from oidc_payloads where model = ? and id = ? and expires_at <= ?', [model, id, now]);
  try {
    await sql.run('insert into oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at) values (?, ?, ?, null, null, null, ?)', [
      model,
      id,
      JSON.stringify(payload),
      now + expiresIn * 1000,
    ]);
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/**
 * Deletes the stored tokens of a client (when it is removed, so that they stop being introspectable);
 * returns how many. LIKE (its wildcards escaped) only narrows the rows; the JSON decides, so neither
 * `_` in an id nor SQLite's case-insensitive LIKE reaches another client's tokens.
 */
export async function removeClientTokens(db: Queryable, clientId: string): Promise<number> {
  const sql = sqlOf(db);
  const pattern = `%"clientId":${JSON.stringify(clientId).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const stored = await sql.all<{ model: string; id: string; payload: string }>(
    "select model, id, payload from oidc_payloads where model in ('ClientCredentials', 'AccessToken', 'RefreshToken') and payload like ? escape ?",
    [pattern, '\\'],
  );
  let removed = 0;
  for (const row of stored) {
    if ((JSON.parse(String(row.payload)) as { clientId?: unknown }).clientId === clientId)
      removed += await sql.run('delete from oidc_payloads where model = ? and id = ?', [row.model, row.id]);
  }
  return removed;
}
