import { isStorableKey } from './keys.js';
import { type Queryable, type Row, sqlOf, toMs } from './sql.js';

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
 * Grant sources that are used once (RFC 6749 §4.1.2, §10.4): their consume is one conditional UPDATE,
 * and a row that was consumed in the meantime, or is gone, makes it throw {@link AlreadyConsumedError}.
 * oidc-provider reads the `consumed` mark and writes it later: two requests with the same code or refresh
 * token at the same moment would both pass its check.
 */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken']);

/** A code or refresh token that another request consumed first (or that was revoked) since it was read. */
export class AlreadyConsumedError extends Error {
  constructor(
    readonly model: string,
    readonly id: string,
  ) {
    super(`${model} already consumed`);
    this.name = 'AlreadyConsumedError';
  }
}

export interface OidcAdapterOptions {
  /**
   * The request being served (oidc-provider's `Provider.ctx`), or undefined outside one. Within a request
   * a refresh token is read together with its grant, in one query (oidc-provider looks the grant up
   * next), and the consume of a rotated refresh token is written with its successor, in one statement
   * (PostgreSQL) or one transaction (SQLite). `settle` (on the adapter class) writes a consume that no
   * successor followed; the server calls it when each request ends.
   */
  requestScope?: () => object | undefined;
}

/** What the adapter holds for one request. */
interface RequestState {
  /** Grants read together with a refresh token, by id; each is handed out once. */
  grants: Map<string, AdapterPayload>;
  /** The refresh token whose consume waits for its successor's insert. */
  pendingConsume?: string;
}

const UPSERT_COLUMNS = 'model, id, payload, grant_id, user_code, uid, expires_at, client_id, account_id, x5t_s256';
const UPSERT_CONFLICT =
  ' on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at,' +
  ' client_id = excluded.client_id, account_id = excluded.account_id, x5t_s256 = excluded.x5t_s256';
const UPSERT = `insert into oidc_payloads (${UPSERT_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)${UPSERT_CONFLICT}`;
const CONSUME = 'update oidc_payloads set consumed_at = ? where model = ? and id = ? and consumed_at is null';
/**
 * PostgreSQL: the consume of the presented refresh token and the insert of its successor in one
 * statement. The successor is inserted only if this statement's UPDATE consumed the presented one (a
 * concurrent rotation of the same token waits for the row lock, then finds it consumed).
 */
const ROTATE_PG =
  "with used as (update oidc_payloads set consumed_at = ? where model = 'RefreshToken' and id = ? and consumed_at is null returning id)" +
  ` insert into oidc_payloads (${UPSERT_COLUMNS}) select ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::text, ?::text from used${UPSERT_CONFLICT}`;
/** A refresh token with its grant's payload (null when the grant is gone or expired). */
const FIND_REFRESH_WITH_GRANT =
  'select r.payload, r.consumed_at, g.payload as grant_payload from oidc_payloads r' +
  " left join oidc_payloads g on g.model = 'Grant' and g.id = r.grant_id and (g.expires_at is null or g.expires_at > ?)" +
  " where r.model = 'RefreshToken' and r.id = ? and (r.expires_at is null or r.expires_at > ?)";

/**
 * Builds the oidc-provider adapter class over SQL. Every model lives in `oidc_payloads`, except
 * `Client`, which is read from the clients tables through `findClient` (so a CLI change is seen on the
 * next request) and is never written by the provider (dynamic registration is off).
 */
export function createOidcAdapter(db: Queryable, findClient: (id: string) => Promise<AdapterPayload | undefined>, options: OidcAdapterOptions = {}) {
  const now = () => Date.now();
  const sql = sqlOf(db);
  const states = new WeakMap<object, RequestState>();
  const stateOf = (): RequestState | undefined => {
    const scope = options.requestScope?.();
    if (!scope) return undefined;
    let state = states.get(scope);
    if (!state) {
      state = { grants: new Map() };
      states.set(scope, state);
    }
    return state;
  };

  const fromRow = (row: Row): AdapterPayload => {
    const payload = JSON.parse(String(row.payload)) as AdapterPayload;
    const consumedAt = toMs(row.consumed_at);
    if (consumedAt) payload.consumed = Math.floor(consumedAt / 1000);
    return payload;
  };

  async function findRow(model: string, column: 'id' | 'user_code' | 'uid', value: string): Promise<AdapterPayload | undefined> {
    // The value may be a request's, as sent (a token at introspection or revocation).
    if (!isStorableKey(value)) return undefined;
    const [row] = await sql.all(`select payload, consumed_at from oidc_payloads where model = ? and ${column} = ? and (expires_at is null or expires_at > ?)`, [
      model,
      value,
      now(),
    ]);
    return row ? fromRow(row) : undefined;
  }

  async function findRefreshToken(id: string, state: RequestState): Promise<AdapterPayload | undefined> {
    if (!isStorableKey(id)) return undefined;
    const at = now();
    const [row] = await sql.all(FIND_REFRESH_WITH_GRANT, [at, id, at]);
    if (!row) return undefined;
    const payload = fromRow(row);
    if (row.grant_payload !== null && row.grant_payload !== undefined && typeof payload.grantId === 'string') {
      state.grants.set(payload.grantId, JSON.parse(String(row.grant_payload)) as AdapterPayload);
    }
    return payload;
  }

  const upsertParams = (model: string, id: string, payload: AdapterPayload, expiresIn?: number) => [
    model,
    id,
    JSON.stringify(payload),
    GRANTABLE.has(model) || payload.grantId ? (payload.grantId ?? null) : null,
    payload.userCode ?? null,
    payload.uid ?? null,
    expiresIn ? now() + expiresIn * 1000 : null,
    // Listing columns (store/authorization.ts): whose token, which user, the certificate it is bound to.
    typeof payload.clientId === 'string' ? payload.clientId : null,
    typeof payload.accountId === 'string' ? payload.accountId : null,
    typeof payload['x5t#S256'] === 'string' ? payload['x5t#S256'] : null,
  ];

  async function consumeNow(model: string, id: string): Promise<void> {
    const changed = await sql.run(CONSUME, [now(), model, id]);
    if (changed === 0 && SINGLE_USE.has(model)) throw new AlreadyConsumedError(model, id);
  }

  /** Consumes `used` and stores its successor, or neither (AlreadyConsumedError). */
  async function rotate(used: string, id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const params = upsertParams('RefreshToken', id, payload, expiresIn);
    if (sql.dialect === 'pg') {
      if ((await sql.run(ROTATE_PG, [now(), used, ...params])) === 0) throw new AlreadyConsumedError('RefreshToken', used);
      return;
    }
    await sql.transaction(async (trx) => {
      if ((await trx.run(CONSUME, [now(), 'RefreshToken', used])) === 0) throw new AlreadyConsumedError('RefreshToken', used);
      await trx.run(UPSERT, params);
    });
  }

  return class SqlAdapter implements OidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    /** Writes the consume a request deferred and no successor followed (see OidcAdapterOptions); a no-op otherwise. */
    static async settle(scope: object): Promise<void> {
      const state = states.get(scope);
      const pending = state?.pendingConsume;
      if (!state || pending === undefined) return;
      state.pendingConsume = undefined;
      await sql.run(CONSUME, [now(), 'RefreshToken', pending]);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed with the certbound CLI or admin API');
      if (this.model === 'RefreshToken') {
        const state = stateOf();
        const used = state?.pendingConsume;
        if (state && used !== undefined) {
          state.pendingConsume = undefined;
          return rotate(used, id, payload, expiresIn);
        }
      }
      await sql.run(UPSERT, upsertParams(this.model, id, payload, expiresIn));
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(id);
      const state = stateOf();
      if (state && this.model === 'RefreshToken') return findRefreshToken(id, state);
      if (state && this.model === 'Grant') {
        const read = state.grants.get(id);
        if (read) {
          state.grants.delete(id);
          return read;
        }
      }
      return findRow(this.model, 'id', id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return findRow(this.model, 'user_code', userCode);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return findRow(this.model, 'uid', uid);
    }

    async consume(id: string): Promise<void> {
      if (this.model === 'RefreshToken') {
        const state = stateOf();
        if (state) {
          if (state.pendingConsume !== undefined && state.pendingConsume !== id) await SqlAdapter.settle(options.requestScope!()!);
          state.pendingConsume = id;
          return;
        }
      }
      await consumeNow(this.model, id);
    }

    async destroy(id: string): Promise<void> {
      await sql.run('delete from oidc_payloads where model = ? and id = ?', [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await sql.run('delete from oidc_payloads where grant_id = ?', [grantId]);
    }
  };
}

/** Removes the tokens of a grant and the grant itself (what oidc-provider does on a code or refresh token replay). */
export async function revokeGrant(db: Queryable, grantId: string): Promise<void> {
  await sqlOf(db).run("delete from oidc_payloads where grant_id = ? or (model = 'Grant' and id = ?)", [grantId, grantId]);
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
