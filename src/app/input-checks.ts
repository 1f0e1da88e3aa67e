/**
 * Input rules several use cases share. Each refusal names the input member it is about (error-fields.ts),
 * so the CLI and the admin API can each say it in their own terms.
 */
import { InvalidInputError } from '../errors/index.js';
import { SCOPE_TOKEN_PATTERN } from './patterns.js';

/**
 * The distinct scopes of `scopes`, each an RFC 6749 §3.3 scope token.
 *
 * @example
 * requireScopes(['read', 'read', 'write'], 'scopes'); // ['read', 'write']
 */
export function requireScopes(scopes: readonly string[], member: string): string[] {
  const unique = [...new Set(scopes)];
  for (const s of unique) {
    if (!SCOPE_TOKEN_PATTERN.test(s)) {
      throw new InvalidInputError('ERR_SCOPE_INVALID', `"${s}" is not a valid scope token`, {
        hint: 'Scopes are space-separated tokens of visible ASCII characters without quotes or backslashes.',
        details: { member },
      });
    }
  }
  return unique;
}

/**
 * Refuses a validity window with an invalid date or that ends before it starts. `prefix` is the members'
 * parent (`mapping.` for the mapping of a new client).
 */
export function assertValidWindow(notBefore: Date | undefined, notAfter: Date | undefined, prefix = ''): void {
  for (const [side, d] of [
    ['notBefore', notBefore],
    ['notAfter', notAfter],
  ] as const) {
    if (d && Number.isNaN(d.getTime())) {
      throw new InvalidInputError('ERR_MAPPING_WINDOW', `The ${side === 'notBefore' ? 'start' : 'end'} of the validity window is not a valid date.`, {
        hint: 'Use an ISO 8601 date such as 2027-01-31T00:00:00Z.',
        details: { member: `${prefix}${side}`, problem: 'date' },
      });
    }
  }
  if (notBefore && notAfter && notAfter <= notBefore) {
    throw new InvalidInputError('ERR_MAPPING_WINDOW', 'The end of the validity window must be later than its start.', {
      details: { member: `${prefix}notAfter`, problem: 'order' },
    });
  }
}

/**
 * A jwks_uri an administrator registers (SS-1): an absolute https URL without credentials or fragment.
 * Returns it normalized.
 */
export function checkJwksUri(value: string, member: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError('ERR_JWKS_URI_INVALID', `"${value}" is not an absolute URL.`, {
      hint: 'Give the https URL where the client publishes its JWKS, e.g. https://device-17.example.com/jwks.json.',
      details: { member },
    });
  }
  if (url.protocol !== 'https:') {
    throw new InvalidInputError('ERR_JWKS_URI_INVALID', `The jwks_uri must be https (got ${url.protocol.replace(':', '')}): the keys it serves decide who authenticates.`, {
      details: { member },
    });
  }
  if (url.username || url.password || url.hash || value.length > 2048) {
    throw new InvalidInputError('ERR_JWKS_URI_INVALID', 'The jwks_uri must not carry credentials or a fragment, and has at most 2048 characters.', { details: { member } });
  }
  return url.href;
}
