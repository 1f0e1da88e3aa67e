/**
 * The OpenAPI document is generated from the route table and its zod schemas; this meta-test keeps it
 * honest: it lists exactly the routes the server has (and every listed route is really routed), every
 * reference resolves, and real answers parse with the response schemas the document was made from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE } from '../../../src/console/session.js';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

let s: TestServer;
let ops: AdminCaller;
// biome-ignore lint/suspicious/noExplicitAny: a parsed JSON document, navigated freely in assertions
let doc: Record<string, any>;

beforeAll(async () => {
  s = await startTestServer();
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
  const res = await ops.call('GET', '/admin/openapi.json', { token: null, cert: null });
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(() => s?.close());

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Sample values for path parameters: syntactically fine, naming nothing that exists. */
function probePath(template: string): string {
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => encodeURIComponent(name === 'identifier' ? 'https://nothing.example.com' : `no-such-${name}`));
}

describe('OpenAPI 3.1 document at /admin/openapi.json', () => {
  it('is served without a token, as OpenAPI 3.1 with the token and certificate security schemes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('certbound admin API');
    expect(doc.components.securitySchemes.adminToken.flows.clientCredentials.tokenUrl).toBe(`${s.mtlsUrl}/token`);
    expect(Object.keys(doc.components.securitySchemes.adminToken.flows.clientCredentials.scopes).sort()).toEqual(['certbound:admin', 'certbound:admin:read']);
    expect(doc.components.securitySchemes.mutualTLS.type).toBe('mutualTLS');
  });

  it('describes the console session cookie and its anti-CSRF header as security schemes, as the console sets and sends them', async () => {
    expect(doc.components.securitySchemes.consoleSession).toMatchObject({ type: 'apiKey', in: 'cookie', name: '__Secure-certbound-console' });
    expect(doc.components.securitySchemes.consoleCsrf).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-certbound-csrf' });
    // the names the console sets its cookie under and reads the token from
    expect([doc.components.securitySchemes.consoleSession.name, doc.components.securitySchemes.consoleCsrf.name]).toEqual([SESSION_COOKIE, CSRF_HEADER]);
    expect(doc.info.description).toContain('consoleSession');
  });

  it('lists exactly the routes of the router table, with their access level', async () => {
    const routes = (await s.handle.admin()).routes;
    const fromTable = routes.map((r) => `${r.method} ${r.path}`).sort();
    const fromDoc = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((k) => METHODS.includes(k))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(fromDoc).toEqual(fromTable);
    expect(new Set(fromTable).size).toBe(fromTable.length);
    for (const r of routes) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      expect(op.operationId).toBe(r.operationId);
      const requirements = op.security as Record<string, string[]>[];
      const scopes = requirements
        .filter((req) => req.adminToken)
        .map((req) => req.adminToken![0])
        .sort();
      expect(scopes, `${r.method} ${r.path}`).toEqual(r.access === 'public' ? [] : r.access === 'write' ? ['certbound:admin'] : ['certbound:admin', 'certbound:admin:read']);
      // the console's session is the other way in: with the certificate, and the anti-CSRF header on a write
      const session = requirements.filter((req) => req.consoleSession);
      expect(session, `${r.method} ${r.path}`).toEqual(
        r.access === 'public' ? [] : r.access === 'write' ? [{ consoleSession: [], consoleCsrf: [], mutualTLS: [] }] : [{ consoleSession: [], mutualTLS: [] }],
      );
      expect(requirements.every((req) => 'mutualTLS' in req)).toBe(true);
      const pathParams = ((op.parameters ?? []) as { in: string; name: string }[]).filter((p) => p.in === 'path').map((p) => p.name);
      expect(pathParams).toEqual([...r.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]));
      expect(Boolean(op.requestBody)).toBe(Boolean(r.body));
      expect(Object.keys(op.responses)).toContain(String(r.response.status));
    }
  });

  it('every route in the document is really routed (never ERR_ROUTE_UNKNOWN or 405)', async () => {
    for (const r of (await s.handle.admin()).routes) {
      const res = await ops.call(r.method, probePath(r.path), r.body ? { body: { __probe: true } } : {});
      expect(['ERR_ROUTE_UNKNOWN', 'ERR_METHOD_NOT_ALLOWED'], `${r.method} ${r.path} → ${res.status} ${res.text}`).not.toContain(res.body.code);
      expect(res.status, `${r.method} ${r.path}`).toBeLessThan(500);
      if (r.body) {
        expect(res.body.code, `${r.method} ${r.path}`).toBe('ERR_VALIDATION');
        expect(
          (res.body.details as { issues: { field: string }[] }).issues.map((i) => i.field),
          `${r.method} ${r.path}`,
        ).toContain('__probe');
      }
    }
    // … and a path that is not in the table is not routed.
    expect((await ops.call('GET', '/admin/clients/x/unknown')).body.code).toBe('ERR_ROUTE_UNKNOWN');
  });

  it('every $ref resolves to a component, and components carry no $schema/$id of their own', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty(ref);
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, Record<string, unknown>>)) {
      expect(schema, name).not.toHaveProperty('$schema');
      expect(schema, name).not.toHaveProperty('$id');
    }
    // request bodies are strict (unknown members are refused) and name their required members
    expect(doc.components.schemas.CreateClientRequest).toMatchObject({ additionalProperties: false, required: ['client_id'] });
    expect(doc.components.schemas.MappingInput.properties.kind.enum).toEqual(['subject_dn', 'san_dns', 'san_uri', 'san_ip', 'san_email']);
  });

  it('real answers of every read route parse with the response schema the document was generated from', async () => {
    await s.admin.addResourceServer({ identifier: 'https://api.example.com', scopes: ['read'] }, 'test');
    // GET /admin/upstream answers 404 until a provider is configured.
    await s.admin.setUpstream({ issuer: 'https://login.example.com', clientId: 'certbound', authMethod: 'client_secret_basic', clientSecret: 'x' }, 'test');
    for (const r of (await s.handle.admin()).routes.filter((route) => route.method === 'GET' && !route.path.includes('{'))) {
      const res = await ops.call('GET', r.path);
      expect(res.status, r.path).toBe(r.response.status);
      const parsed = r.response.schema!.safeParse(res.body);
      expect(parsed.success, `${r.path}: ${parsed.error?.message}`).toBe(true);
    }
    const one = await ops.call('GET', '/admin/clients/ops');
    expect((await s.handle.admin()).routes.find((r) => r.operationId === 'getClient')!.response.schema!.safeParse(one.body).success).toBe(true);
  });
});
