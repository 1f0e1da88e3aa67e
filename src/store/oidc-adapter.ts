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
