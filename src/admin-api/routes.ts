/**
 * The admin API route table. Each row calls one use case of the admin service; every write runs in the
 * service's transaction together with its audit row, whose actor is `admin:<client_id>:<x5t#S256>`.
 */
import type { z } from 'zod';
import type { Diagnosis } from '../diagnose/index.js';
import { CertboundError, ConflictError } from '../errors/index.js';
import { parsePemCertificates } from '../pki/index.js';
import type { AdminService, MappingInput } from '../app/service.js';
import { ADMIN_SCOPES } from './auth.js';
import { withField } from './errors.js';
import { defineRoute, type Route, type RouteInput } from './router.js';
import {
  AuditListSchema,
  AuditQuerySchema,
  auditJson,
  ClientListSchema,
  ClientParams,
  ClientSchema,
  CreateClientSchema,
  CreateResourceServerSchema,
  CreateTrustAnchorSchema,
  clientJson,
  DiagnoseRequestSchema,
  DiagnosisSchema,
  IdentifierParams,
  KidParams,
  MappingInputSchema,
  MappingListSchema,
  MappingParams,
  MappingSchema,
  mappingJson,
  NameParams,
  NoQuery,
  ResourceServerListSchema,
  ResourceServerSchema,
  RotateKeySchema,
  resourceServerJson,
  SigningKeyListSchema,
  SigningKeySchema,
  signingKeyJson,
  TrustAnchorListSchema,
  TrustAnchorSchema,
  trustAnchorJson,
  UpdateClientSchema,
  UpdateMappingSchema,
  UpdateResourceServerSchema,
} from './schemas.js';

export interface AdminRoutesOptions {
  service: AdminService;
  /** The admin API's own resource identifier: it cannot be removed or lose its scopes through the API. */
  adminResource: string;
  /** Called after a change a running server caches (trust anchors, signing keys), so it applies now. */
  onChange?: (what: 'trust_anchors' | 'signing_keys') => Promise<void>;
  /** The diagnosis engine over the server's trust anchors, CRLs and clients (`certbound doctor`'s). */
  diagnose?: (input: DiagnoseCall) => Promise<Diagnosis>;
}

export interface DiagnoseCall {
  leaf: Buffer;
  chain: Buffer[];
  clientId: string | undefined;
  now: Date;
}

/** The service's errors (worded for the CLI) → the body member they are about. */
const MAPPING_FIELDS = (prefix: string) => ({
  ERR_MAPPING_KIND: `${prefix}kind`,
  ERR_MAPPING_VALUE: `${prefix}value`,
  ERR_DN_SYNTAX: `${prefix}value`,
  ERR_MAPPING_WINDOW: `${prefix}not_after`,
  ERR_TRUST_ANCHOR_UNKNOWN: `${prefix}trust_anchor`,
  ERR_MAPPING_OVERLAP: `${prefix}value`,
});

/** PEM certificates of a body member; a parse error names the member. */
function certificatesOf(pem: string, field: string): Buffer[] {
  try {
    return parsePemCertificates(pem);
  } catch (err) {
    if (!(err instanceof CertboundError)) throw err;
    throw new CertboundError(err.code, `${field}: ${err.message}`, { status: 400, expose: true, hint: err.hint, details: { field }, cause: err });
  }
}

function scopes(scope: string | undefined): string[] | undefined {
  return scope === undefined ? undefined : scope.split(' ').filter(Boolean);
}

function mappingInput(m: z.output<typeof MappingInputSchema>): MappingInput {
  return {
    kind: m.kind as MappingInput['kind'],
    value: m.value,
    trustAnchor: m.trust_anchor,
    notBefore: m.not_before === undefined ? undefined : new Date(m.not_before),
    notAfter: m.not_after === undefined ? undefined : new Date(m.not_after),
    allowOverlap: m.allow_overlap,
  };
}

/** The actor of a write route (its access is `write`, so the principal is always there). */
function actorOf(input: RouteInput<unknown, unknown, unknown>): string {
  return input.principal!.actor;
}

export function buildAdminRoutes({ service, adminResource, onChange, diagnose }: AdminRoutesOptions): Route[] {
  const changed = async (what: 'trust_anchors' | 'signing_keys') => {
    await onChange?.(what);
  };
  const ok = (body: unknown) => ({ status: 200, body });

  return [
    // ---- clients -------------------------------------------------------------------------------
    defineRoute({
      method: 'GET',
      path: '/admin/clients',
      operationId: 'listClients',
      summary: 'List clients with their certificate mappings',
      tag: 'clients',
      access: 'read',
      query: NoQuery,
      response: { status: 200, description: 'The clients', schema: ClientListSchema },
      handler: async () => ok({ items: (await service.listClients()).map(clientJson) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/clients',
      operationId: 'createClient',
      summary: 'Register a client (tls_client_auth with one mapping, self_signed_tls_client_auth, or private_key_jwt)',
      tag: 'clients',
      access: 'write',
      query: NoQuery,
      body: CreateClientSchema,
      fields: {
        ...MAPPING_FIELDS('mapping.'),
        ERR_CLIENT_EXISTS: 'client_id',
        ERR_CERT_PARSE: 'self_signed_certificate',
        ERR_JWKS_INVALID: 'private_key_jwt_jwks',
        ERR_JWKS_URI_INVALID: 'self_signed_jwks_uri',
        ERR_JWKS_URI_UNAVAILABLE: 'self_signed_jwks_uri',
        ERR_SCOPE_INVALID: 'scope',
        ERR_SCOPE_UNKNOWN: 'scope',
        ERR_RESOURCE_UNKNOWN: 'default_resource',
      },
      response: { status: 201, description: 'The new client', schema: ClientSchema },
      handler: async (input) => {
        const b = input.body;
        const client = await service.addClient(
          {
            clientId: b.client_id,
            ...(b.mapping ? { mapping: mappingInput(b.mapping) } : {}),
            ...(b.self_signed_certificate ? { selfSignedCertPem: b.self_signed_certificate } : {}),
            ...(b.private_key_jwt_jwks ? { privateKeyJwtJwks: JSON.stringify(b.private_key_jwt_jwks) } : {}),
            ...(b.self_signed_jwks_uri ? { selfSignedJwksUri: b.self_signed_jwks_uri } : {}),
            ...(b.private_key_jwt_jwks_uri ? { privateKeyJwtJwksUri: b.private_key_jwt_jwks_uri } : {}),
            scopes: scopes(b.scope) ?? [],
            defaultResource: b.default_resource,
            ...(b.bound_tokens === undefined ? {} : { boundTokens: b.bound_tokens }),
          },
          actorOf(input),
        ).catch((err: unknown) => {
          // The route's field names say self_signed_jwks_uri; here the URI came as private_key_jwt_jwks_uri.
          throw b.private_key_jwt_jwks_uri ? withField(err, { ERR_JWKS_URI_INVALID: 'private_key_jwt_jwks_uri', ERR_JWKS_URI_UNAVAILABLE: 'private_key_jwt_jwks_uri' }) : err;
        });
        return { status: 201, body: clientJson(client) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/clients/{client_id}',
      operationId: 'getClient',
      summary: 'Show a client',
      tag: 'clients',
      access: 'read',
      params: ClientParams,
      query: NoQuery,
      response: { status: 200, description: 'The client', schema: ClientSchema },
      handler: async ({ params }) => ok(clientJson(await service.showClient(params.client_id))),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/admin/clients/{client_id}',
      operationId: 'updateClient',
      summary: 'Change scopes, default resource, the bound-token setting, or the registered keys (jwks, jwks_uri)',
      tag: 'clients',
      access: 'write',
      params: ClientParams,
      query: NoQuery,
      body: UpdateClientSchema,
      fields: {
        ERR_SCOPE_INVALID: 'scope',
        ERR_SCOPE_UNKNOWN: 'scope',
        ERR_RESOURCE_UNKNOWN: 'default_resource',
        ERR_JWKS_INVALID: 'jwks',
        ERR_CLIENT_KEYS: 'jwks',
        ERR_JWKS_URI_INVALID: 'jwks_uri',
        ERR_JWKS_URI_UNAVAILABLE: 'jwks_uri',
        ERR_ADMIN_LAST: 'scope',
      },
      response: { status: 200, description: 'The updated client', schema: ClientSchema },
      handler: async (input) => {
        const b = input.body;
        const client = await service.updateClient(
          input.params.client_id,
          {
            ...(b.scope === undefined ? {} : { scopes: scopes(b.scope) }),
            ...(b.default_resource === undefined ? {} : { defaultResource: b.default_resource }),
            ...(b.bound_tokens === undefined ? {} : { boundTokens: b.bound_tokens }),
            ...(b.jwks === undefined ? {} : { jwks: JSON.stringify(b.jwks) }),
            ...(b.jwks_uri === undefined ? {} : { jwksUri: b.jwks_uri }),
          },
          actorOf(input),
          { scopes: 'scope', jwks: 'jwks', jwksUri: 'jwks_uri' },
          { keepAnAdministrator: true },
        );
        return ok(clientJson(client));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/clients/{client_id}',
      operationId: 'deleteClient',
      summary: 'Remove a client, its mappings and its stored tokens',
      tag: 'clients',
      access: 'write',
      params: ClientParams,
      query: NoQuery,
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        await service.removeClient(input.params.client_id, actorOf(input), { keepAnAdministrator: true });
        return { status: 204 };
      },
    }),

    // ---- certificate mappings ------------------------------------------------------------------
    defineRoute({
      method: 'GET',
      path: '/admin/clients/{client_id}/mappings',
      operationId: 'listMappings',
      summary: "List a client's certificate mappings",
      tag: 'mappings',
      access: 'read',
      params: ClientParams,
      query: NoQuery,
      response: { status: 200, description: 'The mappings', schema: MappingListSchema },
      handler: async ({ params }) => ok({ items: (await service.showClient(params.client_id)).mappings.map(mappingJson) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/clients/{client_id}/mappings',
      operationId: 'addMapping',
      summary: 'Add a certificate mapping (stage a new certificate before the old one ends)',
      tag: 'mappings',
      access: 'write',
      params: ClientParams,
      query: NoQuery,
      body: MappingInputSchema,
      fields: MAPPING_FIELDS(''),
      response: { status: 201, description: 'The new mapping', schema: MappingSchema },
      handler: async (input) => {
        const mapping = await service.addMapping(input.params.client_id, mappingInput(input.body), actorOf(input));
        return { status: 201, body: mappingJson(mapping) };
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/admin/clients/{client_id}/mappings/{mapping_id}',
      operationId: 'updateMapping',
      summary: "Change a mapping's validity window (end the old mapping of a rotation)",
      tag: 'mappings',
      access: 'write',
      params: MappingParams,
      query: NoQuery,
      body: UpdateMappingSchema,
      fields: { ERR_MAPPING_WINDOW: 'not_after', ERR_MAPPING_OVERLAP: 'not_after', ERR_MAPPING_LAST: 'not_after' },
      response: { status: 200, description: 'The updated mapping', schema: MappingSchema },
      handler: async (input) => {
        const side = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));
        const b = input.body;
        const mapping = await service.updateMapping(input.params.client_id, input.params.mapping_id, { notBefore: side(b.not_before), notAfter: side(b.not_after), allowOverlap: b.allow_overlap }, actorOf(input));
        return ok(mappingJson(mapping));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/clients/{client_id}/mappings/{mapping_id}',
      operationId: 'removeMapping',
      summary: 'Remove a certificate mapping (not the last one)',
      tag: 'mappings',
      access: 'write',
      params: MappingParams,
      query: NoQuery,
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        await service.removeMapping(input.params.client_id, input.params.mapping_id, actorOf(input));
        return { status: 204 };
      },
    }),

    // ---- trust anchors -------------------------------------------------------------------------
    defineRoute({
      method: 'GET',
      path: '/admin/trust-anchors',
      operationId: 'listTrustAnchors',
      summary: 'List trust anchors',
      tag: 'trust-anchors',
      access: 'read',
      query: NoQuery,
      response: { status: 200, description: 'The trust anchors', schema: TrustAnchorListSchema },
      handler: async () => ok({ items: (await service.listTrustAnchors()).map(trustAnchorJson) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/trust-anchors',
      operationId: 'createTrustAnchor',
      summary: 'Trust a CA for client certificates (takes effect on running listeners at once)',
      tag: 'trust-anchors',
      access: 'write',
      query: NoQuery,
      body: CreateTrustAnchorSchema,
      fields: { ERR_CERT_PARSE: 'pem', ERR_TRUST_ANCHOR_NOT_CA: 'pem', ERR_TRUST_ANCHOR_EXPIRED: 'pem', ERR_TRUST_ANCHOR_EXISTS: 'name', ERR_TRUST_ANCHOR_KEY_EXISTS: 'pem' },
      response: { status: 201, description: 'The new trust anchor', schema: TrustAnchorSchema },
      handler: async (input) => {
        const b = input.body;
        const anchor = await service.addTrustAnchor({ name: b.name, pem: b.pem, environment: b.environment, allowMissingEku: b.allow_missing_eku }, actorOf(input));
        await changed('trust_anchors');
        return { status: 201, body: trustAnchorJson(anchor) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/trust-anchors/{name}',
      operationId: 'getTrustAnchor',
      summary: 'Show a trust anchor',
      tag: 'trust-anchors',
      access: 'read',
      params: NameParams,
      query: NoQuery,
      response: { status: 200, description: 'The trust anchor', schema: TrustAnchorSchema },
      handler: async ({ params }) => ok(trustAnchorJson(await service.showTrustAnchor(params.name))),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/trust-anchors/{name}',
      operationId: 'deleteTrustAnchor',
      summary: 'Stop trusting a CA (refused while mappings are pinned to it)',
      tag: 'trust-anchors',
      access: 'write',
      params: NameParams,
      query: NoQuery,
      fields: { ERR_ADMIN_LOCKOUT: 'name' },
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        // The administrator's own certificate chains to it: once removed, that certificate no longer
        // authenticates, so the caller's token stops working at once (a lock-out if it is the only one).
        const own = input.principal?.trustAnchor;
        if (own !== undefined && own === input.params.name) {
          throw new ConflictError(
            'ERR_ADMIN_LOCKOUT',
            `The certificate of this request (client ${input.principal!.clientId}) is issued under trust anchor "${own}": removing it would stop that certificate from authenticating, and your admin token with it.`,
            { hint: 'Remove it as an administrator whose certificate is issued under another trust anchor, or with the CLI (certbound trust remove), which is not guarded.' },
          );
        }
        await service.removeTrustAnchor(input.params.name, actorOf(input));
        await changed('trust_anchors');
        return { status: 204 };
      },
    }),

    // ---- resource servers ----------------------------------------------------------------------
    defineRoute({
      method: 'GET',
      path: '/admin/resource-servers',
      operationId: 'listResourceServers',
      summary: 'List resource servers (token audiences)',
      tag: 'resource-servers',
      access: 'read',
      query: NoQuery,
      response: { status: 200, description: 'The resource servers', schema: ResourceServerListSchema },
      handler: async () => ok({ items: (await service.listResourceServers()).map(resourceServerJson) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/resource-servers',
      operationId: 'createResourceServer',
      summary: 'Register a resource server',
      tag: 'resource-servers',
      access: 'write',
      query: NoQuery,
      body: CreateResourceServerSchema,
      fields: { ERR_RESOURCE_ID_INVALID: 'identifier', ERR_RESOURCE_EXISTS: 'identifier', ERR_SCOPE_INVALID: 'scope', ERR_TTL_INVALID: 'ttl', ERR_CLIENT_ID_INVALID: 'introspection_clients', ERR_CLIENT_UNKNOWN: 'introspection_clients' },
      response: { status: 201, description: 'The new resource server', schema: ResourceServerSchema },
      handler: async (input) => {
        const b = input.body;
        const rs = await service.addResourceServer({ identifier: b.identifier, scopes: scopes(b.scope)!, tokenFormat: b.token_format, ttl: b.ttl, introspectionClients: b.introspection_clients }, actorOf(input), { expect: 'new' });
        return { status: 201, body: resourceServerJson(rs) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/resource-servers/{identifier}',
      operationId: 'getResourceServer',
      summary: 'Show a resource server (identifier URL-encoded)',
      tag: 'resource-servers',
      access: 'read',
      params: IdentifierParams,
      query: NoQuery,
      response: { status: 200, description: 'The resource server', schema: ResourceServerSchema },
      handler: async ({ params }) => ok(resourceServerJson(await service.showResourceServer(params.identifier))),
    }),
    defineRoute({
      method: 'PUT',
      path: '/admin/resource-servers/{identifier}',
      operationId: 'updateResourceServer',
      summary: "Replace a resource server's scopes, token format and lifetime, and (when given) the clients that may introspect its tokens",
      tag: 'resource-servers',
      access: 'write',
      params: IdentifierParams,
      query: NoQuery,
      body: UpdateResourceServerSchema,
      fields: { ERR_SCOPE_INVALID: 'scope', ERR_TTL_INVALID: 'ttl', ERR_ADMIN_RESOURCE_PROTECTED: 'scope', ERR_CLIENT_ID_INVALID: 'introspection_clients', ERR_CLIENT_UNKNOWN: 'introspection_clients' },
      response: { status: 200, description: 'The updated resource server', schema: ResourceServerSchema },
      handler: async (input) => {
        const b = input.body;
        const next = scopes(b.scope)!;
        if (input.params.identifier === adminResource && (!ADMIN_SCOPES.every((s) => next.includes(s)) || (b.token_format ?? 'jwt') !== 'jwt')) {
          throw new ConflictError('ERR_ADMIN_RESOURCE_PROTECTED', `The admin API resource must keep the scopes ${ADMIN_SCOPES.join(' ')} and JWT tokens.`, {
            hint: 'Change other settings only (e.g. ttl), or restrict administrators through their client scopes.',
          });
        }
        const rs = await service.addResourceServer({ identifier: input.params.identifier, scopes: next, tokenFormat: b.token_format, ttl: b.ttl, introspectionClients: b.introspection_clients }, actorOf(input), { expect: 'existing' });
        return ok(resourceServerJson(rs));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/resource-servers/{identifier}',
      operationId: 'deleteResourceServer',
      summary: 'Remove a resource server (refused while it is a default resource)',
      tag: 'resource-servers',
      access: 'write',
      params: IdentifierParams,
      query: NoQuery,
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        if (input.params.identifier === adminResource) {
          throw new ConflictError('ERR_ADMIN_RESOURCE_PROTECTED', 'The admin API resource cannot be removed through the admin API.', { hint: 'It is registered again whenever the server starts.' });
        }
        await service.removeResourceServer(input.params.identifier, actorOf(input));
        return { status: 204 };
      },
    }),

    // ---- signing keys --------------------------------------------------------------------------
    defineRoute({
      method: 'GET',
      path: '/admin/keys',
      operationId: 'listKeys',
      summary: 'List signing keys (public parts only)',
      tag: 'keys',
      access: 'read',
      query: NoQuery,
      response: { status: 200, description: 'The keys, newest first', schema: SigningKeyListSchema },
      handler: async () => ok({ items: (await service.listKeys()).map(signingKeyJson) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/keys/rotate',
      operationId: 'rotateKeys',
      summary: 'Add a new active signing key; the previous one stays published until retired',
      tag: 'keys',
      access: 'write',
      query: NoQuery,
      body: RotateKeySchema,
      bodyOptional: true,
      response: { status: 201, description: 'The new active key', schema: SigningKeySchema },
      handler: async (input) => {
        const key = await service.rotateKeys(actorOf(input), input.body.alg);
        await changed('signing_keys');
        return { status: 201, body: signingKeyJson(key) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/keys/{kid}/retire',
      operationId: 'retireKey',
      summary: 'Stop publishing an inactive key (tokens it signed stop verifying)',
      tag: 'keys',
      access: 'write',
      params: KidParams,
      query: NoQuery,
      response: { status: 204, description: 'Retired' },
      handler: async (input) => {
        await service.retireKey(input.params.kid, actorOf(input));
        await changed('signing_keys');
        return { status: 204 };
      },
    }),

    // ---- audit ---------------------------------------------------------------------------------
    defineRoute({
      method: 'GET',
      path: '/admin/audit',
      operationId: 'listAudit',
      summary: 'The audit log, newest first',
      tag: 'audit',
      access: 'read',
      query: AuditQuerySchema,
      response: { status: 200, description: 'Audit entries', schema: AuditListSchema },
      handler: async ({ query }) => {
        const at = (v: string | undefined) => (v === undefined ? undefined : new Date(v));
        const filter = { limit: query.limit, target: query.target, actor: query.actor, action: query.action, since: at(query.since), until: at(query.until), beforeId: query.before };
        return ok({ items: (await service.listAudit(filter)).map(auditJson) });
      },
    }),

    // ---- diagnosis -----------------------------------------------------------------------------
    ...(diagnose
      ? [
          defineRoute({
            method: 'POST',
            path: '/admin/diagnose',
            operationId: 'diagnose',
            summary: 'Explain whether a client certificate would authenticate, and if not why (same engine and JSON as certbound doctor --json)',
            tag: 'diagnose',
            access: 'read',
            query: NoQuery,
            body: DiagnoseRequestSchema,
            fields: { ERR_CERT_PARSE: 'certificate', ERR_CERT_TOO_LARGE: 'certificate' },
            response: { status: 200, description: 'The diagnosis (also when the certificate would not authenticate: see would_authenticate and code)', schema: DiagnosisSchema },
            handler: async ({ body }) => {
              const [leaf, ...rest] = certificatesOf(body.certificate, 'certificate');
              const chain = [...rest, ...(body.chain === undefined ? [] : certificatesOf(body.chain, 'chain'))];
              return ok(await diagnose({ leaf: leaf!, chain, clientId: body.client_id, now: body.at === undefined ? new Date() : new Date(body.at) }));
            },
          }),
        ]
      : []),
  ];
}
