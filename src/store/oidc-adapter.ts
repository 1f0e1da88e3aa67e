import type { Db } from './knex.js';
import { toMs } from './knex.js';

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
export function createOidcAdapter(db: Db, findClient: (id: string) => Promise<AdapterPayload | undefined>) {
  const now = () => Date.now();

  async function findRow(model: string, where: Record<string, string>): Promise<AdapterPayload | undefined> {
    const row = await db('oidc_payloads')
      .where({ model, ...where })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now()))
      .first();
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
      const row = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: GRANTABLE.has(this.model) || payload.grantId ? (payload.grantId ?? null) : null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresIn ? now() + expiresIn * 1000 : null,
      };
      await db('oidc_payloads').insert(row).onConflict(['model', 'id']).merge(['payload', 'grant_id', 'user_code', 'uid', 'expires_at']);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(id);
      return findRow(this.model, { id });
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return findRow(this.model, { user_code: userCode });
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return findRow(this.model, { uid });
    }

    async consume(id: string): Promise<void> {
      await db('oidc_payloads').where({ model: this.model, id }).update({ consumed_at: now() });
    }

    async destroy(id: string): Promise<void> {
      await db('oidc_payloads').where({ model: this.model, id }).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db('oidc_payloads').where({ grant_id: grantId }).delete();
    }
  };
}

/** Deletes expired rows; returns how many. Run periodically by the server. */
export async function purgeExpiredPayloads(db: Db): Promise<number> {
  return db('oidc_payloads').where('expires_at', '<=', Date.now()).delete();
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
export async function insertIfAbsent(db: Db, model: string, id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
  const now = Date.now();
  await db('oidc_payloads').where({ model, id }).andWhere('expires_at', '<=', now).delete();
  try {
    await db('oidc_payloads').insert({ model, id, payload: JSON.stringify(payload), grant_id: null, user_code: null, uid: null, expires_at: now + expiresIn * 1000 });
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}
