/**
 * The admin API route table, one file per kind of record under routes/. Each row calls one use case of
 * the admin service (src/app); every write runs in the service's transaction together with its audit
 * row, whose actor is `admin:<client_id>:<x5t#S256>`.
 */
import type { Route } from './router.js';
import { auditRoutes } from './routes/audit.js';
import { authorizationRoutes } from './routes/authorization.js';
import { clientRoutes } from './routes/clients.js';
import { diagnoseRoutes } from './routes/diagnose.js';
import { mappingRoutes } from './routes/mappings.js';
import { registrationRoutes } from './routes/registrations.js';
import { resourceServerRoutes } from './routes/resource-servers.js';
import type { AdminRoutesOptions } from './routes/route-context.js';
import { signingKeyRoutes } from './routes/signing-keys.js';
import { trustAnchorRoutes } from './routes/trust-anchors.js';

export type { AdminRoutesOptions, DiagnoseCall } from './routes/route-context.js';

export function buildAdminRoutes(options: AdminRoutesOptions): Route[] {
  const context = {
    ...options,
    changed: async (what: 'trust_anchors' | 'signing_keys') => {
      await options.onChange?.(what);
    },
  };
  return [
    ...clientRoutes(context),
    ...mappingRoutes(context),
    ...trustAnchorRoutes(context),
    ...resourceServerRoutes(context),
    ...signingKeyRoutes(context),
    ...auditRoutes(context),
    ...registrationRoutes(context),
    ...diagnoseRoutes(context),
    ...authorizationRoutes(context),
  ];
}
