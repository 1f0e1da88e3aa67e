/**
 * Registration of self_signed_tls_client_auth clients (RFC 8705 §2.2): the client's certificates are
 * kept as a JWKS whose keys carry the certificate in `x5c` (RFC 7517 §4.7).
 */
import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';
import { InvalidInputError } from '../errors/index.js';
import { parseCertificate, parsePemCertificates } from '../pki/index.js';

export type Jwks = { keys: Record<string, unknown>[] };

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const PUBLIC_MEMBERS: Record<string, string[]> = { EC: ['crv', 'x', 'y'], RSA: ['n', 'e'], OKP: ['crv', 'x'] };
const MAX_KEYS = 10;

function spkiOfCertificate(der: Buffer): Buffer {
  return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
}

/** A JWKS with one key built from the certificate itself, so its key members always match x5c[0]. */
export async function jwksFromCertificatePem(pem: string): Promise<Jwks> {
  const ders = parsePemCertificates(pem);
  if (ders.length !== 1) {
    throw new InvalidInputError('ERR_CERT_PARSE', `Expected exactly one certificate, found ${ders.length}.`, { hint: 'Pass the PEM file that holds only the client certificate.' });
  }
  const parsed = parseCertificate(ders[0]!);
  const jwk = await exportJWK(createPublicKey({ key: spkiOfCertificate(parsed.der), format: 'der', type: 'spki' }));
  return { keys: [{ ...jwk, kid: parsed.x5t, use: 'sig', x5c: [parsed.der.toString('base64')] }] };
}

/**
 * The keys of a client-supplied JWKS (JSON text): a `keys` array of 1 to MAX_KEYS objects, and no
 * `jwks_uri` next to it (SS-11).
 */
export function parseJwksKeys(text: string): Record<string, unknown>[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError('ERR_JWKS_INVALID', `The JWKS is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
    throw new InvalidInputError('ERR_JWKS_INVALID', `A JWKS needs a "keys" array with 1 to ${MAX_KEYS} keys.`);
  }
  if ((doc as Record<string, unknown>).jwks_uri !== undefined) {
    throw new InvalidInputError('ERR_JWKS_INVALID', 'jwks and jwks_uri must not be used at the same time (SS-11).');
  }
  return keys.map((key, i) => {
    if (!key || typeof key !== 'object' || Array.isArray(key)) throw new InvalidInputError('ERR_JWKS_INVALID', `keys[${i}] is not an object.`);
    return key as Record<string, unknown>;
  });
}

/** A public JWK's key members are all there (SS-8) and it has no private ones. */
export function checkPublicMembers(k: Record<string, unknown>, where: string): void {
  const required = PUBLIC_MEMBERS[String(k.kty)];
  if (!required) throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: kty must be EC, RSA or OKP.`);
  const missing = required.filter((m) => typeof k[m] !== 'string');
  if (missing.length) {
    throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: the public key members ${missing.join(', ')} are missing (RFC 7518 requires them even with x5c).`);
  }
  const secret = PRIVATE_MEMBERS.filter((m) => k[m] !== undefined);
  if (secret.length) {
    throw new InvalidInputError('ERR_JWKS_INVALID', `${where} contains private key material (${secret.join(', ')}); register the public key only.`, {
      hint: 'Remove the private members; never send a private key to the server.',
    });
  }
}

/** The public key of a JWK whose members were checked with checkPublicMembers. */
export function publicKeyOfJwk(k: Record<string, unknown>, where: string): KeyObject {
  try {
    return createPublicKey({ key: k as JWK as never, format: 'jwk' });
  } catch (cause) {
    throw new InvalidInputError('ERR_JWKS_INVALID', `${where} is not a valid public JWK: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Validates a client-supplied JWKS for self_signed_tls_client_auth: each key has its public members
 * (SS-8), no private members, an `x5c` whose first entry is standard base64 DER of a certificate (SS-10)
 * whose public key is the key's (SS-9).
 */
export function validateSelfSignedJwks(text: string): Jwks {
  return {
    keys: parseJwksKeys(text).map((k, i) => {
      const where = `keys[${i}]`;
      checkPublicMembers(k, where);
      const x5c = k.x5c;
      if (!Array.isArray(x5c) || x5c.length === 0 || typeof x5c[0] !== 'string') {
        throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: x5c with the client certificate is required for self_signed_tls_client_auth.`);
      }
      for (const [j, entry] of x5c.entries()) {
        if (typeof entry !== 'string' || !STANDARD_BASE64.test(entry)) {
          throw new InvalidInputError('ERR_JWKS_INVALID', `${where}.x5c[${j}] is not standard base64 DER (RFC 7517 §4.7: not base64url, not PEM).`);
        }
      }
      const der = Buffer.from(x5c[0] as string, 'base64');
      const parsed = parseCertificate(der);
      const keySpki = publicKeyOfJwk(k, where).export({ type: 'spki', format: 'der' }) as Buffer;
      if (!keySpki.equals(spkiOfCertificate(parsed.der))) {
        throw new InvalidInputError('ERR_JWKS_INVALID', `${where}: the key does not match the public key of its x5c[0] certificate (RFC 7517 §4.7).`);
      }
      return { ...k, kid: typeof k.kid === 'string' ? k.kid : parsed.x5t, x5c };
    }),
  };
}
