/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table and the same zod schemas
 * that validate requests (`z.toJSONSchema`), so it cannot drift from what the server does.
 */
import * as z from 'zod';
import { CSRF_HEADER, SESSION_COOKIE } from '../console/session.js';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from './auth.js';
import type { Route } from './router.js';
import { adminSchemas, REQUEST_COMPONENTS } from './schemas.js';

export interface OpenApiOptions {
  /** The token endpoint that issues admin tokens (mTLS alias). */
  tokenUrl: string;
  adminResource: string;
  version: string;
}

type JsonSchema = Record<string, unknown>;

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Invalid request: the message names the field; nothing was changed',
  '401': 'No valid certificate-bound admin token for the certificate of this connection',
  '403': 'The token lacks the required scope',
  '404': 'Not found',
  '409': 'Conflict with the current state; nothing was changed',
  '500': 'Internal error (details only in the server log)',
};

const uri = (id: string) => `#/components/schemas/${id}`;

function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const input = z.toJSONSchema(adminSchemas, { io: 'input', uri, unrepresentable: 'any' }).schemas as Record<string, JsonSchema>;
  const output = z.toJSONSchema(adminSchemas, { io: 'output', uri, unrepresentable: 'any' }).schemas as Record<string, JsonSchema>;
  return Object.fromEntries(
    Object.keys(output)
      .sort()
      .map((id) => [id, strip((REQUEST_COMPONENTS.has(id) ? input : output)[id]!)]),
  );
}

/** Bodies and responses are components (registered in schemas.ts), referenced by name. */
function schemaRef(schema: z.ZodType, route: Route): JsonSchema {
  const id = adminSchemas.get(schema)?.id;
  if (!id) throw new TypeError(`${route.method} ${route.path}: its body/response schema is not registered in adminSchemas`);
  return { $ref: uri(id) };
}

function parameters(route: Route): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [location, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property;
      out.push({ name, in: location, required: location === 'path' || (json.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest });
    }
  }
  return out;
}

function security(route: Route): JsonSchema[] {
  if (route.access === 'public') return [];
  // Each requirement holds at once: the token and, on the same connection, the certificate it is bound
  // to; or the console's session cookie on a connection presenting the certificate that signed in, with
  // its anti-CSRF header on a write (the session's client needs the same scopes as a token would).
  if (route.access === 'write') {
    return [
      { adminToken: [ADMIN_SCOPE], mutualTLS: [] },
      { consoleSession: [], consoleCsrf: [], mutualTLS: [] },
    ];
  }
  return [
    { adminToken: [ADMIN_READ_SCOPE], mutualTLS: [] },
    { adminToken: [ADMIN_SCOPE], mutualTLS: [] },
    { consoleSession: [], mutualTLS: [] },
  ];
}

/** Builds the document for exactly the given routes. */
export function buildOpenApiDocument(routes: readonly Route[], options: OpenApiOptions): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {
      [String(route.response.status)]: route.response.schema
        ? { description: route.response.description, content: { 'application/json': { schema: schemaRef(route.response.schema, route) } } }
        : { description: route.response.description },
    };
    const errors =
      route.access === 'public' ? ['500'] : ['400', '401', '403', ...(route.params || route.singleton ? ['404'] : []), ...(route.access === 'write' ? ['409'] : []), '500'];
    for (const status of errors) responses[status] = { description: ERROR_RESPONSES[status], content: { 'application/json': { schema: { $ref: uri('Error') } } } };
    const params = parameters(route);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      security: security(route),
      ...(params.length ? { parameters: params } : {}),
      ...(route.body ? { requestBody: { required: !route.bodyOptional, content: { 'application/json': { schema: schemaRef(route.body, route) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'certbound admin API',
      version: options.version,
      description:
        `Administration of certbound over mutual TLS. Every call except this document needs a certificate-bound access token ` +
        `issued by this server for the resource ${options.adminResource} (scope ${ADMIN_SCOPE}, or ${ADMIN_READ_SCOPE} for reads), ` +
        'sent as Authorization: Bearer on a connection that presents the certificate the token is bound to (RFC 8705 §3). ' +
        'The admin console calls it with its session cookie instead (security scheme consoleSession), on a connection that presents the certificate it signed in with.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    // Relative: the origin this document was fetched from (the listener serving /admin).
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: components(),
      securitySchemes: {
        adminToken: {
          type: 'oauth2',
          description: `client_credentials over mTLS (tls_client_auth or self_signed_tls_client_auth) with resource=${options.adminResource}; the token is bound to the client certificate.`,
          flows: { clientCredentials: { tokenUrl: options.tokenUrl, scopes: { [ADMIN_SCOPE]: 'read and change everything', [ADMIN_READ_SCOPE]: 'read only' } } },
        },
        mutualTLS: { type: 'mutualTLS', description: 'The client certificate the access token is bound to, or the console session was signed in with.' },
        consoleSession: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: `The admin console's session (HttpOnly, Secure, SameSite=Strict), set when a browser signs in at /admin/console/ with an administrator's certificate. Good only on a connection presenting that same certificate, and only while its client still holds ${ADMIN_SCOPE} (${ADMIN_READ_SCOPE} for reads).`,
        },
        consoleCsrf: {
          type: 'apiKey',
          in: 'header',
          name: CSRF_HEADER,
          description:
            "With the console's session, a write also carries the session's anti-CSRF token in this header (the console page reads it from GET /admin/console/session), which a page of another site cannot set.",
        },
      },
    },
  };
}
