/**
 * What the certificate source (certificate-source.ts) hands the mTLS hooks (mtls.ts), and what both
 * report when they refuse: the shapes they share, kept apart so that neither imports the other.
 */
import type { X509Certificate } from 'node:crypto';
import type { CertboundError } from '../errors/index.js';
import type { ParsedCertificate } from '../pki/index.js';
import type { TrustAnchor } from '../store/index.js';

export interface Refusal {
  /** Stable reason code, e.g. SAN_MISMATCH, INTERMEDIATE_MISSING. */
  code: string;
  message: string;
  /** Correlation id echoed in error_description and in the log line. */
  ref: string;
  clientId?: string | undefined;
  thumbprint?: string | undefined;
  /** A refusal about a client assertion's key (private_key_jwt), not about the certificate. */
  keyId?: string | undefined;
  details?: unknown;
  /** The client may read `message` itself (it says nothing of the certificate or of other clients). */
  publicDescription?: boolean;
  /**
   * A token's binding refused the request (a refresh token bound to another certificate), not client
   * authentication: logged as `token_binding_refused`, without a certificate diagnosis.
   */
  binding?: boolean;
}

/** The chain verdict of a forwarded certificate (what `socket.authorized` is for a TLS one). */
export type ForwardedVerdict = { authorized: true } | { authorized: false; code: string; message: string };

export interface PeerCertificate {
  x509: X509Certificate;
  parsed: ParsedCertificate | undefined;
  parseError: CertboundError | undefined;
  /** Number of certificates the client sent (leaf included), when known. */
  sentChainLength: number;
  /** The trust anchor the verified chain ended at, when OpenSSL verified it. */
  anchor: TrustAnchor | undefined;
  /** DER of the certificates reported after the leaf (sent by the client or completed from the anchors), for the diagnosis. */
  chain?: Buffer[];
  /** Set when a trusted proxy forwarded the certificate (certificate-source.ts): the chain verdict. */
  forwarded?: ForwardedVerdict;
}

/**
 * The forwarded certificate of a request, as the certificate source prepared it: a certificate; `null`
 * when the request came from a trusted proxy without one (never fall back to the proxy's own TLS
 * connection); `undefined` when the TLS connection is the source.
 */
export type ForwardedCertificateOf = (req: object) => PeerCertificate | null | undefined;
