/** The routes of clients: register, show, change (scopes, default resource, bound tokens, keys, grants), remove. */
import { defineRoute, type Route } from '../router.js';
import { ClientListSchema, ClientParams, ClientSchema, CreateClientSchema, clientJson, NoQuery, UpdateClientSchema } from '../schemas.js';
import { actorOf, mappingInput, ok, scopeList, type RouteContext } from './route-context.js';

export function clientRoutes({ service }: RouteContext): Route[] {
  return [
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
      summary: 'Register a client (tls_client_auth with one mapping, self_signed_tls_client_auth, private_key_jwt, or a public client), with its grant types and redirect URIs',
      tag: 'clients',
      access: 'write',
      query: NoQuery,
      body: CreateClientSchema,
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
            scopes: scopeList(b.scope) ?? [],
            defaultResource: b.default_resource,
            ...(b.bound_tokens === undefined ? {} : { boundTokens: b.bound_tokens }),
            ...(b.token_endpoint_auth_method === 'none' ? { publicClient: true } : {}),
            ...(b.grant_types === undefined ? {} : { grantTypes: b.grant_types }),
            ...(b.redirect_uris === undefined ? {} : { redirectUris: b.redirect_uris }),
            ...(b.require_pushed_authorization_requests === undefined ? {} : { requirePar: b.require_pushed_authorization_requests }),
          },
          actorOf(input),
        );
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
      summary: 'Change scopes, default resource, the bound-token setting, the registered keys (jwks, jwks_uri), grant types, redirect URIs or the PAR requirement',
      tag: 'clients',
      access: 'write',
      params: ClientParams,
      query: NoQuery,
      body: UpdateClientSchema,
      response: { status: 200, description: 'The updated client', schema: ClientSchema },
      handler: async (input) => {
        const b = input.body;
        const client = await service.updateClient(
          input.params.client_id,
          {
            ...(b.scope === undefined ? {} : { scopes: scopeList(b.scope) }),
            ...(b.default_resource === undefined ? {} : { defaultResource: b.default_resource }),
            ...(b.bound_tokens === undefined ? {} : { boundTokens: b.bound_tokens }),
            ...(b.jwks === undefined ? {} : { jwks: JSON.stringify(b.jwks) }),
            ...(b.jwks_uri === undefined ? {} : { jwksUri: b.jwks_uri }),
            ...(b.grant_types === undefined ? {} : { grantTypes: b.grant_types }),
            ...(b.redirect_uris === undefined ? {} : { redirectUris: b.redirect_uris }),
            ...(b.require_pushed_authorization_requests === undefined ? {} : { requirePar: b.require_pushed_authorization_requests }),
          },
          actorOf(input),
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
  ];
}
