/**
 * Why a certificate or a client does not authenticate, besides the mapping reasons (mapping.ts). These
 * are the `reason` of the `client_auth_refused` log line (the caller gets `401 invalid_client` with a
 * `ref`), the `code` of a diagnosis (`certbound doctor`, `POST /admin/diagnose`), and the `reason`
 * label of `certbound_client_auth_refused_total`. The certificate codes are listed in the order of
 * `CERTIFICATE_CODE_PRECEDENCE` (src/diagnose/reasons.ts): the first that applies is the primary one.
 */
import type { CatalogEntry, Surface } from './entry.js';

const REFUSAL: readonly Surface[] = ['log', 'doctor', 'metrics'];

function refusal(meaning: string, hint: string, surfaces: readonly Surface[] = REFUSAL): CatalogEntry {
  return { status: 401, oauthError: 'invalid_client', surfaces, meaning, hint };
}

/** Certificate-level codes: they refuse every tls_client_auth client. */
export const CERTIFICATE_REASON_CODES = {
  CHAIN_TOO_LONG: refusal(
    'more than 5 certificates sent (the trust anchor not counted)',
    'Send only the leaf and its intermediates (at most 5 certificates); do not send the root.',
  ),
  LEAF_NOT_V3: refusal(
    'the leaf is not X.509 v3',
    'Reissue the client certificate as X.509 version 3 with basicConstraints cA=FALSE, keyUsage digitalSignature and Extended Key Usage clientAuth.',
  ),
  LEAF_IS_CA: refusal(
    'the leaf is a CA certificate (cA=TRUE or keyCertSign)',
    'Use a client (end-entity) certificate: reissue it with basicConstraints cA=FALSE and without keyCertSign; a CA certificate never authenticates a client.',
  ),
  EKU_NOT_CLIENT_AUTH: refusal(
    'the Extended Key Usage lacks clientAuth (anyExtendedKeyUsage alone does not count)',
    'Reissue the certificate with Extended Key Usage clientAuth (1.3.6.1.5.5.7.3.2); anyExtendedKeyUsage alone does not count.',
  ),
  KEY_USAGE_NO_DIGITAL_SIGNATURE: refusal(
    'keyUsage without digitalSignature',
    'Reissue the certificate with keyUsage digitalSignature (the client signs the TLS handshake with its key), or without a keyUsage extension.',
  ),
  UNKNOWN_CRITICAL_EXTENSION: refusal(
    'a critical extension certbound does not process',
    'Reissue the certificate without that critical extension, or mark it non-critical if the CA profile allows it.',
  ),
  CERT_EXPIRED: refusal('the certificate is past its notAfter', 'Renew the certificate and deploy it on the client.'),
  CERT_NOT_YET_VALID: refusal('the certificate is before its notBefore', 'Wait until the certificate becomes valid, or check the clocks of the CA and of this server.'),
  CHAIN_INVALID: refusal('the chain does not verify', 'The chain does not verify; reissue the certificate or send the correct intermediate.'),
  REVOKED: refusal('the CA revoked the certificate', 'The CA revoked this certificate; issue a new one for the client.'),
  CRL_STALE: refusal(
    'a CRL in the path is past its nextUpdate (with `CERTBOUND_CRL_STALE=fail-closed`)',
    'The CRL is past its nextUpdate; check that its source is reachable and that the CA still publishes it (certbound trust crl list).',
  ),
  CRL_UNAVAILABLE: refusal(
    'CRL checking is on and a CA in the chain has no CRL',
    'CRL checking is on, so every CA in the chain needs a current CRL: add the missing one with certbound trust crl add.',
  ),
  INTERMEDIATE_MISSING: refusal(
    'the client did not send its intermediate',
    'Configure the client to send its full chain (leaf followed by the intermediate CA), or pass it with --chain.',
  ),
  UNTRUSTED_ROOT: refusal(
    'the chain ends at no trust anchor',
    'Use a certificate issued under one of the trust anchors (certbound trust list), or add its root CA with certbound trust add.',
  ),
  EKU_MISSING: refusal(
    'no Extended Key Usage at all, under an anchor without `--allow-no-eku`',
    'Reissue the certificate with Extended Key Usage clientAuth (1.3.6.1.5.5.7.3.2). Only for a legacy CA that never issues EKU: re-add its trust anchor with certbound trust add --allow-no-eku (admin API: allow_missing_eku).',
  ),
} as const satisfies Record<string, CatalogEntry>;

/** Client-level codes: about the client, not the certificate. */
export const CLIENT_REASON_CODES = {
  CLIENT_UNKNOWN: { surfaces: ['doctor'], meaning: 'no client with that `client_id`', hint: 'Check the client_id, or list clients with certbound client list.' },
  NO_MATCHING_CLIENT: {
    surfaces: ['doctor'],
    meaning: '(`doctor` without `--client-id`) the certificate authenticates no client',
    hint: 'Register a mapping for this certificate: certbound client mapping add ID --from-cert FILE --match subject-dn|san-dns|…',
  },
  SELF_SIGNED_NOT_REGISTERED: refusal(
    'a `self_signed_tls_client_auth` client presented a certificate it has not registered (or published)',
    'Register this exact certificate for the client (self_signed_tls_client_auth), or use the registered one.',
  ),
  CLIENT_NOT_CERTIFICATE_AUTH: {
    surfaces: ['doctor'],
    meaning: 'a `private_key_jwt` client: its assertion decides, the certificate is only bound to its tokens',
    hint: 'Nothing to fix in the certificate: a token request of this client fails or succeeds on its client assertion (certbound client show ID lists its keys); the certificate only has to be the one it uses at the resource server.',
  },
  CLIENT_ASSERTION_INVALID: refusal(
    "a `private_key_jwt` assertion refused, with oidc-provider's reason (wrong `aud`, replayed `jti`, unknown key, bad signature, …)",
    'Check the client assertion: signed with a registered key (certbound client show ID), iss and sub = client_id, aud = the issuer identifier, exp set, a new jti for every request.',
  ),
} as const satisfies Record<string, CatalogEntry>;

/** Codes only the token endpoint logs: not about the certificate, or before any certificate check. */
export const TOKEN_ENDPOINT_REASON_CODES = {
  CLIENT_PENDING_APPROVAL: refusal(
    "a client that registered itself (dynamic registration with a manual-approval token) awaits an administrator's approval; the description says so, with the `ref`",
    'An administrator approves it: certbound client approve ID (or POST /admin/clients/ID/approve).',
    ['log', 'metrics'],
  ),
  CERT_NOT_PRESENTED: refusal(
    'no (usable) client certificate on the connection',
    'Send the request with the client certificate to the mTLS endpoint (mtls_endpoint_aliases in the discovery document).',
    ['log', 'metrics'],
  ),
  JWKS_URI_UNAVAILABLE: refusal(
    "the client's `jwks_uri` could not be fetched and the last good copy lacks the certificate or `kid`; the fetch error is in the log line",
    'Make the jwks_uri reachable from the server and publish the key or certificate there (docs/jwks-uri-addresses.md for the addresses it may use).',
    ['log', 'metrics'],
  ),
  PROXY_NOT_VERIFIED: refusal(
    '`proxy-verified` mode and the verify header is not the success value',
    'Check that the proxy verifies client certificates and sets the verify header (CERTBOUND_PROXY_VERIFY_HEADER) to its success value.',
    ['log', 'metrics'],
  ),
  FORWARDED_CERTIFICATE_ERROR: {
    status: 500,
    oauthError: 'server_error',
    surfaces: ['log'],
    meaning: 'the forwarded client certificate could not be processed for a reason on the server side',
    hint: 'Look up the ref in the server log; the error there says what failed.',
  },
  REFRESH_CERT_MISMATCH: {
    status: 400,
    oauthError: 'invalid_grant',
    surfaces: ['oauth', 'log'],
    meaning:
      'a public client presented its refresh token with another certificate than the one it is bound to (RFC 8705 §4, logged as `token_binding_refused`); nothing is issued and the refresh token stays usable with its own certificate',
    hint: 'Refresh with the certificate the token was issued over; a client instance with a new certificate starts a new authorization.',
  },
  REFRESH_CERT_NOT_PRESENTED: {
    status: 400,
    oauthError: 'invalid_grant',
    surfaces: ['oauth', 'log'],
    meaning: 'a refresh token bound to a certificate was presented without one (logged as `token_binding_refused`); nothing is issued',
    hint: 'Send the refresh request to the mTLS endpoint (mtls_endpoint_aliases) with the certificate the token was issued over.',
  },
  CLIENT_INVALID: refusal(
    'metrics label only: a `401 invalid_client` for which no certificate check ran (e.g. an unknown client)',
    'Check the client_id and its authentication method (certbound client show ID).',
    ['metrics'],
  ),
} as const satisfies Record<string, CatalogEntry>;

export type CertificateReasonCode = keyof typeof CERTIFICATE_REASON_CODES;
export type ClientReasonCode = keyof typeof CLIENT_REASON_CODES;
