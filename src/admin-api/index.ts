export { type AdminApi, type AdminApiOptions, createAdminApi, MAX_BODY_BYTES } from './app.js';
export { ADMIN_READ_SCOPE, ADMIN_SCOPE, ADMIN_SCOPES } from './auth.js';
export { defineRoute, type Route } from './router.js';
