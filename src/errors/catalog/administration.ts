/**
 * The use cases' codes (src/app): what the CLI and the admin API refuse, with the status the admin API
 * answers with (the CLI exits 2 for a 4xx status and 1 otherwise).
 */
import { MAPPING_KINDS, MATCH_KINDS } from '../../mapping/kinds.js';
import type { CatalogEntry } from './entry.js';

const MATCH_VALUES = Object.keys(MATCH_KINDS).map((m) => `\`${m}\``);

function admin(status: number, meaning: string, hint: string): CatalogEntry {
  return { status, surfaces: ['cli', 'admin-api'], meaning, hint };
}

export const ADMINISTRATION_CODES = {
  ERR_CLIENT_EXISTS: admin(409, 'a client with that id exists', 'Inspect it (certbound client show ID, GET /admin/clients/ID), or pick another id.'),
  ERR_CLIENT_UNKNOWN: admin(404, 'no such client (also an unknown id in `introspection_clients`)', 'List clients with: certbound client list'),
  ERR_CLIENT_ID_INVALID: admin(
    400,
    'a client id that is not valid (also in `--introspection-clients`)',
    'Use letters, digits and . _ ~ : @ - (at most 255), starting with a letter or digit.',
  ),
  ERR_CLIENT_SUBJECT_REQUIRED: admin(
    400,
    'not exactly one way to authenticate: one subject DN or SAN, a self-signed certificate or its `jwks_uri`, or `private_key_jwt` keys or their `jwks_uri`',
    'Give exactly one subject (RFC 8705 §2.1.2): a subject DN or SAN, a self-signed certificate or JWKS, or private_key_jwt keys.',
  ),
  ERR_CLIENT_KEYS: admin(
    400,
    'keys given for a `tls_client_auth` client, or both `jwks` and `jwks_uri`',
    'Give keys only to self-signed and private_key_jwt clients, and either jwks or jwks_uri.',
  ),
  ERR_CLIENT_NOT_PKI: admin(400, 'certificate mappings for a client that is not `tls_client_auth`', 'Change its keys instead (jwks or jwks_uri).'),
  ERR_MAPPING_KIND: admin(400, 'an unknown mapping kind', `Use one of: ${MAPPING_KINDS.join(', ')}.`),
  ERR_MAPPING_VALUE: admin(
    400,
    'a mapping value that is not valid for its kind (with the `ERR_DN_SYNTAX` cause for a DN)',
    'Give the value in the canonical form of its kind (the message says what is wrong).',
  ),
  ERR_DN_SYNTAX: admin(
    400,
    'a DN that is not RFC 4514 (also the OpenSSL `/C=…/CN=…` form); the message says where',
    'Write the DN in RFC 4514, most specific RDN first, e.g. CN=orders-worker,O=Acme.',
  ),
  ERR_MAPPING_WINDOW: admin(400, 'a validity window date that is not valid', 'Use an ISO 8601 date such as 2027-01-31T00:00:00Z.'),
  ERR_MAPPING_NO_CHANGE: admin(400, 'a mapping update without a new `not_before` or `not_after`', 'Give a new not_before or not_after.'),
  ERR_MAPPING_OVERLAP: admin(
    409,
    'the mapping would let one certificate authenticate as another client too; names both',
    'Give each client its own certificate subject, pin the mappings to different trust anchors, or allow the overlap (--allow-overlap, allow_overlap) if both clients really share the certificate.',
  ),
  ERR_MAPPING_LAST: admin(
    409,
    "removing the client's last mapping, or a window that leaves no mapping valid now",
    'Add the new mapping first, then end the old one (or remove the client).',
  ),
  ERR_MAPPING_UNKNOWN: admin(404, 'no such mapping', 'certbound client mapping list ID (GET /admin/clients/ID/mappings) lists its mappings.'),
  ERR_MATCH_KIND: admin(400, `\`--match\` is not ${MATCH_VALUES.slice(0, -1).join(', ')} or ${MATCH_VALUES.at(-1)}`, 'e.g. --match subject-dn or --match san-dns'),
  ERR_CERT_NO_VALUE: admin(
    400,
    '`--from-cert`: the certificate has no value of that kind (or not the `--value` given)',
    'Pick another --match, or issue the certificate with that SAN. The CN is never used as a SAN.',
  ),
  ERR_CERT_SEVERAL_VALUES: admin(400, '`--from-cert`: several SANs of that kind', 'Choose one with --value.'),
  ERR_TRUST_ANCHOR_EXISTS: admin(409, 'an anchor with that name exists', 'Pick another name, or remove the old one first.'),
  ERR_TRUST_ANCHOR_KEY_EXISTS: admin(409, 'that CA key is already trusted under another name', 'One anchor per CA key: use the existing one, or remove it first.'),
  ERR_TRUST_ANCHOR_NOT_CA: admin(400, 'the certificate is not a CA certificate', 'Add the root (or issuing) CA certificate, not a client or server certificate.'),
  ERR_TRUST_ANCHOR_EXPIRED: admin(400, 'the CA certificate has expired', "Add the CA's current certificate."),
  ERR_TRUST_ANCHOR_IN_USE: admin(409, 'mappings are pinned to the anchor', 'Remove or re-pin those mappings first.'),
  ERR_TRUST_ANCHOR_UNKNOWN: admin(404, 'no anchor with that name', 'List them with: certbound trust list'),
  ERR_NAME_INVALID: admin(
    400,
    'a trust anchor name or environment label with other characters than letters, digits, `.`, `_`, `-`',
    'Use letters, digits, ".", "_" and "-", e.g. prod or staging.',
  ),
  ERR_RESOURCE_EXISTS: admin(
    409,
    '`POST /admin/resource-servers` for an identifier that exists (`certbound resource add` updates it instead)',
    'Update it instead, or remove it first.',
  ),
  ERR_RESOURCE_ID_INVALID: admin(
    400,
    'not a valid resource indicator (RFC 8707)',
    'Use an absolute https:// URI without a fragment (RFC 8707), e.g. https://api.example.com, or a urn:.',
  ),
  ERR_RESOURCE_IN_USE: admin(409, 'the resource is the default resource of clients', 'Change or remove those clients first.'),
  ERR_RESOURCE_UNKNOWN: admin(404, 'no such resource server', 'List them with: certbound resource list'),
  ERR_SCOPE_INVALID: admin(400, 'a scope that is not RFC 6749 §3.3 syntax', 'Scopes are space-separated tokens of visible ASCII characters without quotes or backslashes.'),
  ERR_SCOPE_UNKNOWN: admin(
    400,
    'a client scope no resource server offers',
    'Add the scope to a resource server first (certbound resource add --id URI --scope "…"), or remove it from the client.',
  ),
  ERR_FORMAT_INVALID: admin(400, 'a token format other than `jwt` or `opaque`', 'Use jwt or opaque.'),
  ERR_TTL_INVALID: admin(400, 'a TTL outside 10–86400 seconds', 'Use a whole number of seconds from 10 to 86400.'),
  ERR_KEY_ACTIVE: admin(409, 'retiring the active signing key', 'Rotate first (certbound keys rotate), then retire the old key.'),
  ERR_KEY_UNKNOWN: admin(404, 'no such signing key', 'certbound keys list shows the keys.'),
  ERR_JWKS_INVALID: admin(
    400,
    'a JWKS that breaks a rule (JSON, 1 to the maximum number of keys, public members only, `x5c` rules)',
    'Register the public keys only, as a JSON Web Key Set (the message names the rule).',
  ),
  ERR_JWKS_URI_INVALID: admin(
    400,
    'a `jwks_uri` that is not an https URL',
    'Give the https URL where the client publishes its JWKS, e.g. https://device-17.example.com/jwks.json.',
  ),
  ERR_JWKS_URI_UNAVAILABLE: admin(
    400,
    'the `jwks_uri` could not be fetched or its set is not valid, with a short reason (docs/jwks-uri-addresses.md)',
    'Publish the JWKS at that URL, reachable from the server, or register the keys inline.',
  ),
  ERR_JWKS_URI_ADDRESS_REFUSED: {
    surfaces: ['log'],
    meaning: 'the internal cause of `ERR_JWKS_URI_UNAVAILABLE` for a `jwks_uri` whose address is not public',
    hint: 'Publish the JWKS at a public address, or allow the range with CERTBOUND_JWKS_URI_ALLOWED_RANGES.',
  },
  ERR_CRL_SOURCE: admin(400, 'not exactly one of `--file`/`--url`, or a URL that is not http(s)', 'Give --file for a local file or --url for an http(s) URL.'),
  ERR_CRL_FETCH: admin(400, 'the CRL file cannot be read or the URL fetched', 'Check the path or URL, and that this host can reach it.'),
  ERR_CRL_TOO_LARGE: admin(400, 'the CRL is larger than the limit', "Check that the URL or file is the CA's CRL."),
  ERR_CRL_PARSE: admin(400, 'not one CRL in PEM or DER', 'Give one CRL, in PEM (-----BEGIN X509 CRL-----) or DER.'),
  ERR_CRL_ISSUER: admin(
    400,
    '`--issuer-cert` is not a CA, does not chain to the anchor, or the CRL names another issuer',
    'Give the CA certificate that signs the CRL, followed by any CA certificates between it and the anchor.',
  ),
  ERR_CRL_SIGNATURE: admin(400, "the CRL signature does not verify with the issuer's key", 'Check that the CRL is from that CA and was not altered.'),
  ERR_CRL_EXISTS: admin(409, 'the anchor already has a CRL of that issuer', 'Remove it first: certbound trust crl remove ANCHOR ID'),
  ERR_CRL_UNKNOWN: admin(404, 'no such CRL', 'certbound trust crl list shows them.'),
  ERR_GRANT_TYPE_INVALID: admin(400, 'a grant type this server does not serve, or no grant type at all', 'Use client_credentials, authorization_code and/or refresh_token.'),
  ERR_GRANT_TYPES_INCONSISTENT: admin(
    400,
    '`authorization_code` without a redirect URI, `refresh_token` without `authorization_code`, or redirect URIs without `authorization_code`',
    'Give authorization_code with its redirect URIs (and refresh_token if the client refreshes), or neither.',
  ),
  ERR_PUBLIC_CLIENT: admin(
    400,
    'a public client (`token_endpoint_auth_method` none) given a mapping or keys, `client_credentials`, or bound tokens off',
    'A public client has only the certificate it proves possession of: no mapping, no keys, no client_credentials, tokens always bound (RFC 8705 §4).',
  ),
  ERR_REDIRECT_URI_INVALID: admin(
    400,
    'a redirect URI that is not absolute, not https (http is for loopback hosts only), has a fragment or credentials, is too long, or is given twice',
    'Give each redirect URI once, as the exact https URL the browser returns to (http://127.0.0.1:PORT/… for a native app).',
  ),
  ERR_UPSTREAM_INVALID: admin(
    400,
    'an upstream provider setting that is not valid: the issuer (https; http on loopback only), the client id, the scopes (must include `openid`) or the subject claim',
    'Fix the member the message names.',
  ),
  ERR_UPSTREAM_CREDENTIALS: admin(
    400,
    "certbound's credentials at the upstream provider are missing, do not fit the method, or the private key does not parse",
    'client_secret_basic takes a client secret, private_key_jwt a private key (JWK or PEM), never both.',
  ),
  ERR_UPSTREAM_DISCOVERY: admin(
    400,
    'the check of the upstream provider (`--check`, `"check": true`) failed: its discovery document could not be fetched, names another issuer, or lacks an endpoint or the auth method',
    'Check the issuer URL and that this host reaches the provider, or save without the check.',
  ),
  ERR_UPSTREAM_UNKNOWN: admin(404, 'no upstream OpenID Provider is configured', 'Configure one: certbound upstream set (PUT /admin/upstream).'),
  ERR_CONSENT_UNKNOWN: admin(404, 'the user has no consent to that client', 'certbound consent list (GET /admin/consents) lists the consents.'),
  ERR_REFRESH_TOKEN_UNKNOWN: admin(404, 'no live refresh token has that handle', 'certbound refresh-token list (GET /admin/refresh-tokens) lists them.'),
  ERR_ADMIN_LAST: admin(409, 'removing the last client with `certbound:admin`, or its scope', 'Create another administrator first, or fix one that cannot sign in.'),
  ERR_ADMIN_LOCKOUT: admin(
    409,
    'an administrator removing the trust anchor its own certificate is issued under',
    'Remove it as an administrator whose certificate is issued under another trust anchor, or with the CLI.',
  ),
  ERR_ADMIN_RESOURCE_PROTECTED: admin(
    409,
    'removing the admin API resource, or taking its scopes or JWT format away',
    'Change other settings only (e.g. ttl), or restrict administrators through their client scopes.',
  ),
} as const satisfies Record<string, CatalogEntry>;
