/**
 * Dynamic client registration (RFC 7591/7592): the codes of `POST /register` and the registration
 * client URI, answered with the RFC 7591 §3.2.2 error in `error` (named in `oauthError`), and those of
 * the administrator's side (initial access tokens, approval) on the CLI and the admin API.
 */
import type { CatalogEntry } from './entry.js';

function endpoint(status: number, oauthError: string, meaning: string, hint: string): CatalogEntry {
  return { status, oauthError, surfaces: ['oauth', 'log'], meaning, hint };
}

function admin(status: number, meaning: string, hint: string): CatalogEntry {
  return { status, surfaces: ['cli', 'admin-api'], meaning, hint };
}

export const REGISTRATION_CODES = {
  ERR_REGISTRATION_TOKEN_INVALID: endpoint(
    401,
    'invalid_token',
    'the initial access token is missing, unknown, revoked, expired or used up',
    'Ask the administrator for a new initial access token (certbound registration-token create).',
  ),
  ERR_REGISTRATION_METADATA: endpoint(
    400,
    'invalid_client_metadata',
    'a metadata member certbound cannot honour; the description names it',
    'Fix the named member (docs/registration.md lists what is honoured).',
  ),
  ERR_REGISTRATION_SCOPE: endpoint(
    400,
    'invalid_client_metadata',
    '`scope` asks for more than the initial access token allows',
    'Ask only for the scopes the token allows, or leave scope out to get all of them.',
  ),
  ERR_REGISTRATION_PROOF: endpoint(
    400,
    'invalid_client_metadata',
    'the certificate of the request does not prove the requested subject (chain, environment, DN or SAN, registered x5c), or there is none; the description names the member',
    'Register over mTLS with the certificate the client will authenticate with, and a subject taken from it.',
  ),
  ERR_REGISTRATION_ACCESS_DENIED: endpoint(
    401,
    'invalid_token',
    "RFC 7592: the registration access token is not valid for the client, or the certificate is neither the registrant's nor one that authenticates the client",
    'Use the registration_access_token of the 201, over mTLS with the certificate the client registered with.',
  ),
  ERR_REGISTRATION_BODY: endpoint(
    400,
    'invalid_client_metadata',
    'the body is not a JSON object, or is larger than 64 KiB',
    'Send the metadata as a JSON object with Content-Type: application/json.',
  ),
  ERR_REGISTRATION_RATE_LIMITED: endpoint(
    429,
    'invalid_request',
    'too many registration requests with one initial access token within a minute; `Retry-After` is set',
    'Retry after the Retry-After delay.',
  ),
  ERR_SOFTWARE_STATEMENT_UNAPPROVED: endpoint(
    400,
    'unapproved_software_statement',
    'a software statement whose `iss` is no issuer an administrator trusts',
    'Ask the administrator to trust the issuer (certbound software-issuer add), or register with an initial access token.',
  ),
  ERR_SOFTWARE_STATEMENT_INVALID: endpoint(
    400,
    'invalid_software_statement',
    "a software statement that is not a JWT, whose signature does not verify with its issuer's keys, or that has expired",
    'Send a current statement signed by the issuer, as the directory issued it.',
  ),
  ERR_REGISTRATION_TOKEN_OPTIONS: admin(
    400,
    'an initial access token option out of range (expiry, uses, approval mode, environment, resource)',
    'e.g. --expires-in 1h --max-uses 1 --approval manual',
  ),
  ERR_REGISTRATION_TOKEN_UNKNOWN: admin(404, 'no initial access token with that id', 'List them with: certbound registration-token list'),
  ERR_SOFTWARE_ISSUER_INVALID: admin(
    400,
    'a software statement issuer without a name, or without exactly one of a JWKS and a jwks_uri',
    'e.g. certbound software-issuer add --name https://directory.example.com --jwks-uri https://directory.example.com/jwks.json',
  ),
  ERR_SOFTWARE_ISSUER_EXISTS: admin(409, 'a software statement issuer with that name exists', 'Remove it first (certbound software-issuer remove NAME) to change its keys.'),
  ERR_SOFTWARE_ISSUER_UNKNOWN: admin(404, 'no software statement issuer with that name', 'List them with: certbound software-issuer list'),
  ERR_REGISTRATION_NOT_PENDING: admin(409, 'approve or reject a client that does not await approval', 'certbound client show ID says whether a client is pending.'),
} as const satisfies Record<string, CatalogEntry>;
