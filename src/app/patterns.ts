/**
 * The input rules the admin use cases (service.ts) and the admin HTTP API's schemas share, in a module of
 * their own so that the API can validate a request without loading the use cases. The mapping kinds are
 * defined in src/mapping/kinds.ts.
 */
/** Trust anchor names and the like. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** A trust anchor's environment label: as a name, at most 64 characters (its column's width). */
export const ENVIRONMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * The longest resource indicator: its audit target `resource:<identifier>` fits the 2000 characters of
 * the audit log's column (PostgreSQL enforces the width, SQLite does not).
 */
export const MAX_RESOURCE_ID_LENGTH = 2000 - 'resource:'.length;
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~:@-]{0,254}$/;
/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E */
export const SCOPE_TOKEN_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
