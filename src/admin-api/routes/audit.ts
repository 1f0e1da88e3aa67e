/** The audit log route. */
import { defineRoute, type Route } from '../router.js';
import { AuditListSchema, AuditQuerySchema, auditJson } from '../schemas.js';
import { ok, type RouteContext } from './route-context.js';

export function auditRoutes({ service }: RouteContext): Route[] {
  return [
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
        const filter = {
          limit: query.limit,
          target: query.target,
          actor: query.actor,
          action: query.action,
          since: at(query.since),
          until: at(query.until),
          beforeId: query.before,
        };
        return ok({ items: (await service.listAudit(filter)).map(auditJson) });
      },
    }),
  ];
}
