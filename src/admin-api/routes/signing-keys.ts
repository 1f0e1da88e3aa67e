/** The routes of token signing keys: list, rotate, retire. */
import { defineRoute, type Route } from '../router.js';
import { KidParams, NoQuery, RotateKeySchema, SigningKeyListSchema, SigningKeySchema, signingKeyJson } from '../schemas.js';
import { actorOf, ok, type RouteContext } from './route-context.js';

export function signingKeyRoutes({ service, changed }: RouteContext): Route[] {
  return [
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
  ];
}
