/**
 * Certificates given to certbound (files, API bodies, the TLS handshake) and the client-certificate
 * headers of trusted proxies (src/pki, src/forwarded). A forwarded-header code reaches a token request as
 * `400 invalid_request` with a `ref`, logged as `client_auth_refused` with the code as its reason.
 */
import type { CatalogEntry } from './entry.js';

function certificate(meaning: string, hint: string): CatalogEntry {
  return { status: 400, surfaces: ['cli', 'admin-api', 'doctor', 'log'], meaning, hint };
}

function forwarded(meaning: string, hint: string): CatalogEntry {
  return { status: 400, oauthError: 'invalid_request', surfaces: ['oauth', 'admin-api', 'log', 'verifier'], meaning, hint };
}

export const CERTIFICATE_CODES = {
  ERR_CERT_PARSE: certificate(
    'a certificate that does not parse (or not exactly one where one is expected)',
    'Pass PEM text made of -----BEGIN CERTIFICATE----- blocks (or DER), as the message says.',
  ),
  ERR_CERT_TOO_LARGE: certificate('a certificate or bundle over the size or count limit', 'Pass only the certificates needed (the message names the limit).'),
  ERR_CERT_SAN_MALFORMED: certificate('a subjectAltName that is not DER, duplicated, or has an empty entry', 'Reissue the certificate with a well-formed subjectAltName.'),
  ERR_CERT_STRING_ENCODING: certificate(
    'a DN string that is not valid in its declared encoding',
    'Reissue the certificate with the DN strings encoded as declared (UTF8String preferred).',
  ),
  ERR_CERT_CONTROL_CHARACTER: certificate('a control character in a DN value', 'Reissue the certificate without control characters in its subject.'),
  ERR_FORWARDED_UNTRUSTED_PEER: forwarded(
    'a certificate or verify header from a peer that is not in `CERTBOUND_TRUSTED_PROXIES`',
    'Add the proxy address to CERTBOUND_TRUSTED_PROXIES, or make sure clients cannot reach this listener directly.',
  ),
  ERR_FORWARDED_DUPLICATE: forwarded('the header occurs more than once (or holds a list)', 'Configure the proxy to replace the header, never to append to one the client sent.'),
  ERR_FORWARDED_MALFORMED: forwarded(
    'the header is not strictly in its format',
    'Check the proxy header format setting (CERTBOUND_CLIENT_CERT_HEADER) against what the proxy sends (docs/proxies.md).',
  ),
  ERR_FORWARDED_TOO_LARGE: forwarded('the header is oversized or holds too many certificates', 'Have the proxy forward the leaf (and at most its intermediates) only.'),
  ERR_FORWARDED_HASH_MISMATCH: forwarded(
    'Envoy XFCC: `Hash` does not match `Cert`',
    'Check that the edge Envoy sets the XFCC header itself (forward_client_cert_details: SANITIZE_SET).',
  ),
} as const satisfies Record<string, CatalogEntry>;
