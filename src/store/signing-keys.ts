import type { JWK } from 'jose';
import { CertboundError } from '../errors/index.js';
import type { Db } from './knex.js';
import { isStorableKey } from './keys.js';
import { isSealed, seal, unseal } from './sealed.js';
import { type Queryable, sqlOf, toMs } from './sql.js';

export type KeyStatus = 'active' | 'inactive' | 'retired';

export interface SigningKey {
  kid: string;
  alg: string;
  /** active: signs and is published; inactive: published for verification only; retired: gone. */
  status: KeyStatus;
  privateJwk: JWK;
  publicJwk: JWK;
  createdAt: Date;
  retiredAt: Date | null;
}

function fromRow(r: Record<string, unknown>, kek: Buffer | undefined): SigningKey {
  const kid = String(r.kid);
  return {
    kid,
    alg: String(r.alg),
    status: String(r.status) as KeyStatus,
    privateJwk: JSON.parse(unseal(String(r.private_jwk), kek, kid, `Signing key ${kid}`)),
    publicJwk: JSON.parse(String(r.public_jwk)),
    createdAt: new Date(toMs(r.created_at) ?? 0),
    retiredAt: r.retired_at === null || r.retired_at === undefined ? null : new Date(toMs(r.retired_at)!),
  };
}

export const signingKeys = {
  /** Newest first; the active key comes first so oidc-provider signs with it. */
  async list(db: Queryable, kek: Buffer | undefined, options: { includeRetired?: boolean } = {}): Promise<SigningKey[]> {
    const rows = await sqlOf(db).all(`select * from signing_keys${options.includeRetired ? '' : " where status <> 'retired'"} order by created_at desc`);
    const keys = rows.map((r) => fromRow(r, kek));
    return [...keys.filter((k) => k.status === 'active'), ...keys.filter((k) => k.status !== 'active')];
  },
  /** Metadata only (no decryption): for listings. */
  async listPublic(db: Queryable): Promise<Omit<SigningKey, 'privateJwk'>[]> {
    const rows = await sqlOf(db).all('select kid, alg, status, public_jwk, created_at, retired_at from signing_keys order by created_at desc');
    return rows.map((r) => ({
      kid: String(r.kid),
      alg: String(r.alg),
      status: String(r.status) as KeyStatus,
      publicJwk: JSON.parse(String(r.public_jwk)),
      createdAt: new Date(toMs(r.created_at) ?? 0),
      retiredAt: r.retired_at === null || r.retired_at === undefined ? null : new Date(toMs(r.retired_at)!),
    }));
  },
  /**
   * Stores a new key, encrypted when a key-encryption key is given. Refused when that would mix: the
   * keys in use are encrypted and no key-encryption key is set (the new private key would be stored in
   * plaintext), or they were encrypted with another key-encryption key (the servers could not decrypt
   * the new one).
   */
  async insert(db: Db, key: SigningKey, kek: Buffer | undefined): Promise<void> {
    const inUse = (await db('signing_keys').whereNot({ status: 'retired' }).select('kid', 'private_jwk')) as { kid: string; private_jwk: string }[];
    const encrypted = inUse.find((r) => isSealed(String(r.private_jwk)));
    if (encrypted && !kek) {
      throw new CertboundError(
        'ERR_KEY_ENCRYPTION_KEY_MISSING',
        `The signing keys in use are encrypted at rest (${encrypted.kid} …) but CERTBOUND_KEY_ENCRYPTION_KEY is not set: the new key would be stored in plaintext.`,
        {
          hint: 'Set CERTBOUND_KEY_ENCRYPTION_KEY to the key the server was started with, and run the command again.',
        },
      );
    }
    if (encrypted && kek) unseal(String(encrypted.private_jwk), kek, encrypted.kid, `Signing key ${encrypted.kid}`);
    const privateText = JSON.stringify(key.privateJwk);
    await db('signing_keys').insert({
      kid: key.kid,
      alg: key.alg,
      status: key.status,
      private_jwk: kek ? seal(privateText, kek, key.kid) : privateText,
      public_jwk: JSON.stringify(key.publicJwk),
      created_at: key.createdAt.getTime(),
      retired_at: key.retiredAt?.getTime() ?? null,
    });
  },
  /** The status of the key `kid`, or undefined when there is no such key. */
  async statusOf(db: Queryable, kid: string): Promise<KeyStatus | undefined> {
    if (!isStorableKey(kid)) return undefined;
    const [r] = await sqlOf(db).all('select status from signing_keys where kid = ?', [kid]);
    return r ? (String(r.status) as KeyStatus) : undefined;
  },
  /** Whether a key is active now (read inside the transaction that would add one). */
  async hasActive(db: Queryable): Promise<boolean> {
    return (await sqlOf(db).all("select kid from signing_keys where status = 'active' limit 1")).length > 0;
  },
  /** The active key becomes inactive: still published, no longer signing. Returns the number of keys changed. */
  async deactivateActive(db: Queryable): Promise<number> {
    return sqlOf(db).run("update signing_keys set status = 'inactive' where status = 'active'");
  },
  async setStatus(db: Db, kid: string, status: KeyStatus): Promise<number> {
    return db('signing_keys')
      .where({ kid })
      .update({ status, retired_at: status === 'retired' ? Date.now() : null });
  },
};
