/** The routes of a client's certificate mappings: list, add (stage), change the window, remove. */
import { defineRoute, type Route } from '../router.js';
import { ClientParams, MappingInputSchema, MappingListSchema, MappingParams, MappingSchema, mappingJson, NoQuery, UpdateMappingSchema } from '../schemas.js';
import { actorOf, mappingInput, ok, type RouteContext } from './route-context.js';

export function mappingRoutes({ service }: RouteContext): Route[] {
  return [
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
      response: { status: 200, description: 'The updated mapping', schema: MappingSchema },
      handler: async (input) => {
        const side = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));
        const b = input.body;
        const mapping = await service.updateMapping(
          input.params.client_id,
          input.params.mapping_id,
          { notBefore: side(b.not_before), notAfter: side(b.not_after), allowOverlap: b.allow_overlap },
          actorOf(input),
        );
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
  ];
}
