/**
 * The admin API's words for the application's refusals. A use case refuses with a code, a neutral
 * sentence and the input member it is about (src/app/error-fields.ts); here the member becomes the
 * request member (`scopes` → `scope`, `mapping.trustAnchor` → `mapping.trust_anchor`), named in the
 * message and in `details.field`, and the hint names the route that helps next.
 */
import type { CertboundError } from '../errors/index.js';

/** The fields an application error carries (src/app/error-fields.ts). */
type Fields = { member?: string; [value: string]: unknown };

/** Members whose request name is not their snake_case form. */
const RENAMED: Readonly<Record<string, string>> = {
  scopes: 'scope',
  selfSignedCertPem: 'self_signed_certificate',
  requirePar: 'require_pushed_authorization_requests',
  authMethod: 'token_endpoint_auth_method',
  accountId: 'user',
};

/** Fields that only choose the wording; the body's `details` leaves them out. */
const WORDING_ONLY = new Set(['member', 'problem', 'change']);

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The request member of a use-case input member.
 *
 * @example
 * requestFieldOf('mapping.trustAnchor'); // 'mapping.trust_anchor'
 */
export function requestFieldOf(member: string): string {
  return member
    .split('.')
    .map((part) => RENAMED[part] ?? snake(part))
    .join('.');
}

interface Wording {
  message?: string;
  hint?: string;
}

const WORDINGS: Readonly<Record<string, (err: CertboundError, f: Fields) => Wording | undefined>> = {
  ERR_MAPPING_WINDOW: (_err, f) =>
    f.problem === 'order'
      ? { message: 'not_after must be later than not_before' }
      : f.problem === 'date' && f.member
        ? { message: `${snake(f.member.slice(f.member.lastIndexOf('.') + 1))} is not a valid date` }
        : undefined,
  ERR_MAPPING_NO_CHANGE: () => ({ message: 'Nothing to change: give a new not_before or not_after.' }),
  ERR_TRUST_ANCHOR_UNKNOWN: (_err, f) => (Array.isArray(f.known) && f.known.length === 0 ? { hint: 'Add one first: POST /admin/trust-anchors.' } : undefined),
  ERR_RESOURCE_UNKNOWN: (err, f) =>
    Array.isArray(f.registered) && f.registered.length === 0
      ? { hint: 'Add it first: POST /admin/resource-servers.' }
      : f.member === undefined && !err.hint
        ? { hint: 'GET /admin/resource-servers lists them.' }
        : undefined,
  ERR_SCOPE_UNKNOWN: () => ({ hint: 'Add the scope to a resource server first (PUT /admin/resource-servers/{identifier}), or remove it from the client.' }),
  ERR_CLIENT_UNKNOWN: (_err, f) =>
    f.member === 'introspectionClients'
      ? { hint: "Register the resource server's own client first (POST /admin/clients), then name it here." }
      : f.clientId !== undefined
        ? { hint: 'GET /admin/clients lists the clients.' }
        : undefined,
  ERR_CLIENT_SUBJECT_REQUIRED: () => ({ hint: 'Give exactly one of mapping, self_signed_certificate, self_signed_jwks_uri, private_key_jwt_jwks or private_key_jwt_jwks_uri.' }),
  ERR_CLIENT_EXISTS: (_err, f) => ({ hint: `Inspect it (GET /admin/clients/${String(f.clientId ?? '{client_id}')}), or pick another id.` }),
  ERR_CLIENT_KEYS: (_err, f) =>
    f.problem === 'both'
      ? { message: 'Give either jwks or jwks_uri, not both (SS-11).' }
      : f.problem === 'mappings'
        ? { hint: `Change its certificates through /admin/clients/${String(f.clientId ?? '{client_id}')}/mappings.` }
        : undefined,
  ERR_ADMIN_LAST: (_err, f) => ({
    hint: `Create another administrator first (POST /admin/clients with "scope": "${String(f.scope ?? 'certbound:admin')}", bound tokens on, and a mapping or key it can authenticate with now), or fix one that cannot sign in.`,
  }),
  ERR_MAPPING_UNKNOWN: (_err, f) => (f.clientId === undefined ? undefined : { hint: `GET /admin/clients/${String(f.clientId)}/mappings lists its mappings.` }),
  ERR_MAPPING_LAST: (_err, f) =>
    f.change === 'window' ? { hint: `Add the new mapping first (POST /admin/clients/${String(f.clientId)}/mappings), then end the old one.` } : undefined,
  ERR_MAPPING_OVERLAP: () => ({
    hint: 'Give each client its own certificate subject, pin the mappings to different trust anchors, or allow the overlap (allow_overlap) if both clients really share the certificate.',
  }),
  ERR_KEY_UNKNOWN: (_err, f) => (f.kid === undefined ? undefined : { hint: 'GET /admin/keys lists the keys.' }),
  ERR_KEY_ACTIVE: () => ({ hint: 'Rotate first (POST /admin/keys/rotate), then retire the old key.' }),
  ERR_PUBLIC_CLIENT: (_err, f) =>
    f.problem === 'client_credentials'
      ? { hint: 'Give it grant_types ["authorization_code"] (with "refresh_token" if it refreshes), or register a confidential client for client_credentials.' }
      : f.problem === 'credentials'
        ? { hint: 'Leave mapping, self_signed_*, private_key_jwt_* and jwks out for "token_endpoint_auth_method": "none", or register a confidential client.' }
        : undefined,
  ERR_GRANT_TYPES_INCONSISTENT: (_err, f) =>
    f.problem === 'missing'
      ? { hint: 'Give redirect_uris, e.g. ["https://app.example.com/callback"].' }
      : f.problem === 'refresh_without_code'
        ? { hint: 'Add "authorization_code" to grant_types, or remove "refresh_token".' }
        : f.problem === 'unused'
          ? { hint: 'Add "authorization_code" to grant_types, or leave redirect_uris out (or []).' }
          : undefined,
  ERR_UPSTREAM_UNKNOWN: () => ({ hint: 'Configure one: PUT /admin/upstream.' }),
  ERR_UPSTREAM_DISCOVERY: () => ({ hint: 'Check the issuer (the provider’s "issuer" value, exactly) and that the server reaches the provider; or save without "check": true.' }),
  ERR_CONSENT_UNKNOWN: (_err, f) => ({ hint: `GET /admin/consents?client_id=${encodeURIComponent(String(f.clientId ?? ''))} lists that client's consents.` }),
  ERR_REFRESH_TOKEN_UNKNOWN: () => ({ hint: 'GET /admin/refresh-tokens lists the live ones (a revoked or expired token is gone).' }),
};

/**
 * An error's message, hint, request field and details in the admin API's words. The field is the
 * request member of the error's input member, else the one the route names for its code (`routeFields`,
 * for the route's own refusals); the message then starts with it. An error that already names its
 * field (a validation error) keeps it.
 */
export function adminApiWording(
  err: CertboundError,
  routeFields?: Readonly<Record<string, string>>,
): { message: string; hint: string | undefined; details: Record<string, unknown> | undefined; field: string | undefined } {
  const fields = (err.details ?? {}) as Fields;
  const wording = WORDINGS[err.code]?.(err, fields);
  const named = typeof fields.field === 'string' ? fields.field : undefined;
  const field = named ?? (fields.member !== undefined ? requestFieldOf(fields.member) : routeFields?.[err.code]);
  const sentence = wording?.message ?? err.message;
  const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => !WORDING_ONLY.has(k)));
  const details = field === undefined ? (Object.keys(rest).length ? rest : undefined) : { ...rest, field };
  return { message: field !== undefined && named === undefined ? `${field}: ${sentence}` : sentence, hint: wording?.hint ?? err.hint, details, field };
}
