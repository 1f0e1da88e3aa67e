/** The routes of resource servers (token audiences); the admin API's own resource is guarded. */
import { ConflictError } from '../../errors/index.js';
import { ADMIN_SCOPES } from '../scopes.js';
import { defineRoute, type Route } from '../router.js';
import {
  CreateResourceServerSchema,
  IdentifierParams,
  NoQuery,
  ResourceServerListSchema,
  ResourceServerSchema,
  resourceServerJson,
  UpdateResourceServerSchema,
} from '../schemas.js';
import { actorOf, ok, scopeList, type RouteContext } from './route-context.js';

export function resourceServerRoutes({ service, adminResource }: RouteContext): Route[] {
  return [
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
      response: { status: 201, description: 'The new resource server', schema: ResourceServerSchema },
      handler: async (input) => {
        const b = input.body;
        const rs = await service.addResourceServer(
          { identifier: b.identifier, scopes: scopeList(b.scope)!, tokenFormat: b.token_format, ttl: b.ttl, introspectionClients: b.introspection_clients },
          actorOf(input),
          { expect: 'new' },
        );
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
      fields: { ERR_ADMIN_RESOURCE_PROTECTED: 'scope' },
      response: { status: 200, description: 'The updated resource server', schema: ResourceServerSchema },
      handler: async (input) => {
        const b = input.body;
        const next = scopeList(b.scope)!;
        if (input.params.identifier === adminResource && (!ADMIN_SCOPES.every((s) => next.includes(s)) || (b.token_format ?? 'jwt') !== 'jwt')) {
          throw new ConflictError('ERR_ADMIN_RESOURCE_PROTECTED', `The admin API resource must keep the scopes ${ADMIN_SCOPES.join(' ')} and JWT tokens.`, {
            hint: 'Change other settings only (e.g. ttl), or restrict administrators through their client scopes.',
          });
        }
        const rs = await service.addResourceServer(
          { identifier: input.params.identifier, scopes: next, tokenFormat: b.token_format, ttl: b.ttl, introspectionClients: b.introspection_clients },
          actorOf(input),
          { expect: 'existing' },
        );
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
          throw new ConflictError('ERR_ADMIN_RESOURCE_PROTECTED', 'The admin API resource cannot be removed through the admin API.', {
            hint: 'It is registered again whenever the server starts.',
          });
        }
        await service.removeResourceServer(input.params.identifier, actorOf(input));
        return { status: 204 };
      },
    }),
  ];
}
