/**
 * The admin API's scopes. The application layer guards the last client that can use them (the admin
 * API's authenticator enforces them), and the server registers the admin resource with them at start-up
 * without loading the admin API and the verifier it uses (docs/performance.md, memory).
 */
/** Full administration: every route. */
export const ADMIN_SCOPE = 'certbound:admin';
/** Read-only administration: GET routes and diagnose. */
export const ADMIN_READ_SCOPE = 'certbound:admin:read';
export const ADMIN_SCOPES = [ADMIN_SCOPE, ADMIN_READ_SCOPE] as const;
