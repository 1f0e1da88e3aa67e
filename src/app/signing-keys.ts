/**
 * The token signing keys: the active key signs; a rotated-out key stays published (inactive) so the
 * tokens it signed keep verifying, until it is retired. Every change bumps the signing-key revision, so
 * running servers pick it up.
 */
import type { SigningAlgorithm } from '../config/index.js';
import { ConflictError, NotFoundError } from '../errors/index.js';
import { bumpRevision, type Db, type SigningKey, signingKeys, writeAudit } from '../store/index.js';
import { generateSigningKey } from './generate-signing-key.js';

export interface SigningKeyOptions {
  db: Db;
  /** Encrypts new private keys at rest (CERTBOUND_KEY_ENCRYPTION_KEY). */
  keyEncryptionKey?: Buffer | undefined;
  /** The algorithm of a new key unless one is named. */
  signingAlg: SigningAlgorithm;
}

/**
 * The signing-key use cases over a database.
 *
 * @example
 * const keys = createSigningKeyUseCases({ db, signingAlg: 'ES256' });
 * const next = await keys.rotateKeys('cli:alice');
 * await keys.retireKey(previousKid, 'cli:alice');
 */
export function createSigningKeyUseCases({ db, keyEncryptionKey, signingAlg }: SigningKeyOptions) {
  return {
    /** The public parts, newest first. */
    listKeys: (): Promise<Omit<SigningKey, 'privateJwk'>[]> => signingKeys.listPublic(db),

    /** Creates the first signing key when there is none; returns true when it did. */
    async ensureActiveKey(actor: string): Promise<boolean> {
      const key = await generateSigningKey(signingAlg);
      const created = await db.transaction(async (trx) => {
        // Write first: the revision row lock serializes replicas starting at once, so the check below
        // sees a key another replica just committed (no second active key).
        await bumpRevision(trx, 'signing_keys');
        if (await signingKeys.hasActive(trx)) {
          await trx.rollback();
          return false;
        }
        await signingKeys.insert(trx, key, keyEncryptionKey);
        await writeAudit(trx, { actor, action: 'keys.create', target: `key:${key.kid}`, after: { kid: key.kid, alg: key.alg } });
        return true;
      });
      // a rolled-back transaction resolves to undefined
      return created === true;
    },

    /**
     * Adds a new active key. The previous active key becomes `inactive`: still published in the JWKS
     * so tokens it signed keep verifying, until `retireKey` removes it.
     */
    async rotateKeys(actor: string, alg: SigningAlgorithm = signingAlg): Promise<Omit<SigningKey, 'privateJwk'>> {
      const key = await generateSigningKey(alg);
      await db.transaction(async (trx) => {
        await bumpRevision(trx, 'signing_keys');
        await signingKeys.deactivateActive(trx);
        await signingKeys.insert(trx, key, keyEncryptionKey);
        await writeAudit(trx, { actor, action: 'keys.rotate', target: `key:${key.kid}`, after: { kid: key.kid, alg: key.alg } });
      });
      const { privateJwk: _omit, ...pub } = key;
      return pub;
    },

    /** Stops publishing an inactive key; the active key is refused (ERR_KEY_ACTIVE). */
    async retireKey(kid: string, actor: string): Promise<void> {
      await db.transaction(async (trx) => {
        const status = await signingKeys.statusOf(trx, kid);
        if (!status) throw new NotFoundError('ERR_KEY_UNKNOWN', `There is no signing key ${kid}.`, { details: { kid } });
        if (status === 'active') throw new ConflictError('ERR_KEY_ACTIVE', `Key ${kid} is the active signing key.`, { details: { kid } });
        await signingKeys.setStatus(trx, kid, 'retired');
        await bumpRevision(trx, 'signing_keys');
        await writeAudit(trx, { actor, action: 'keys.retire', target: `key:${kid}` });
      });
    },
  };
}

export type SigningKeyUseCases = ReturnType<typeof createSigningKeyUseCases>;
