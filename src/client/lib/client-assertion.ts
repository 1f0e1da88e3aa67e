/** RFC 7523 client assertions for `private_key_jwt` (audience: the issuer), signed with the client's key. */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, importJWK, importPKCS8, type JWK, type KeyObject, SignJWT } from 'jose';
import { CertboundClientError } from '../errors.js';
import type { ClientAuthentication } from '../types.js';

type PrivateKeyJwt = Extract<ClientAuthentication, object>['privateKeyJwt'];

async function signingKeyOf(options: PrivateKeyJwt): Promise<{ key: CryptoKey | KeyObject | Uint8Array; alg: string; kid: string | undefined }> {
  const { key } = options;
  const jwk = typeof key === 'object' && 'kty' in key ? (key as JWK) : undefined;
  const alg = (options.alg ?? jwk?.alg)!;
  const kid = options.kid ?? jwk?.kid;
  if (typeof key === 'string') return { key: await importPKCS8(key, alg), alg, kid };
  if (jwk) return { key: await importJWK(jwk, alg), alg, kid };
  return { key: key as CryptoKey | KeyObject, alg, kid };
}

/**
 * The extra form parameters of every token request: none for `tls_client_auth` and
 * `self_signed_tls_client_auth`, a fresh client assertion for `privateKeyJwt`. The key is imported
 * at once; a key that cannot be used is reported on the first token request.
 */
export function createClientAssertion(auth: ClientAuthentication | undefined, clientId: string, issuer: string): () => Promise<Record<string, string>> {
  const assertionKey =
    typeof auth === 'object'
      ? signingKeyOf(auth.privateKeyJwt).catch((err: unknown) => {
          throw new CertboundClientError('SIGNING_KEY_UNREADABLE', `the private_key_jwt signing key cannot be used: ${(err as Error).message}`, {
            hint: 'Give the private key whose public key is registered for the client (PKCS#8 PEM or a private JWK) and its alg.',
            cause: err,
          });
        })
      : undefined;
  // Reported on the first token request, not as an unhandled rejection now.
  assertionKey?.catch(() => {});
  /** RFC 7523 §3: a client assertion, new for every attempt (a server refuses a replayed jti). */
  return async (): Promise<Record<string, string>> => {
    if (!assertionKey) return {};
    const { key, alg, kid } = await assertionKey;
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(issuer)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
    return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt };
  };
}
