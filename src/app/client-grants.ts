/**
 * The grants of a client an administrator registers: its grant types, its redirect URIs (authorization
 * code), whether it must push its authorization requests (RFC 9126), and whether it is public
 * (`token_endpoint_auth_method=none`, RFC 8705 §4). The rules that tie them together are checked here
 * once, for a new client and for a change, so that no combination the server cannot serve is stored.
 */
import { CLIENT_GRANT_TYPES, DEFAULT_CLIENT_GRANT_TYPES, type GrantType } from '../config/grant-types.js';
import { InvalidInputError } from '../errors/index.js';

/** The most redirect URIs a client may register, and the longest one. */
export const MAX_REDIRECT_URIS = 20;
const MAX_REDIRECT_URI_LENGTH = 2048;

/** Hosts a native app's loopback redirect (RFC 8252 §7.3) may name over plain http. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface ClientGrants {
  grantTypes: GrantType[];
  redirectUris: string[];
  requirePar: boolean;
}

/** What the checks need to know of the client besides its grants. */
export interface GrantSubject {
  /** A public client (token_endpoint_auth_method none). */
  isPublic: boolean;
  /** Its bound-token setting (RFC 8705 §3.4). */
  boundTokens: boolean;
}

/**
 * The distinct grant types of `given`, each one certbound serves.
 *
 * @example
 * requireGrantTypes(['authorization_code', 'refresh_token']); // ['authorization_code', 'refresh_token']
 */
export function requireGrantTypes(given: readonly string[]): GrantType[] {
  const unique = [...new Set(given)];
  if (unique.length === 0) {
    throw new InvalidInputError('ERR_GRANT_TYPE_INVALID', 'A client needs at least one grant type.', {
      hint: `Give one or more of ${CLIENT_GRANT_TYPES.join(', ')}.`,
      details: { member: 'grantTypes', problem: 'empty' },
    });
  }
  const unknown = unique.filter((g) => !(CLIENT_GRANT_TYPES as readonly string[]).includes(g));
  if (unknown.length) {
    throw new InvalidInputError('ERR_GRANT_TYPE_INVALID', `This server does not serve the grant type(s) ${unknown.map((g) => JSON.stringify(g)).join(', ')}.`, {
      hint: `Use ${CLIENT_GRANT_TYPES.join(', ')}.`,
      details: { member: 'grantTypes', unknown },
    });
  }
  return unique as GrantType[];
}

/**
 * A redirect URI as it is registered and compared (exactly, RFC 9700 §4.1.3): an absolute URL without a
 * fragment or credentials; `https:`, or `http:` on a loopback host for a native app (RFC 8252 §7.3).
 * Custom schemes (RFC 8252 §7.1) are refused: a native app uses its loopback redirect instead, which
 * another app on the device cannot claim.
 */
function checkRedirectUri(value: string, index: number): string {
  const member = 'redirectUris';
  const refuse = (problem: string, message: string, hint?: string) =>
    new InvalidInputError('ERR_REDIRECT_URI_INVALID', message, { ...(hint ? { hint } : {}), details: { member, problem, value, index } });
  if (value.length > MAX_REDIRECT_URI_LENGTH) throw refuse('length', `The redirect URI at position ${index + 1} is longer than ${MAX_REDIRECT_URI_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('relative', `${JSON.stringify(value)} is not an absolute URL.`, 'Give the full URL the browser returns to, e.g. https://app.example.com/callback.');
  }
  if (value.includes('#')) throw refuse('fragment', `${JSON.stringify(value)} has a fragment (#…), which a redirect URI must not have (RFC 6749 §3.1.2).`, 'Remove the fragment.');
  if (url.username || url.password) throw refuse('credentials', `${JSON.stringify(value)} carries credentials (user:password@).`, 'Remove them.');
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return value;
    throw refuse(
      'http',
      `${JSON.stringify(value)} is plain http on a host that is not loopback: the code would cross the network in clear.`,
      'Use https, or http://127.0.0.1:PORT/… for a native app on this device (RFC 8252 §7.3).',
    );
  }
  throw refuse(
    'scheme',
    `${JSON.stringify(value)} uses the scheme ${url.protocol.replace(/:$/, '')}: this server registers https redirect URIs, and http on loopback for native apps.`,
    'Use https, or for a native app its loopback redirect http://127.0.0.1:PORT/callback (RFC 8252 §7.3).',
  );
}

/**
 * The redirect URIs, each checked, as given (compared exactly later, so not normalized); a duplicate
 * is refused rather than merged, since two entries that look alike are usually a typo.
 */
export function requireRedirectUris(given: readonly string[]): string[] {
  if (given.length > MAX_REDIRECT_URIS) {
    throw new InvalidInputError('ERR_REDIRECT_URI_INVALID', `A client may register at most ${MAX_REDIRECT_URIS} redirect URIs (got ${given.length}).`, {
      details: { member: 'redirectUris', problem: 'count' },
    });
  }
  const seen = new Set<string>();
  return given.map((value, index) => {
    const checked = checkRedirectUri(value, index);
    if (seen.has(checked)) {
      throw new InvalidInputError('ERR_REDIRECT_URI_INVALID', `The redirect URI ${JSON.stringify(value)} is given twice.`, {
        hint: 'Give each redirect URI once.',
        details: { member: 'redirectUris', problem: 'duplicate', value, index },
      });
    }
    seen.add(checked);
    return checked;
  });
}

/**
 * Refuses grants the server could not serve together: a code grant without a place to return the code,
 * a refresh token without a code grant to start from, redirect URIs nothing uses, and for a public
 * client the service-to-service grant (it has no credentials) or tokens that are not bound (its
 * certificate is the only thing that holds them, RFC 8705 §4).
 */
export function assertConsistentGrants(grants: ClientGrants, subject: GrantSubject): void {
  const code = grants.grantTypes.includes('authorization_code');
  if (subject.isPublic && grants.grantTypes.includes('client_credentials')) {
    throw new InvalidInputError(
      'ERR_PUBLIC_CLIENT',
      'A public client cannot use client_credentials: it has no credentials of its own, only the certificate it proves possession of.',
      {
        hint: 'Give it authorization_code (and refresh_token), or register a confidential client for client_credentials.',
        details: { member: 'grantTypes', problem: 'client_credentials' },
      },
    );
  }
  if (subject.isPublic && !subject.boundTokens) {
    throw new InvalidInputError('ERR_PUBLIC_CLIENT', "A public client's tokens are always bound to its certificate (RFC 8705 §4): bound tokens cannot be turned off.", {
      details: { member: 'boundTokens', problem: 'unbound' },
    });
  }
  if (grants.grantTypes.includes('refresh_token') && !code) {
    throw new InvalidInputError('ERR_GRANT_TYPES_INCONSISTENT', 'refresh_token needs authorization_code: refresh tokens are issued by the authorization code flow only.', {
      hint: 'Add authorization_code to the grant types, or remove refresh_token.',
      details: { member: 'grantTypes', problem: 'refresh_without_code' },
    });
  }
  if (code && grants.redirectUris.length === 0) {
    throw new InvalidInputError('ERR_GRANT_TYPES_INCONSISTENT', 'authorization_code needs at least one redirect URI, where the browser brings the code back.', {
      hint: 'Give the redirect URI(s) of the client, e.g. https://app.example.com/callback.',
      details: { member: 'redirectUris', problem: 'missing' },
    });
  }
  if (!code && grants.redirectUris.length > 0) {
    throw new InvalidInputError('ERR_GRANT_TYPES_INCONSISTENT', 'Redirect URIs are used by authorization_code only, which this client does not have.', {
      hint: 'Add authorization_code to the grant types, or leave the redirect URIs out.',
      details: { member: 'redirectUris', problem: 'unused' },
    });
  }
}

/**
 * The grants of a new client from what was given (defaults: a confidential client has
 * client_credentials; a public one must name its grant types), checked.
 */
export function newClientGrants(
  input: { grantTypes?: readonly string[] | undefined; redirectUris?: readonly string[] | undefined; requirePar?: boolean | undefined },
  subject: GrantSubject,
): ClientGrants {
  const grants: ClientGrants = {
    grantTypes: input.grantTypes === undefined ? (subject.isPublic ? ['authorization_code'] : [...DEFAULT_CLIENT_GRANT_TYPES]) : requireGrantTypes(input.grantTypes),
    redirectUris: requireRedirectUris(input.redirectUris ?? []),
    requirePar: input.requirePar ?? true,
  };
  assertConsistentGrants(grants, subject);
  return grants;
}
