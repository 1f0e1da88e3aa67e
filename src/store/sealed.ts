/**
 * Secrets at rest, sealed with the configured key-encryption key (CERTBOUND_KEY_ENCRYPTION_KEY):
 * AES-256-GCM, the additional authenticated data binding a ciphertext to what it is (a signing key's
 * kid, the upstream provider's name), so that one sealed value cannot be moved to another row.
 * A stored value without the prefix is plaintext (written without a key-encryption key).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CertboundError } from '../errors/index.js';

export const SEALED_PREFIX = 'enc:v1:';

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

export function seal(plaintext: string, kek: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The plaintext of `stored`; `what` names it in the refusal ("Signing key k1", "The upstream provider's client secret"). */
export function unseal(stored: string, kek: Buffer | undefined, aad: string, what: string): string {
  if (!isSealed(stored)) return stored;
  if (!kek) {
    throw new CertboundError('ERR_KEY_ENCRYPTION_KEY_MISSING', `${what} is encrypted at rest but CERTBOUND_KEY_ENCRYPTION_KEY is not set.`, {
      hint: 'Set CERTBOUND_KEY_ENCRYPTION_KEY to the key the server was started with.',
    });
  }
  const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new CertboundError('ERR_KEY_ENCRYPTION_KEY_WRONG', `${what} cannot be decrypted with the configured CERTBOUND_KEY_ENCRYPTION_KEY.`, {
      cause,
      hint: 'Use the key-encryption key the keys were written with.',
    });
  }
}
