/** The admin HTTP API's own codes (src/admin-api, and the server's answers on `/admin` paths). */
import type { CatalogEntry } from './entry.js';

function api(status: number, meaning: string, hint: string): CatalogEntry {
  return { status, surfaces: ['admin-api'], meaning, hint };
}

export const ADMIN_API_CODES = {
  ERR_ADMIN_UNAUTHENTICATED: api(
    401,
    'no token, or a token that is bad, expired, for another resource, bound to another certificate, or whose client no longer authenticates',
    'Get an admin token (scope certbound:admin) with certbound token and send it over mTLS with the certificate it is bound to.',
  ),
  ERR_ADMIN_FORBIDDEN: api(403, '`certbound:admin:read` on a write (`error: insufficient_scope`)', 'Use a token with the certbound:admin scope for changes.'),
  ERR_ADMIN_BAD_REQUEST: api(
    400,
    'a malformed `Authorization` header or a refused forwarded-certificate header',
    'Send exactly one Authorization: Bearer header; check the proxy headers (docs/proxies.md).',
  ),
  ERR_ADMIN_UNAVAILABLE: api(
    503,
    "the admin token could not be checked for a reason on the server's side (the verifier's `temporarily_unavailable`)",
    'Retry; the server log has the reason.',
  ),
  ERR_ADMIN_WRONG_LISTENER: api(404, '`/admin` on a listener that does not serve it; names the right URL', 'Send admin requests to the URL the message names.'),
  ERR_ROUTE_UNKNOWN: api(404, 'no such admin route (or anything but `/admin` on the admin listener)', 'GET /admin/openapi.json lists the routes.'),
  ERR_METHOD_NOT_ALLOWED: api(405, 'the route exists, the method does not; names the allowed ones', 'Use one of the methods in the Allow header.'),
  ERR_VALIDATION: api(
    400,
    'the body, a path or a query parameter does not fit the schema; the message starts with the field, `details.issues` lists all',
    'Nothing was changed. See details.issues and the schema in /admin/openapi.json.',
  ),
  ERR_REFUSAL_UNKNOWN: api(
    404,
    'no refusal with that ref in this server process (`GET /admin/refusals/{ref}`): each process keeps its last 1000, so another replica, a restart or an old ref does not have it',
    'Look the ref up in the server log (every refusal line carries it), or diagnose the certificate itself (POST /admin/diagnose, certbound doctor).',
  ),
  ERR_CONSOLE_SESSION_ENDED: {
    status: 401,
    surfaces: ['admin-api', 'console'],
    meaning:
      'a console session that is unknown, expired, idle too long, or ended because its administrator was removed, lost its admin scope or its certificate no longer authenticates it',
    hint: 'Open the console again to sign in with your certificate.',
  },
  ERR_CONSOLE_CERTIFICATE_MISMATCH: {
    status: 401,
    surfaces: ['admin-api', 'console'],
    meaning: 'a console session used on a connection that presents another certificate than the one it was signed in with; the session is ended',
    hint: 'Open the console again to sign in with the certificate this browser presents.',
  },
  ERR_CONSOLE_CSRF: {
    status: 403,
    surfaces: ['admin-api', 'console'],
    meaning: 'a change (or sign-out) made with a console session without the anti-CSRF token, e.g. a forged cross-site request',
    hint: 'Make the change from the console page itself; a page of another site cannot.',
  },
  ERR_HTTP: { surfaces: ['console'], meaning: "the console's script got an error answer without a code", hint: 'Reload the page; the server log has the request.' },
  ERR_CONSOLE: { surfaces: ['console'], meaning: "the console's script failed in the browser before it got an answer (e.g. the network)", hint: 'Reload the page and try again.' },
  ERR_JSON_INVALID: api(400, 'the body is not JSON', 'Send a JSON body.'),
  ERR_CONTENT_TYPE: api(415, 'a body that is not `application/json`', 'Send the body with Content-Type: application/json.'),
  ERR_BODY_UNEXPECTED: api(400, 'a body on a route that takes none', 'Send the request without a body.'),
  ERR_BODY_TOO_LARGE: api(413, 'the body is over the limit', 'Send a smaller body; the message names the limit.'),
  ERR_INTERNAL: api(
    500,
    'anything else (including the admin API or metrics failing to load); details only in the log',
    'Look in the server log for the error logged with the request.',
  ),
} as const satisfies Record<string, CatalogEntry>;
