/**
 * The admin API's JSON shapes, as zod schemas: request bodies are validated with them and the OpenAPI
 * document is generated from them (`z.toJSONSchema`). Every schema used by a route is registered in
 * `adminSchemas` under a component name. Members are snake_case, like RFC 7591 client metadata and the
 * CLI's `--json` output.
 */
import * as z from 'zod';
import { SIGNING_ALGORITHMS } from '../config/index.js';
import { CLIENT_GRANT_TYPES, type GrantType } from '../config/grant-types.js';
import type { Diagnosis } from '../diagnose/index.js';
import { CLIENT_ID_PATTERN, ENVIRONMENT_PATTERN, NAME_PATTERN, SCOPE_TOKEN_PATTERN } from '../app/patterns.js';
import { MAPPING_KIND_DEFINITIONS, MAPPING_KINDS, type MappingKind } from '../mapping/kinds.js';

/** Component registry: schema → OpenAPI `components.schemas` name. */
export const adminSchemas = z.registry<{ id: string; description?: string }>();

/** Component names of request-side schemas (rendered as their input: defaults optional, coercions loose). */
export const REQUEST_COMPONENTS = new Set<string>();

export function component<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  adminSchemas.add(schema, description ? { id, description } : { id });
  if (id.endsWith('Request') || id.endsWith('Input')) REQUEST_COMPONENTS.add(id);
  return schema;
}

const scopeToken = SCOPE_TOKEN_PATTERN.source.slice(1, -1);
const SCOPE_LIST = new RegExp(`^(?:${scopeToken}(?: ${scopeToken})*)?$`);
const date = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const pem = z.string().min(1).max(65_536).describe('PEM text (-----BEGIN CERTIFICATE----- …)');
/** A client's jwks_uri: an absolute https URL (the service checks the rest and fetches it once). */
const httpsUrl = z.url({ protocol: /^https$/ }).max(2048);
/** A JWKS sent in a request body: 1 to 10 keys (the service validates each key by the client's method). */
const jwksBody = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(10) });

// ---- requests ---------------------------------------------------------------------------------

export const scopeString = z
  .string()
  .max(4096)
  .regex(SCOPE_LIST, 'must be space-separated RFC 6749 scope tokens (visible ASCII, no quotes or backslashes), single spaces')
  .describe('Space-separated scopes, e.g. "orders.read orders.write"');

export const MappingInputSchema = component(
  'MappingInput',
  z.strictObject({
    kind: z
      .enum(MAPPING_KINDS as [MappingKind, ...MappingKind[]])
      .describe(`What in the certificate is compared: ${MAPPING_KINDS.map((k) => `${k} (RFC 8705 ${MAPPING_KIND_DEFINITIONS[k].metadataMember})`).join(', ')}`),
    value: z.string().min(1).max(4096).describe('Subject DN in RFC 4514 order (most specific RDN first), or the SAN value'),
    trust_anchor: z.string().regex(NAME_PATTERN).optional().describe('Pin the mapping to this trust anchor (by name)'),
    not_before: date.optional().describe('The mapping is valid from (ISO 8601)'),
    not_after: date.optional().describe('The mapping is valid until (ISO 8601)'),
    allow_overlap: z.boolean().optional().describe('Accept that a certificate matching this mapping also authenticates as another client (refused by default)'),
  }),
  'A certificate mapping of a tls_client_auth client',
);

export const UpdateMappingSchema = component(
  'UpdateMappingRequest',
  z
    .strictObject({
      not_before: date.nullable().optional().describe('The mapping is valid from (ISO 8601); null drops the start'),
      not_after: date.nullable().optional().describe('The mapping is valid until (ISO 8601), e.g. the old mapping of a rotation; null drops the end'),
      allow_overlap: z.boolean().optional().describe('Accept a window in which another client has a mapping with the same value'),
    })
    .refine((v) => v.not_before !== undefined || v.not_after !== undefined, { message: 'give not_before or not_after' }),
  "A change of a mapping's validity window",
);

/** token_endpoint_auth_method values certbound registers (src/store/clients.ts AuthMethod). */
const AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt'] as const;
/** What a stored client may have: the above, or `none` (a public client of the authorization code flow). */
const STORED_AUTH_METHODS = [...AUTH_METHODS, 'none'] as const;

/** The grants of a client (app/client-grants.ts checks how they combine). */
const grantTypes = z
  .array(z.enum(CLIENT_GRANT_TYPES as [GrantType, ...GrantType[]]))
  .min(1)
  .max(CLIENT_GRANT_TYPES.length)
  .describe(
    'RFC 7591 grant_types: client_credentials, authorization_code, refresh_token (refresh_token needs authorization_code; a public client cannot have client_credentials). Default client_credentials (authorization_code for a public client)',
  );
const redirectUris = z
  .array(z.string().min(1).max(2048))
  .max(20)
  .describe(
    'Where the authorization code flow returns, compared exactly: absolute https URLs (http only on a loopback host, for native apps), no fragment, each once. Required with authorization_code',
  );
const requirePar = z.boolean().describe('RFC 9126 require_pushed_authorization_requests: the client must push its authorization requests (PAR). Default true');

export const CreateClientSchema = component(
  'CreateClientRequest',
  z
    .strictObject({
      client_id: z.string().regex(CLIENT_ID_PATTERN, 'must be letters, digits and . _ ~ : @ - (at most 255), starting with a letter or digit'),
      mapping: MappingInputSchema.optional().describe('tls_client_auth: the first certificate mapping'),
      self_signed_certificate: pem.optional().describe('self_signed_tls_client_auth: the client certificate'),
      self_signed_jwks_uri: httpsUrl
        .optional()
        .describe(
          'self_signed_tls_client_auth: where the client publishes its certificates (JWKS with x5c); fetched at registration to check it, then by the server on use (SS-4)',
        ),
      private_key_jwt_jwks: jwksBody
        .optional()
        .describe('private_key_jwt: the public keys (JWKS) the client signs its client assertions with; its mTLS certificate is then bound to its tokens (RFC 8705 §3)'),
      private_key_jwt_jwks_uri: httpsUrl
        .optional()
        .describe(
          'private_key_jwt: where the client publishes those public keys (JWKS); fetched at registration to check it, then by the server on use (a new kid is fetched on its first assertion)',
        ),
      scope: scopeString.optional(),
      default_resource: z.string().min(1).max(2048).optional().describe('Resource (audience) used when a token request names none'),
      bound_tokens: z.boolean().optional().describe('tls_client_certificate_bound_access_tokens; default true'),
      token_endpoint_auth_method: z
        .literal('none')
        .optional()
        .describe(
          'none: a public client of the authorization code flow (RFC 8705 §4): no mapping and no keys, its certificate proves possession only and its tokens are bound to it. Omitted, the method follows from the mapping or keys given',
        ),
      grant_types: grantTypes.optional(),
      redirect_uris: redirectUris.optional(),
      require_pushed_authorization_requests: requirePar.optional(),
    })
    .superRefine((v, ctx) => {
      // A public client gives none; the service names the member given in its refusal.
      if (v.token_endpoint_auth_method === 'none') return;
      if ([v.mapping, v.self_signed_certificate, v.self_signed_jwks_uri, v.private_key_jwt_jwks, v.private_key_jwt_jwks_uri].filter((x) => x !== undefined).length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['mapping'],
          message:
            'give exactly one of mapping (tls_client_auth), self_signed_certificate or self_signed_jwks_uri (self_signed_tls_client_auth), or private_key_jwt_jwks or private_key_jwt_jwks_uri (private_key_jwt)',
        });
      }
    }),
);

export const UpdateClientSchema = component(
  'UpdateClientRequest',
  z
    .strictObject({
      scope: scopeString.optional(),
      default_resource: z.string().min(1).max(2048).nullable().optional().describe('null clears it'),
      bound_tokens: z.boolean().optional(),
      jwks: jwksBody.optional().describe("Replaces the registered keys: a private_key_jwt client's public keys, or a self-signed client's certificates (x5c)"),
      jwks_uri: httpsUrl
        .optional()
        .describe('The client publishes its keys here from now on (fetched once to check it): a self-signed client its certificates, a private_key_jwt client its public keys'),
      grant_types: grantTypes.optional().describe('Replaces the grant types'),
      redirect_uris: redirectUris.optional().describe('Replaces the redirect URIs'),
      require_pushed_authorization_requests: requirePar.optional(),
    })
    .refine((v) => Object.keys(v).length > 0, {
      message: 'give at least one of scope, default_resource, bound_tokens, jwks, jwks_uri, grant_types, redirect_uris, require_pushed_authorization_requests',
    }),
);

export const CreateTrustAnchorSchema = component(
  'CreateTrustAnchorRequest',
  z.strictObject({
    name: z.string().regex(NAME_PATTERN, 'must be letters, digits, ".", "_" and "-" (at most 100)'),
    pem: pem.describe('The CA certificate (exactly one), PEM'),
    environment: z.string().regex(ENVIRONMENT_PATTERN, 'must be a short label such as prod or staging (letters, digits, ".", "_" and "-", at most 64)').optional(),
    allow_missing_eku: z
      .boolean()
      .optional()
      .describe(
        'Legacy PKIs: accept client certificates under this anchor that have no Extended Key Usage extension at all (never one whose EKU lacks clientAuth). Default false.',
      ),
  }),
);

const tokenFormat = z.enum(['jwt', 'opaque']);
const introspectionClients = z
  .array(z.string().regex(CLIENT_ID_PATTERN, 'must be a client id'))
  .max(100)
  .describe("Registered clients that may introspect this resource's tokens (the resource server's own client), besides each token's own client");
const ttl = z.number().int().min(10).max(86_400).describe('Access token lifetime, seconds');

export const CreateResourceServerSchema = component(
  'CreateResourceServerRequest',
  z.strictObject({
    identifier: z.string().min(1).max(2048).describe('Resource indicator (RFC 8707): an https:// URI without fragment, or a urn:'),
    scope: scopeString.min(1),
    token_format: tokenFormat.optional().describe('Default jwt'),
    ttl: ttl.optional().describe('Default: the server default (CERTBOUND_ACCESS_TOKEN_TTL)'),
    introspection_clients: introspectionClients.optional().describe("Default: none (only a token's own client may introspect it)"),
  }),
);

export const UpdateResourceServerSchema = component(
  'UpdateResourceServerRequest',
  z.strictObject({
    scope: scopeString.min(1),
    token_format: tokenFormat.optional().describe('Default jwt'),
    ttl: ttl.optional().describe('Absent: the server default'),
    introspection_clients: introspectionClients.optional().describe('Absent: unchanged; [] removes them all'),
  }),
  'Replaces the resource server settings (introspection_clients only when given)',
);

export const RotateKeySchema = component('RotateKeyRequest', z.strictObject({ alg: z.enum(SIGNING_ALGORITHMS).optional().describe('Default: CERTBOUND_SIGNING_ALG') }));

export const DiagnoseRequestSchema = component(
  'DiagnoseRequest',
  z.strictObject({
    certificate: pem.describe('The client certificate (PEM); further certificates in it are taken as its chain'),
    chain: pem.optional().describe('The intermediates the client sends (PEM)'),
    client_id: z.string().regex(CLIENT_ID_PATTERN).optional().describe("Compare with this client's mappings, field by field"),
    at: date.optional().describe('Diagnose as of this time (ISO 8601) instead of now'),
  }),
  'Same input as `certbound doctor --cert … [--chain …] [--client-id …] [--at …]`',
);

export const AuditQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, 'must be a whole number from 1 to 1000, in decimal digits')
    .transform(Number)
    .pipe(z.number().max(1000, 'must be a whole number from 1 to 1000, in decimal digits'))
    .optional()
    .describe('1 to 1000; default 100'),
  target: z.string().min(1).max(2100).optional().describe('Exact target, e.g. client:billing, trust:corp-root, resource:URI, key:KID'),
  actor: z.string().min(1).max(400).optional().describe('Exact actor, or a prefix ending in ":" (admin:ops: is every certificate of client ops)'),
  action: z.string().min(1).max(64).optional().describe('Exact action, or a prefix ending in "." (client. is every client change)'),
  since: date.optional().describe('Entries at or after this time (ISO 8601)'),
  until: date.optional().describe('Entries at or before this time (ISO 8601)'),
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be an entry id, in decimal digits')
    .transform(Number)
    .optional()
    .describe('Only entries with a smaller id: the next page after the last id seen'),
});

export const NoQuery = z.strictObject({});
export const ClientParams = z.strictObject({ client_id: z.string().min(1) });
export const MappingParams = z.strictObject({ client_id: z.string().min(1), mapping_id: z.string().min(1) });
export const NameParams = z.strictObject({ name: z.string().min(1) });
export const IdentifierParams = z.strictObject({ identifier: z.string().min(1).describe('URL-encoded resource indicator') });
export const KidParams = z.strictObject({ kid: z.string().min(1) });

// ---- responses --------------------------------------------------------------------------------

const timestamp = z.string().describe('ISO 8601');

export const ErrorSchema = component(
  'Error',
  z.object({
    code: z.string().describe('Stable code, e.g. ERR_VALIDATION, ERR_CLIENT_UNKNOWN, ERR_ADMIN_UNAUTHENTICATED'),
    message: z.string().describe('What is wrong; names the field for validation errors'),
    hint: z.string().optional().describe('What to do next'),
    error: z.string().optional().describe('RFC 6750 error (invalid_token, insufficient_scope) on 401/403'),
    details: z.record(z.string(), z.unknown()).optional().describe('field, issues, …'),
  }),
);

export const MappingSchema = component(
  'Mapping',
  z.object({
    id: z.string(),
    kind: z.string(),
    value: z.string(),
    canonical: z.string(),
    trust_anchor: z.string().nullable(),
    trust_anchor_environment: z.string().nullable(),
    not_before: timestamp.nullable(),
    not_after: timestamp.nullable(),
    created_at: timestamp,
  }),
);

export const ClientSchema = component(
  'Client',
  z.object({
    client_id: z.string(),
    token_endpoint_auth_method: z.enum(STORED_AUTH_METHODS),
    tls_client_certificate_bound_access_tokens: z.boolean(),
    scope: z.string(),
    default_resource: z.string().nullable(),
    mappings: z.array(MappingSchema),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).nullable(),
    jwks_uri: z.string().nullable().describe('where the client publishes its certificates (self_signed_tls_client_auth) or public keys (private_key_jwt)'),
    grant_types: z.array(z.string()).describe('RFC 7591 grant_types'),
    redirect_uris: z.array(z.string()).describe('Where the authorization code flow returns (compared exactly)'),
    require_pushed_authorization_requests: z.boolean().describe('RFC 9126: the client must use pushed authorization requests'),
    registration: z
      .enum(['pending', 'approved'])
      .nullable()
      .describe(
        'A client that registered itself (RFC 7591): pending while it awaits approval (it cannot authenticate; POST /admin/clients/{client_id}/approve or /reject decides), approved once it may authenticate. Null for a client an administrator made. A rejected registration removes its client.',
      ),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const TrustAnchorSchema = component(
  'TrustAnchor',
  z.object({
    name: z.string(),
    subject: z.string().describe('RFC 4514'),
    environment: z.string().nullable(),
    allow_missing_eku: z.boolean().describe('Client certificates without any EKU extension are accepted under this anchor'),
    spki_sha256: z.string(),
    'x5t#S256': z.string(),
    not_after: timestamp,
    created_at: timestamp,
    pem: z.string(),
  }),
);

export const ResourceServerSchema = component(
  'ResourceServer',
  z.object({
    identifier: z.string(),
    scope: z.string(),
    token_format: tokenFormat,
    ttl: z.number().int().nullable(),
    introspection_clients: z.array(z.string()).describe("Clients that may introspect this resource's tokens, besides each token's own client"),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const SigningKeySchema = component(
  'SigningKey',
  z.object({
    kid: z.string(),
    alg: z.string(),
    status: z.enum(['active', 'inactive', 'retired']),
    public_jwk: z.record(z.string(), z.unknown()),
    created_at: timestamp,
    retired_at: timestamp.nullable(),
  }),
);

export const AuditEntrySchema = component(
  'AuditEntry',
  z.object({
    id: z.number().int(),
    at: timestamp,
    actor: z.string().describe('admin:<client_id>:<x5t#S256>, cli:<os user>, system:…'),
    action: z.string(),
    target: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  }),
);

const list = <T extends z.ZodType>(id: string, item: T) => component(id, z.object({ items: z.array(item) }));
export const ClientListSchema = list('ClientList', ClientSchema);
export const MappingListSchema = list('MappingList', MappingSchema);
export const TrustAnchorListSchema = list('TrustAnchorList', TrustAnchorSchema);
export const ResourceServerListSchema = list('ResourceServerList', ResourceServerSchema);
export const SigningKeyListSchema = list('SigningKeyList', SigningKeySchema);
export const AuditListSchema = list('AuditList', AuditEntrySchema);

const finding = z.object({ code: z.string(), severity: z.enum(['error', 'warning']), message: z.string(), hint: z.string() });
const clientMatch = z.object({
  client_id: z.string(),
  auth_method: z.enum(STORED_AUTH_METHODS),
  mapping_id: z.string().nullable(),
  kind: z.string().nullable(),
  value: z.string().nullable(),
  code: z.string().nullable().describe('Null when this client would authenticate'),
});
const fieldResult = z.object({
  status: z.enum(['match', 'mismatch', 'not_applicable', 'not_checked']),
  code: z.string().nullable(),
  message: z.string().nullable(),
  hint: z.string().nullable(),
});
const anchorRef = z.object({ name: z.string(), environment: z.string().nullable() });
const mappingDiagnosis = z.object({
  id: z.string(),
  kind: z.string(),
  value: z.string(),
  trust_anchor: anchorRef.nullable(),
  not_before: timestamp.nullable(),
  not_after: timestamp.nullable(),
  matches: z.boolean(),
  code: z.string().nullable().describe('SUBJECT_DN_ORDER_REVERSED, CN_MATCHES_BUT_SAN_EXPECTED, SAN_MISMATCH, WRONG_TRUST_ANCHOR, MAPPING_EXPIRED, …'),
  message: z.string().nullable(),
  hint: z.string().nullable(),
  fields: z.object({
    identity: fieldResult.extend({
      registered: z.string(),
      certificate: z.array(z.string()),
      closest: z.object({ registered: z.string(), certificate: z.string(), distance: z.number() }).nullable(),
    }),
    trust_anchor: fieldResult.extend({
      pinned: anchorRef.nullable(),
      chain_anchor: anchorRef.nullable(),
      blocked_by: z.string().nullable().describe('With status not_checked: the chain finding (INTERMEDIATE_MISSING, …) that left the pin unchecked; that finding is the reason'),
    }),
    validity: fieldResult.extend({ not_before: timestamp.nullable(), not_after: timestamp.nullable() }),
  }),
});
const clientDiagnosis = z.object({
  client_id: z.string(),
  found: z.boolean(),
  auth_method: z.enum(STORED_AUTH_METHODS).nullable(),
  would_authenticate: z.boolean(),
  code: z.string().nullable(),
  message: z.string(),
  hint: z.string().nullable(),
  mappings: z.array(mappingDiagnosis),
  registered_certificates: z.array(z.string()).nullable(),
});
const names = z.object({ rfc4514: z.string(), oneline: z.string().describe("OpenSSL's one-line form") });

export const DiagnosisSchema = component(
  'Diagnosis',
  z.object({
    diagnosis_version: z.literal(1),
    now: timestamp,
    would_authenticate: z.boolean().describe('With client_id: as that client; otherwise as at least one registered client'),
    code: z.string().nullable().describe('Primary reason code when it would not (SAN_MISMATCH, INTERMEDIATE_MISSING, …)'),
    message: z.string(),
    hint: z.string().nullable(),
    certificate: z.object({
      subject: names,
      issuer: names,
      san: z.object({ dns: z.array(z.string()), uri: z.array(z.string()), ip: z.array(z.string()), email: z.array(z.string()) }),
      serial_number: z.string(),
      not_before: timestamp,
      not_after: timestamp,
      validity: z.object({ status: z.enum(['valid', 'expired', 'not_yet_valid']), days_remaining: z.number(), message: z.string() }),
      'x5t#S256': z.string(),
      sha256_hex: z.string(),
      extended_key_usage: z.array(z.string()).nullable(),
      client_auth_allowed: z.boolean(),
      self_signed: z.boolean(),
      subject_key_id: z.string().nullable(),
      authority_key_id: z.string().nullable(),
    }),
    chain: z.object({
      status: z.enum(['complete', 'INTERMEDIATE_MISSING', 'UNTRUSTED_ROOT', 'CHAIN_INVALID']),
      message: z.string(),
      anchor: z.object({ name: z.string(), environment: z.string().nullable(), subject: z.string(), spki_sha256: z.string() }).nullable(),
      missing_issuer: z.object({ subject: z.string(), key_id: z.string().nullable() }).nullable(),
      path: z.array(z.object({ subject: z.string(), issuer: z.string(), 'x5t#S256': z.string(), not_after: timestamp, source: z.string(), anchor: z.string().nullable() })),
      unused: z.array(z.string()),
      sent_certificates: z.number().int(),
    }),
    revocation: z.object({
      mode: z.string(),
      status: z.enum(['not_checked', 'good', 'revoked', 'unavailable', 'stale']),
      certificates: z.array(
        z.object({
          subject: z.string(),
          status: z.enum(['good', 'revoked', 'no_crl', 'stale', 'not_checked']),
          crl_issuer: z.string().nullable(),
          next_update: timestamp.nullable(),
          revoked_at: timestamp.nullable(),
          reason: z.string().nullable(),
        }),
      ),
    }),
    findings: z.array(finding).describe('Certificate-level problems, most important first'),
    authenticates_as: z.array(clientMatch).describe('Every registered client this certificate would authenticate as, now'),
    mapped_by: z.array(clientMatch).describe("Mappings holding one of this certificate's values, whether or not they authenticate it now"),
    client: clientDiagnosis.nullable().describe('With client_id: that client and each of its mappings compared field by field'),
    near_misses: z
      .array(
        z.object({
          client_id: z.string(),
          similarity: z.enum(['same_value', 'reversed_dn', 'cn_as_san', 'similar_value']),
          distance: z.number().int().nullable().describe('Edits between the registered value and the closest certificate value (similar_value)'),
          differs: z.array(z.enum(['validity', 'identity', 'trust_anchor'])),
          mapping: mappingDiagnosis,
        }),
      )
      .describe(
        'Without client_id, when no client authenticates with the certificate (NO_MATCHING_CLIENT): the nearest registered clients, nearest first, at most 3: the same value under another trust anchor or outside its window, the subject DN in reverse order, the CN registered as a SAN, or a value a few edits away; each with its nearest mapping compared field by field',
      ),
  }),
  'The same JSON as `certbound doctor --json` (diagnosis_version 1)',
);

/** Compile-time guard: every answer of the engine fits the schema the OpenAPI document publishes. */
export const diagnosisFitsSchema = (d: Diagnosis): z.output<typeof DiagnosisSchema> => d;

export const OpenApiDocumentSchema = component(
  'OpenApiDocument',
  z.object({ openapi: z.string(), info: z.record(z.string(), z.unknown()), paths: z.record(z.string(), z.unknown()) }).passthrough(),
);

export { auditJson, clientJson, mappingJson, resourceServerJson, signingKeyJson, trustAnchorJson } from './serializers.js';
