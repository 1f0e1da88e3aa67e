/**
 * The error catalog: every code certbound uses, grouped as docs/errors.md presents them. A code string is
 * a contract (logs, dashboards, scripts and tests match on it): add a code here before using it, and never
 * rename one. `npm run docs:errors` regenerates docs/errors.md from these entries; test/errors/catalog.test.ts
 * fails when a code used in src/ is missing here or an entry here is used nowhere.
 *
 * The groups live in files of their own so that a layer can take the one it owns without the rest:
 * src/mapping reads mapping.ts, src/verifier and src/client import their files for types only.
 */
import { ADMIN_API_CODES } from './admin-api.js';
import { ADMINISTRATION_CODES } from './administration.js';
import { CERTIFICATE_CODES } from './certificates.js';
import { CLI_CODES } from './cli.js';
import { CLIENT_LIBRARY_CODES } from './client.js';
import type { CatalogEntry, CatalogGroup } from './entry.js';
import { MAPPING_REASON_CODES } from './mapping.js';
import { OAUTH_ERRORS } from './oauth.js';
import { CERTIFICATE_REASON_CODES, CLIENT_REASON_CODES, TOKEN_ENDPOINT_REASON_CODES } from './refusals.js';
import { REGISTRATION_CODES } from './registration.js';
import { SIGN_IN_CODES } from './sign-in.js';
import { STARTUP_CODES } from './startup.js';
import { VERIFIER_CODES } from './verifier.js';

export { type CatalogEntry, type CatalogGroup, hintsOf, type Surface } from './entry.js';
export { LOG_EVENTS, type LogEvent, type LogEventName } from './events.js';
export { type MappingReasonCode, MAPPING_REASON_CODES } from './mapping.js';
export { mtlsAliasDescription, OAUTH_ERRORS, registrationAliasDescription, type OAuthErrorCode, OIDC_PROVIDER_SCOPE_SYNTAX_ERROR, SCOPE_SYNTAX_DESCRIPTION } from './oauth.js';
export { CERTIFICATE_REASON_CODES, type CertificateReasonCode, CLIENT_REASON_CODES, type ClientReasonCode, TOKEN_ENDPOINT_REASON_CODES } from './refusals.js';
export { VERIFIER_CODES, type VerifierErrorCode } from './verifier.js';
export { CLIENT_LIBRARY_CODES, type ClientLibraryCode } from './client.js';
export { ADMIN_API_CODES, ADMINISTRATION_CODES, CERTIFICATE_CODES, CLI_CODES, REGISTRATION_CODES, SIGN_IN_CODES, STARTUP_CODES };

/** The groups in the order docs/errors.md presents them; the name is the template's placeholder. */
export const CATALOG_GROUPS = {
  oauth: OAUTH_ERRORS,
  'certificate-reasons': CERTIFICATE_REASON_CODES,
  'mapping-reasons': MAPPING_REASON_CODES,
  'client-reasons': CLIENT_REASON_CODES,
  'token-endpoint-reasons': TOKEN_ENDPOINT_REASON_CODES,
  startup: STARTUP_CODES,
  administration: ADMINISTRATION_CODES,
  registration: REGISTRATION_CODES,
  'sign-in': SIGN_IN_CODES,
  cli: CLI_CODES,
  'admin-api': ADMIN_API_CODES,
  certificates: CERTIFICATE_CODES,
  verifier: VERIFIER_CODES,
  client: CLIENT_LIBRARY_CODES,
} as const satisfies Record<string, CatalogGroup>;

type Groups = typeof CATALOG_GROUPS;
/** Every code of the catalog. */
export type ErrorCode = { [G in keyof Groups]: keyof Groups[G] }[keyof Groups] & string;

/** Every entry by code (a code belongs to exactly one group; the catalog test checks it). */
export const CATALOG: Readonly<Record<ErrorCode, CatalogEntry>> = Object.freeze(Object.assign({}, ...Object.values(CATALOG_GROUPS)));

/** The entry of `code`, or undefined for a string that is not a catalog code. */
export function catalogEntry(code: string): CatalogEntry | undefined {
  return Object.hasOwn(CATALOG, code) ? CATALOG[code as ErrorCode] : undefined;
}
