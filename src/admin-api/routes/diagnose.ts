/** The diagnosis route: the engine behind `certbound doctor`, over what the server holds. */
import { CertboundError } from '../../errors/index.js';
import { parsePemCertificates } from '../../pki/index.js';
import { defineRoute, type Route } from '../router.js';
import { DiagnoseRequestSchema, DiagnosisSchema, NoQuery } from '../schemas.js';
import { ok, type RouteContext } from './route-context.js';

/** PEM certificates of a body member; a parse error names the member. */
function certificatesOf(pem: string, field: string): Buffer[] {
  try {
    return parsePemCertificates(pem);
  } catch (err) {
    if (!(err instanceof CertboundError)) throw err;
    throw new CertboundError(err.code, `${field}: ${err.message}`, { status: 400, expose: true, hint: err.hint, details: { field }, cause: err });
  }
}

/** Present only when the server gives the admin API a diagnosis engine. */
export function diagnoseRoutes({ diagnose }: RouteContext): Route[] {
  if (!diagnose) return [];
  return [
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
  ];
}
