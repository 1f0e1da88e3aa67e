/**
 * The simplest correct persistent oidc-provider adapter, as a user of bare oidc-provider writes one for
 * SQLite or PostgreSQL: the shape of oidc-provider's example SQL adapters (one table of JSON payloads
 * keyed by model and id, with the grant id, user code and uid to look up by, the expiry and the time of
 * consumption), one statement per adapter call, through the driver certbound uses on that database
 * (better-sqlite3 with statements prepared once; pg's pool with plain parameterized queries). Durability
 * is certbound's: SQLite in WAL mode with its default synchronous=FULL (one fsync per commit), PostgreSQL
 * with its default synchronous_commit; every call is its own (autocommitted) statement.
 */

export interface AdapterPayload {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: unknown;
  [key: string]: unknown;
}

export interface SqlAdapterDatabase {
  /** The oidc-provider `adapter` option: a class constructed with the model name. */
  Adapter: new (
    model: string,
  ) => unknown;
  close(): Promise<void>;
}

const TABLE = `create table if not exists oidc_payloads (
  model text not null, id text not null, payload text not null,
  grant_id text, user_code text, uid text, expires_at bigint, consumed_at bigint,
  primary key (model, id))`;
const INDEXES = [
  'create index if not exists oidc_payloads_grant_id on oidc_payloads (grant_id)',
  'create index if not exists oidc_payloads_user_code on oidc_payloads (user_code)',
  'create index if not exists oidc_payloads_uid on oidc_payloads (uid)',
];
const UPSERT =
  'insert into oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at) values (?, ?, ?, ?, ?, ?, ?)' +
  ' on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at';
const FIND = (column: 'id' | 'user_code' | 'uid') => `select payload, consumed_at from oidc_payloads where model = ? and ${column} = ? and (expires_at is null or expires_at > ?)`;
const CONSUME = 'update oidc_payloads set consumed_at = ? where model = ? and id = ?';
const DESTROY = 'delete from oidc_payloads where model = ? and id = ?';
const REVOKE = 'delete from oidc_payloads where grant_id = ?';

interface Runner {
  get(text: string, params: unknown[]): Promise<{ payload: string; consumed_at: unknown } | undefined>;
  run(text: string, params: unknown[]): Promise<void>;
}

function adapterClass(db: Runner): new (model: string) => unknown {
  const find = async (model: string, column: 'id' | 'user_code' | 'uid', value: string): Promise<AdapterPayload | undefined> => {
    const row = await db.get(FIND(column), [model, value, Date.now()]);
    if (!row) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at !== null && row.consumed_at !== undefined) payload.consumed = Math.floor(Number(row.consumed_at) / 1000);
    return payload;
  };
  return class SqlAdapter {
    constructor(readonly model: string) {}
    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      await db.run(UPSERT, [
        this.model,
        id,
        JSON.stringify(payload),
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresIn ? Date.now() + expiresIn * 1000 : null,
      ]);
    }
    find(id: string) {
      return find(this.model, 'id', id);
    }
    findByUserCode(userCode: string) {
      return find(this.model, 'user_code', userCode);
    }
    findByUid(uid: string) {
      return find(this.model, 'uid', uid);
    }
    async consume(id: string): Promise<void> {
      await db.run(CONSUME, [Date.now(), this.model, id]);
    }
    async destroy(id: string): Promise<void> {
      await db.run(DESTROY, [this.model, id]);
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      await db.run(REVOKE, [grantId]);
    }
  };
}

/** `fn` computed once per statement text. */
function memo<T>(fn: (text: string) => T): (text: string) => T {
  const done = new Map<string, T>();
  return (text) => {
    let value = done.get(text);
    if (value === undefined) {
      value = fn(text);
      done.set(text, value);
    }
    return value;
  };
}

/** `location`: a SQLite file name, or a `postgres://` URL of an existing database. Creates the table if missing. */
export async function openSqlAdapter(location: string): Promise<SqlAdapterDatabase> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: location, max: 10 });
    for (const ddl of [TABLE, ...INDEXES]) await pool.query(ddl);
    const numbered = (text: string) => {
      let n = 0;
      return text.replace(/\?/g, () => `$${++n}`);
    };
    const pgText = memo(numbered);
    return {
      Adapter: adapterClass({
        get: async (text, params) => (await pool.query(pgText(text), params)).rows[0],
        run: async (text, params) => {
          await pool.query(pgText(text), params);
        },
      }),
      close: () => pool.end(),
    };
  }
  const { default: Database } = await import('better-sqlite3');
  const handle = new Database(location);
  handle.pragma('busy_timeout = 5000');
  handle.pragma('journal_mode = WAL');
  for (const ddl of [TABLE, ...INDEXES]) handle.exec(ddl);
  const prepared = memo((text: string) => handle.prepare(text));
  return {
    Adapter: adapterClass({
      get: async (text, params) => prepared(text).get(...params) as { payload: string; consumed_at: unknown } | undefined,
      run: async (text, params) => {
        prepared(text).run(...params);
      },
    }),
    close: async () => {
      handle.close();
    },
  };
}
