/** The routes of trust anchors: the CAs client certificates are validated against. */
import { ConflictError } from '../../errors/index.js';
import { defineRoute, type Route } from '../router.js';
import { CreateTrustAnchorSchema, NameParams, NoQuery, TrustAnchorListSchema, TrustAnchorSchema, trustAnchorJson } from '../schemas.js';
import { actorOf, ok, type RouteContext } from './route-context.js';

export function trustAnchorRoutes({ service, changed }: RouteContext): Route[] {
  return [
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
  ];
}
