/**
 * End-user sign-in: certbound is the relying party of the upstream OpenID Provider an administrator
 * configured (src/server/interactions/upstream-login.ts). The end user reads these on an error page;
 * the log line carries the detail an administrator needs.
 */
import type { CatalogEntry } from './entry.js';

export const SIGN_IN_CODES = {
  UPSTREAM_NOT_CONFIGURED: {
    status: 503,
    surfaces: ['sign-in', 'log'],
    meaning: 'an end user started a sign-in but no upstream OpenID Provider is configured (the `default` row of `upstream_providers`)',
    hint: 'An administrator configures the upstream provider (its issuer, certbound’s client credentials there, the scopes and the subject claim), then the user signs in again.',
  },
  UPSTREAM_UNAVAILABLE: {
    status: 502,
    surfaces: ['sign-in', 'log'],
    meaning:
      'the upstream provider could not be used: its discovery document, token or userinfo endpoint did not answer, answered with an HTTP error, or refused certbound’s client credentials; `details.reason` says which',
    hint: 'Try again later; if it persists, an administrator checks that the upstream issuer is reachable from certbound and that certbound’s client id and secret or key there are right.',
  },
  UPSTREAM_LOGIN_FAILED: {
    status: 400,
    surfaces: ['sign-in', 'log'],
    meaning:
      'the sign-in at the upstream provider did not give a verified user: an error from the upstream (such as access_denied), a state or nonce mismatch, an invalid ID token, a login that took too long, or the configured subject claim missing; `details.reason` says which',
    hint: 'Start again from the application; if the subject claim is missing, an administrator chooses a claim the upstream provider issues for every user.',
  },
} as const satisfies Record<string, CatalogEntry>;
