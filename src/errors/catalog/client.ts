/**
 * The codes of `CertboundClientError` (`certbound/client`, and `certbound token`, which prints them).
 * src/client imports this file for its types only, so `certbound/client` loads none of the catalog.
 */
import type { CatalogEntry } from './entry.js';

function code(meaning: string, hint: string): CatalogEntry {
  return { surfaces: ['client'], meaning, hint };
}

export const CLIENT_LIBRARY_CODES = {
  DISCOVERY_FAILED: code('no usable metadata at the issuer (network, status, JSON, or no token endpoint)', 'Check the issuer URL and that this host reaches it over https.'),
  ISSUER_MISMATCH: code('the metadata names another issuer (RFC 8414 §3.3)', 'Configure the issuer exactly as its metadata names it.'),
  TOKEN_REFUSED: code(
    'the token endpoint answered 4xx; carries `httpStatus`, `oauthError`, `errorDescription` and `ref`; never retried',
    "Read the OAuth error and look up the ref in the authorization server's log (certbound doctor explains a refused certificate).",
  ),
  TOKEN_ENDPOINT_UNAVAILABLE: code(
    'network errors or 5xx, still failing after the bounded retries',
    'Retry later; check that the token endpoint is reachable over mTLS from this host.',
  ),
  INVALID_TOKEN_RESPONSE: code('a 200 answer that is not a usable Bearer token response', 'Check that the issuer is an OAuth 2.0 authorization server that issues Bearer tokens.'),
  UNBOUND_TOKEN: code(
    'a JWT access token that is not bound to the presented certificate (`requireBound`)',
    'Register the client for certificate-bound tokens at the authorization server, or accept unbound tokens (requireBound: false, --allow-unbound).',
  ),
  CERTIFICATE_UNREADABLE: code('the certificate or key cannot be read or parsed', 'Give readable PEM files: the certificate (then any intermediates) and its private key.'),
  KEY_MISMATCH: code('the private key does not belong to the certificate', 'Give the key that was generated with this certificate; during a rotation, write both together.'),
  SIGNING_KEY_UNREADABLE: code(
    'the `privateKeyJwt` signing key cannot be imported (reported on the first token request)',
    'Give the private key whose public key is registered for the client (PKCS#8 PEM or a private JWK) and its alg.',
  ),
  CLIENT_CLOSED: code('the client was used after `close()`', 'Create a new client with createTokenClient(); close() is for shutdown.'),
} as const satisfies Record<string, CatalogEntry>;

export type ClientLibraryCode = keyof typeof CLIENT_LIBRARY_CODES;
