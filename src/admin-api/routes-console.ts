/**
 * Admin routes for what the console shows beside the records themselves: what expires soon, the
 * certificate a client last authenticated with, the CRLs (listed, and removed), a mapping read from a
 * certificate, and a refusal looked up by the ref its client was given. The CLI has each of them
 * (`certs expiring`, `trust crl list|remove`, `--from-cert`, the server log line).
 */
import * as z from 'zod';
import type { Diagnosis } from '../diagnose/index.js';
import { NotFoundError } from '../errors/index.js';
import { parseCertificate, parsePemCertificates } from '../pki/index.js';
import { parseWindow } from '../app/expiry.js';
import { mappingValueFromCertificate } from '../app/mapping-from-cert.js';
import { MATCH_KINDS } from '../mapping/kinds.js';
import type { AdminService } from '../app/service.js';
import { defineRoute, type Route } from './router.js';
import { adminSchemas, ClientParams, DiagnosisSchema, NoQuery, REQUEST_COMPONENTS } from './schemas.js';

/** A refusal the server answered with a ref (`401 invalid_client … (ref 1a2b3c4d)`), as it logged it. */
export interface RecordedRefusal {
  ref: string;
  at: Date;
  reason: string;
  message: string;
  clientId?: string | undefined;
  thumbprint?: string | undefined;
  diagnosis?: Diagnosis | undefined;
}

/** The refusals this server process keeps in memory, newest last. */
export interface RefusalLog {
  find(ref: string): RecordedRefusal | undefined;
  /** How many it keeps at most. */
  readonly capacity: number;
  /** How many it holds now. */
  readonly size: number;
  /** When it started keeping them (the server's start). */
  readonly since: Date;
}

function component<T extends z.ZodType>(id: string, schema: T): T {
  adminSchemas.add(schema, { id });
  if (id.endsWith('Request')) REQUEST_COMPONENTS.add(id);
  return schema;
}

const timestamp = z.string().describe('ISO 8601');

const ExpiryQuery = z.strictObject({
  within: z
    .string()
    .regex(/^\d{1,4}[mhdw]?$/, 'must be a duration such as 30d, 12h, 2w (a bare number means days)')
    .optional()
    .describe('Window; default 90d'),
});
const ExpirySchema = component(
  'ExpiryReport',
  z.object({
    now: timestamp,
    until: timestamp,
    certificates: z.array(
      z.object({
        client_id: z.string(),
        mapping_id: z.string().nullable(),
        'x5t#S256': z.string(),
        subject: z.string(),
        not_after: timestamp,
        days_remaining: z.number(),
        expired: z.boolean(),
        last_seen: timestamp,
      }),
    ),
    mappings: z.array(
      z.object({
        client_id: z.string(),
        mapping_id: z.string(),
        kind: z.string(),
        value: z.string(),
        not_after: timestamp,
        days_remaining: z.number(),
        expired: z.boolean(),
        replaced_by: z.string().nullable(),
      }),
    ),
  }),
);
const LastSeenListSchema = component(
  'LastSeenList',
  z.object({ items: z.array(z.object({ mapping_id: z.string().nullable(), 'x5t#S256': z.string(), subject: z.string(), not_after: timestamp, seen_at: timestamp })) }),
);
const CrlListSchema = component(
  'CrlList',
  z.object({
    items: z.array(
      z.object({
        id: z.string(),
        trust_anchor: z.string(),
        source_kind: z.enum(['file', 'url']),
        source: z.string(),
        issuer_subject: z.string(),
        this_update: timestamp,
        next_update: timestamp.nullable(),
        revoked_count: z.number().int(),
        fetched_at: timestamp,
        last_error: z.string().nullable(),
      }),
    ),
  }),
);
const MappingFromCertificateRequest = component(
  'MappingFromCertificateRequest',
  z.strictObject({
    certificate: z.string().min(1).max(65_536).describe('PEM text of the client certificate (the first certificate is used)'),
    match: z.enum(Object.keys(MATCH_KINDS) as [string, ...string[]]).describe('Which value of the certificate the mapping matches'),
    value: z.string().min(1).max(2048).optional().describe('The SAN to use when the certificate has several of that kind'),
  }),
);
const MappingFromCertificateSchema = component(
  'MappingFromCertificate',
  z.object({
    kind: z.string(),
    value: z.string(),
    certificate: z.object({ subject: z.string(), issuer: z.string(), not_before: timestamp, not_after: timestamp, 'x5t#S256': z.string() }),
  }),
);
const CrlParams = z.strictObject({ name: z.string().min(1), crl_id: z.string().min(1) });
const RefParams = z.strictObject({ ref: z.string().regex(/^[0-9a-f]{8}$/, 'must be the 8 hexadecimal digits of a ref') });
const RefusalSchema = component(
  'Refusal',
  z.object({
    ref: z.string(),
    at: timestamp,
    reason: z.string().describe('The reason code, as in the server log line'),
    message: z.string(),
    client_id: z.string().nullable(),
    'x5t#S256': z.string().nullable(),
    diagnosis: DiagnosisSchema.nullable(),
  }),
);

export interface ConsoleRoutesOptions {
  service: AdminService;
  refusals?: RefusalLog | undefined;
  /** Applies a trust-anchor change (a CRL removed) to the running server at once. */
  onChange?: ((what: 'trust_anchors') => Promise<void>) | undefined;
}

export function buildConsoleRoutes({ service, refusals, onChange }: ConsoleRoutesOptions): Route[] {
  const ok = (body: unknown) => ({ status: 200, body });
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/expiry',
      operationId: 'listExpiring',
      summary: 'Certificates last seen and mappings that end within a window (certbound certs expiring)',
      tag: 'expiry',
      access: 'read',
      query: ExpiryQuery,
      fields: { ERR_WINDOW_INVALID: 'within' },
      response: { status: 200, description: 'What ends before now + within (ended ones included)', schema: ExpirySchema },
      handler: async ({ query }) => ok(await service.expiring(parseWindow(query.within ?? '90d'))),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/clients/{client_id}/last-seen',
      operationId: 'listLastSeen',
      summary: 'The certificates a client last authenticated with, one per mapping',
      tag: 'clients',
      access: 'read',
      params: ClientParams,
      query: NoQuery,
      response: { status: 200, description: 'Last-seen certificates', schema: LastSeenListSchema },
      handler: async ({ params }) => {
        await service.showClient(params.client_id);
        const items = (await service.lastSeen(params.client_id)).map((s) => ({
          mapping_id: s.mappingId,
          'x5t#S256': s.x5tS256,
          subject: s.subject,
          not_after: s.notAfter.toISOString(),
          seen_at: s.seenAt.toISOString(),
        }));
        return ok({ items });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/crls',
      operationId: 'listCrls',
      summary: 'The CRLs of every trust anchor (certbound trust crl list)',
      tag: 'trust-anchors',
      access: 'read',
      query: NoQuery,
      response: { status: 200, description: 'The CRLs', schema: CrlListSchema },
      handler: async () =>
        ok({
          items: (await service.listCrls()).map((c) => ({
            id: c.id,
            trust_anchor: c.trustAnchorName,
            source_kind: c.sourceKind,
            source: c.source,
            issuer_subject: c.issuerSubject,
            this_update: c.thisUpdate.toISOString(),
            next_update: c.nextUpdate?.toISOString() ?? null,
            revoked_count: c.revokedCount,
            fetched_at: c.fetchedAt.toISOString(),
            last_error: c.lastError,
          })),
        }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/trust-anchors/{name}/crls/{crl_id}',
      operationId: 'removeCrl',
      summary: "Stop checking a trust anchor's certificates against one of its CRLs (certbound trust crl remove)",
      tag: 'trust-anchors',
      access: 'write',
      params: CrlParams,
      query: NoQuery,
      response: { status: 204, description: 'Removed' },
      handler: async (input) => {
        await service.removeCrl(input.params.name, input.params.crl_id, input.principal!.actor);
        await onChange?.('trust_anchors');
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/mapping-from-cert',
      operationId: 'mappingFromCertificate',
      summary: 'Read a mapping (kind and value) from a certificate, as --from-cert --match does; nothing is stored',
      tag: 'mappings',
      access: 'read',
      query: NoQuery,
      body: MappingFromCertificateRequest,
      fields: { ERR_CERT_PARSE: 'certificate', ERR_PEM_INVALID: 'certificate', ERR_CERT_NO_VALUE: 'match', ERR_CERT_SEVERAL_VALUES: 'value', ERR_MATCH_KIND: 'match' },
      response: { status: 200, description: 'The mapping it would register, and the certificate that holds its value', schema: MappingFromCertificateSchema },
      handler: async ({ body }) => {
        const { kind, value } = mappingValueFromCertificate(body.certificate, body.match, body.value);
        const cert = parseCertificate(parsePemCertificates(body.certificate)[0]!);
        return ok({
          kind,
          value,
          certificate: {
            subject: cert.subjectRfc4514,
            issuer: cert.issuerRfc4514,
            not_before: cert.notBefore.toISOString(),
            not_after: cert.notAfter.toISOString(),
            'x5t#S256': cert.x5t,
          },
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/refusals/{ref}',
      operationId: 'getRefusal',
      summary: 'A refusal by the ref its client was given, with the diagnosis the server logged',
      tag: 'diagnose',
      access: 'read',
      params: RefParams,
      query: NoQuery,
      response: { status: 200, description: 'The refusal', schema: RefusalSchema },
      handler: async ({ params }) => {
        const found = refusals?.find(params.ref);
        if (!found) {
          const why = refusals
            ? `This server process keeps the last ${refusals.capacity} refusals in memory (it holds ${refusals.size}, since ${refusals.since.toISOString()}): the refusal is older than that, was answered by another replica, or this server restarted since.`
            : 'This server keeps no refusals in memory.';
          throw new NotFoundError('ERR_REFUSAL_UNKNOWN', `No refusal with ref ${params.ref} here. ${why}`, {
            hint: `The server log has every refusal: search it for "ref":"${params.ref}" (event client_auth_refused, with its diagnosis), or paste the certificate into Diagnose.`,
          });
        }
        return ok({
          ref: found.ref,
          at: found.at.toISOString(),
          reason: found.reason,
          message: found.message,
          client_id: found.clientId ?? null,
          'x5t#S256': found.thumbprint ?? null,
          diagnosis: found.diagnosis ?? null,
        });
      },
    }),
  ];
}
