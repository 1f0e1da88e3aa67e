import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SigningAlgorithm } from '../config/index.js';
import type { SigningKey } from '../store/index.js';

/**
 * Generates a signing key for `alg`; kid = RFC 7638 thumbprint (unique and stable).
 *
 * A base64url thumbprint starts with `-` once in 64 keys, and a command line reads such a kid as an
 * option (`certbound keys retire -Xy…` fails with "unknown option"). The key is random anyway, so a
 * key whose kid would start with `-` is discarded and another one generated.
 */
export async function generateSigningKey(alg: SigningAlgorithm): Promise<SigningKey> {
  for (;;) {
    const key = await generateOnce(alg);
    if (!key.kid.startsWith('-')) return key;
  }
}

async function generateOnce(alg: SigningAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg.startsWith('PS') || alg.startsWith('RS') ? { modulusLength: 2048 } : {}) });
  const publicJwk = await exportJWK(publicKey);
  const kid = (await calculateJwkThumbprint(publicJwk)) || randomUUID();
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return {
    kid,
    alg,
    status: 'active',
    privateJwk,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    createdAt: new Date(),
    retiredAt: null,
  };
}
