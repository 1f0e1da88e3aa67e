/**
 * The input rules the admin use cases (service.ts) and the admin HTTP API's schemas share, in a module of
 * their own so that the API can validate a request without loading the use cases.
 */
import type { MappingKind } from '../store/index.js';

export const MAPPING_KINDS: readonly MappingKind[] = ['subject_dn', 'san_dns', 'san_uri', 'san_ip', 'san_email'];

/** Trust anchor names and the like. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~:@-]{0,254}$/;
/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E */
export const SCOPE_TOKEN_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
