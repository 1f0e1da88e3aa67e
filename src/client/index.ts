/**
 * `certbound/client`: the client-app side of RFC 8705. Obtains certificate-bound access tokens over mTLS,
 * caches and renews them, and calls APIs with the same certificate. Depends on node builtins, undici,
 * jose, `src/errors` and `src/pki/thumbprint` only — never on knex, oidc-provider or koa.
 */
export { CertboundClientError, type CertboundClientErrorCode } from './errors.js';
export type { Credentials } from './lib/credentials.js';
export type { DiscoveredServer } from './lib/discovery.js';
export type { RetryPolicy } from './lib/retry.js';
export {
  type ClientAuthentication,
  type ClientFetchInit,
  type ClientTlsOptions,
  createTokenClient,
  type GetTokenOptions,
  type Token,
  type TokenClient,
  type TokenClientOptions,
} from './token-client.js';
