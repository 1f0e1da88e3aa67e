/** The admin API's scopes, defined with the application layer's guard that keeps an administrator. */
export { ADMIN_READ_SCOPE, ADMIN_SCOPE, ADMIN_SCOPES } from '../app/admin-scopes.js';
