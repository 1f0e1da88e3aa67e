/**
 * The admin API's shapes for the authorization code flow besides its clients: the upstream OpenID
 * Provider end users sign in at, their consents, and their refresh tokens. Registered in the same
 * component registry as schemas.ts, so the OpenAPI document lists them.
 */
import { z } from 'zod';
import { component, scopeString } from './schemas.js';

const timestamp = z.string().describe('ISO 8601');

export const SetUpstreamSchema = component(
  'SetUpstreamRequest',
  z.strictObject({
    issuer: z
      .string()
      .min(1)
      .max(2048)
      .describe('The issuer identifier of the provider: an absolute https URL (http only on a loopback host), e.g. https://login.example.com/realms/staff'),
    client_id: z.string().min(1).max(255).describe("certbound's client id at the provider"),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'private_key_jwt']).describe("How certbound authenticates at the provider's token endpoint"),
    client_secret: z.string().min(1).max(4096).optional().describe('client_secret_basic: the client secret (stored, never shown again)'),
    private_key: z
      .union([z.string().min(1).max(16_384), z.record(z.string(), z.unknown())])
      .optional()
      .describe(
        'private_key_jwt: the private key certbound signs its client assertions with, as a JWK object or PEM text (stored, never shown again; its public JWK thumbprint is)',
      ),
    scope: scopeString.optional().describe('The scopes asked for at the provider; must include openid. Default "openid"'),
    subject_claim: z.string().min(1).max(255).optional().describe('The ID token claim whose value becomes the sub certbound issues. Default sub'),
    check: z
      .boolean()
      .optional()
      .describe("Fetch the issuer's discovery document first and refuse if it cannot be fetched, names another issuer, or lacks the auth method. Default false"),
  }),
  'Configures (or replaces) the upstream OpenID Provider; every member is replaced, the secret or key included',
);

export const UpstreamSchema = component(
  'Upstream',
  z.object({
    issuer: z.string(),
    client_id: z.string(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'private_key_jwt']),
    client_secret_set: z.boolean().describe('Whether a client secret is stored (never shown)'),
    private_key: z
      .object({
        jwk_thumbprint: z.string().describe('RFC 7638 SHA-256 thumbprint of the public key'),
        kid: z.string().describe("The kid of certbound's client assertions: the given JWK's own, else the thumbprint"),
        kty: z.string(),
        alg: z.string(),
      })
      .nullable()
      .describe('private_key_jwt: the stored key, by its public thumbprint (the key is never shown)'),
    scope: z.string(),
    subject_claim: z.string(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'The upstream OpenID Provider end users sign in at',
);

const userFilter = {
  client_id: z.string().min(1).max(255).optional().describe('Only this client'),
  user: z.string().min(1).max(1024).optional().describe('Only this user (the sub certbound issues)'),
};

export const ConsentQuerySchema = z.strictObject(userFilter);
export const ConsentParams = z.strictObject({ client_id: z.string().min(1), user: z.string().min(1).describe('URL-encoded sub') });

export const ConsentSchema = component(
  'Consent',
  z.object({
    client_id: z.string(),
    user: z.string().describe('The sub certbound issues'),
    scope: z.string().describe('The scopes the user allowed'),
    resources: z.array(z.string()).describe('The resources the user allowed'),
    granted_at: timestamp,
    updated_at: timestamp,
  }),
);
export const ConsentListSchema = component('ConsentList', z.object({ items: z.array(ConsentSchema) }));

export const RevokedConsentSchema = component(
  'RevokedConsent',
  z.object({
    revoked: ConsentSchema,
    revoked_tokens: z.number().int().describe("How many of the user's tokens at the client were revoked with it (access and refresh tokens, codes)"),
  }),
);

export const RefreshTokenQuerySchema = z.strictObject(userFilter);
export const RefreshTokenParams = z.strictObject({ handle: z.string().min(1).describe('The handle GET /admin/refresh-tokens shows') });

export const RefreshTokenSchema = component(
  'RefreshToken',
  z.object({
    handle: z.string().describe('Names the token without revealing it: the first 16 characters of the base64url SHA-256 of its id'),
    client_id: z.string(),
    user: z.string().nullable(),
    'x5t#S256': z.string().nullable().describe('The certificate the token is bound to (RFC 8705 §4)'),
    scope: z.string(),
    issued_at: timestamp.nullable(),
    expires_at: timestamp.nullable(),
    consumed: z.boolean().describe('Already used (rotated): it refreshes no more, its grant lives on'),
  }),
  'A live refresh token (never the token itself)',
);
export const RefreshTokenListSchema = component('RefreshTokenList', z.object({ items: z.array(RefreshTokenSchema) }));

export const RevokedRefreshTokenSchema = component(
  'RevokedRefreshToken',
  z.object({ revoked: RefreshTokenSchema, revoked_tokens: z.number().int().describe('How many tokens of its grant were revoked with it (access and refresh tokens)') }),
);
