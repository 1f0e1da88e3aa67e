/**
 * Registration of private_key_jwt clients (RFC 7523 §2.2, OpenID Connect Core §9): the client proves
 * its identity with a JWT signed by one of its registered keys, and the certificate of the mTLS
 * connection is proof of possession only: tokens are bound to it (RFC 8705 §3, BT-2), whatever CA
 * issued it.
 */
import { calculateJwkThumbprint, type JWK } from 'jose';
import { InvalidInputError } from '../errors/index.js';
import { checkPublicMembers, type Jwks, parseJwksKeys, publicKeyOfJwk } from './self-signed.js';

/** Which algorithms a key of this type and curve can verify. */
function algsFor(k: Record<string, unknown>): readonly string[] {
  if (k.kty === 'RSA') return ['PS256', 'RS256'];
  if (k.kty === 'EC') return k.crv === 'P-256' ? ['ES256'] : k.crv === 'P-384' ? ['ES384'] : [];
  if (k.kty === 'OKP') return k.crv === 'Ed25519' ? ['Ed25519', 'EdDSA'] : [];
  return [];
}

/**
 * Validates the public signing keys of a private_key_jwt client (a JWKS as JSON text): EC P-256/P-384,
 * RSA of at least 2048 bits or Ed25519; public members only; `use` sig and `alg` consistent with the
 * key when given; unique `kid`s. A key without `kid` gets its RFC 7638 thumbprint.
 */
export async function validatePrivateKeyJwtJwks(text: string): Promise<Jwks> {
  const keys: Record<string, unknown>[] = [];
  for (const [i, k] of parseJwksKeys(text).entries()) {
    const where = `keys[${i}]`;
    if (k.kty === 'oct') {
      throw new InvalidInputError('ERR_JWKS_INVALID', `${where} is a symmetric key (kty oct); private_key_jwt needs the client's public key (EC, RSA or OKP).`, {
        hint: 'Register the public half of the key pair the client signs its assertions with.',
      });
    }
    checkPublicMembers(k, where);
    const algs = algsFor(k);
    if (algs.length === 0) {
      throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: curve ${String(k.crv)} is not accepted for client assertions; use P-256, P-384 or Ed25519.`);
    }
    const key = publicKeyOfJwk(k, where);
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (k.kty === 'RSA' && (bits === undefined || bits < 2048)) {
      throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: the RSA key has ${bits ?? 'an unknown number of'} bits; at least 2048 are required.`);
    }
    if (k.use !== undefined && k.use !== 'sig') {
      throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: "use" is ${JSON.stringify(k.use)}; a client assertion key must have use "sig" (or none).`);
    }
    if (k.alg !== undefined && !algs.includes(String(k.alg))) {
      throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: "alg" ${JSON.stringify(k.alg)} does not fit this ${String(k.kty)} key; use one of ${algs.join(', ')}.`);
    }
    if (k.x5c !== undefined) {
      throw new InvalidInputError(
        'ERR_JWKS_INVALID',
        `${where} has x5c: a private_key_jwt client registers its signing keys only; the certificate it connects with is bound to its tokens, not registered.`,
        {
          hint: 'Remove x5c, or register the client with --self-signed-jwks if it should authenticate with that certificate.',
        },
      );
    }
    const kid = typeof k.kid === 'string' && k.kid.length > 0 ? k.kid : await calculateJwkThumbprint(k as JWK);
    if (keys.some((other) => other.kid === kid))
      throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: kid ${JSON.stringify(kid)} is used by another key; every key needs its own kid.`);
    keys.push({ ...k, kid });
  }
  return { keys };
}
