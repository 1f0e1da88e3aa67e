/**
 * `certbound/verifier`: the resource-server side of RFC 8705. Depends on node builtins, jose, undici,
 * `src/errors`, `src/pki/thumbprint` and `src/forwarded` only — never on knex, oidc-provider or koa at
 * run time (koa is a type import).
 */
export { type BearerError, VerifierError, type VerifierErrorCode } from './errors.js';
export {
  type CertificateSource,
  createVerifier,
  type IntrospectionOptions,
  type TlsOptions,
  type VerifiableRequest,
  type VerifiedRequest,
  type Verifier,
  type VerifierOptions,
  type VerifyCallOptions,
} from './verifier.js';
export { peerCertificateDer } from './lib/peer-certificate.js';
export type { ForwardedCertificateOptions, ForwardedFormat } from '../forwarded/index.js';
