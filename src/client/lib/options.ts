/** The checks `createTokenClient` runs on its options, once: a `TypeError` names the option that is wrong. */
import type { JWK } from 'jose';
import type { TokenClientOptions } from '../types.js';

export function checkOptions(options: TokenClientOptions): void {
  let issuer: URL | undefined;
  try {
    issuer = new URL(options.issuer);
  } catch {}
  if (issuer?.protocol !== 'https:') throw new TypeError(`issuer must be an https URL, got ${JSON.stringify(options.issuer)}`);
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('clientId must be a non-empty string');
  const c = options.credentials as Record<string, unknown> | undefined;
  if (!c || !((typeof c.certFile === 'string' && typeof c.keyFile === 'string') || (c.cert !== undefined && c.key !== undefined))) {
    throw new TypeError('credentials must be { certFile, keyFile } (paths) or { cert, key } (PEM)');
  }
  const auth = options.auth ?? 'tls_client_auth';
  if (typeof auth === 'string' ? auth !== 'tls_client_auth' && auth !== 'self_signed_tls_client_auth' : !auth?.privateKeyJwt?.key) {
    throw new TypeError("auth must be 'tls_client_auth', 'self_signed_tls_client_auth' or { privateKeyJwt: { key, alg, kid } }");
  }
  if (typeof auth === 'object') {
    const { key, alg } = auth.privateKeyJwt;
    if (!(alg ?? (typeof key === 'object' && 'kty' in key ? (key as JWK).alg : undefined)))
      throw new TypeError('auth.privateKeyJwt.alg is required unless the key is a JWK with alg');
  }
  const skew = options.renewal?.skewSeconds;
  const jitter = options.renewal?.jitterSeconds;
  for (const [name, value] of [
    ['renewal.skewSeconds', skew],
    ['renewal.jitterSeconds', jitter],
    ['timeoutMs', options.timeoutMs],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new TypeError(`${name} must be a number ≥ 0, got ${String(value)}`);
  }
}
