/**
 * The admin API's shapes for dynamic client registration: initial access tokens (create, list,
 * revoke) and trusted software statement issuers (add, list, remove). Registered in the same component registry as schemas.ts, so the OpenAPI document lists them.
 */
import * as z from 'zod';
import type { SoftwareIssuer } from '../app/service.js';
import { ENVIRONMENT_PATTERN } from '../app/patterns.js';
import { component, scopeString } from './schemas.js';

const timestamp = z.string().describe('ISO 8601');

export const CreateRegistrationTokenSchema = component(
  'CreateRegistrationTokenRequest',
  z.strictObject({
    expires_in: z.number().int().min(1).max(31_622_400).optional().describe('Seconds until it expires; default 3600'),
    max_uses: z.number().int().min(1).optional().describe('How many registrations it may make; default no limit'),
    scope: scopeString.optional().describe('The scopes a registration may ask for (space-separated)'),
    resources: z.array(z.url().max(2000)).max(20).optional().describe('Resources a registered client may use as its default (exactly one becomes the default)'),
    environments: z.array(z.string().regex(ENVIRONMENT_PATTERN)).max(20).optional().describe("Trust-anchor environments the registrant's certificate must chain to; default any"),
    approval: z.enum(['auto', 'manual']).optional().describe('manual: the registered client awaits POST /admin/clients/{client_id}/approve; default auto'),
  }),
  'An initial access token for dynamic client registration (RFC 7591 §3)',
);

export const RegistrationTokenSchema = component(
  'RegistrationToken',
  z.object({
    id: z.string(),
    expires_at: timestamp,
    max_uses: z.number().nullable(),
    uses: z.number(),
    scope: z.string(),
    resources: z.array(z.string()),
    environments: z.array(z.string()),
    approval: z.enum(['auto', 'manual']),
    created_by: z.string(),
    created_at: timestamp,
    revoked_at: timestamp.nullable(),
  }),
  'An initial access token, without the token (only its hash is stored)',
);

export const CreatedRegistrationTokenSchema = component(
  'CreatedRegistrationToken',
  RegistrationTokenSchema.extend({ token: z.string().describe('The token, shown only in this answer') }),
);

export const RegistrationTokenListSchema = component('RegistrationTokenList', z.object({ items: z.array(RegistrationTokenSchema) }));

export const RegistrationTokenParams = z.strictObject({ id: z.string().min(1) });

export { registrationTokenJson } from './serializers.js';

const limits = {
  scope: scopeString.optional().describe('The scopes a registration may ask for (space-separated)'),
  resources: z.array(z.url().max(2000)).max(20).optional().describe('Resources a registered client may use as its default (exactly one becomes the default)'),
  environments: z.array(z.string().regex(ENVIRONMENT_PATTERN)).max(20).optional().describe("Trust-anchor environments the registrant's certificate must chain to; default any"),
  approval: z.enum(['auto', 'manual']).optional().describe('manual: the registered client awaits POST /admin/clients/{client_id}/approve; default auto'),
};

export const CreateSoftwareIssuerSchema = component(
  'CreateSoftwareIssuerRequest',
  z.strictObject({
    name: z.string().min(1).max(255).describe('The iss of its statements'),
    jwks: z
      .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) })
      .optional()
      .describe('Its public signing keys'),
    jwks_uri: z
      .url({ protocol: /^https$/ })
      .max(2048)
      .optional()
      .describe('Where it publishes them (fetched now, and for each statement)'),
    ...limits,
  }),
  'A software statement issuer this server trusts (RFC 7591 §2.3); its limits apply to a registration without an initial access token',
);

export const SoftwareIssuerSchema = component(
  'SoftwareIssuer',
  z.object({
    name: z.string(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).nullable(),
    jwks_uri: z.string().nullable(),
    scope: z.string(),
    resources: z.array(z.string()),
    environments: z.array(z.string()),
    approval: z.enum(['auto', 'manual']),
    created_at: timestamp,
  }),
);

export const SoftwareIssuerListSchema = component('SoftwareIssuerList', z.object({ items: z.array(SoftwareIssuerSchema) }));

export const SoftwareIssuerParams = z.strictObject({ name: z.string().min(1) });

export function softwareIssuerJson(i: SoftwareIssuer): z.output<typeof SoftwareIssuerSchema> {
  return {
    name: i.name,
    jwks: i.jwks,
    jwks_uri: i.jwksUri,
    scope: i.scopes.join(' '),
    resources: i.resources,
    environments: i.environments,
    approval: i.approval,
    created_at: i.createdAt.toISOString(),
  };
}
