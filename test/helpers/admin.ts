/**
 * Admin API test helpers: an admin client registered with a certificate made now, its certificate-bound
 * token from the real token endpoint, and JSON calls over real mTLS presenting a chosen certificate.
 */
import { expect } from 'vitest';
import { expectIssuedToken } from './bound-token.js';
import { httpsJson } from './net.js';
import type { Issued } from './pki.js';
import type { TestServer } from './server.js';

export interface AdminCaller {
  client: Issued;
  clientId: string;
  token: string;
  /** JSON call to `${adminUrl}${path}` presenting `cert` (default: the caller's own) and the token (unless null). */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; rawBody?: string; contentType?: string; cert?: Issued | null; token?: string | null; headers?: Record<string, string> },
  ): Promise<AdminResponse>;
}

export interface AdminResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> & { items?: Record<string, unknown>[] };
  text: string;
}

let counter = 0;

/** Registers a tls_client_auth admin client (subject DN mapping, pinned to `trustAnchor` if given) with `scopes`, and gets its token. */
export async function createAdminCaller(s: TestServer, scopes: string[], options: { clientId?: string; trustAnchor?: string } = {}): Promise<AdminCaller> {
  const clientId = options.clientId ?? `admin-${++counter}`;
  const client = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: [clientId] }] });
  await s.admin.addClient(
    {
      clientId,
      mapping: { kind: 'subject_dn', value: `CN=${clientId},O=Acme`, ...(options.trustAnchor ? { trustAnchor: options.trustAnchor } : {}) },
      scopes,
      defaultResource: s.config.adminResource,
    },
    'test',
  );
  const token = await adminTokenFor(
    s,
    client,
    clientId,
    scopes.filter((scope) => scope.startsWith('certbound:')),
  );
  const caller: AdminCaller = {
    client,
    clientId,
    token,
    call: (method, path, callOptions = {}) =>
      adminCall(s, method, path, {
        cert: callOptions.cert === undefined ? client : callOptions.cert,
        token: callOptions.token === undefined ? caller.token : callOptions.token,
        ...callOptions,
      }),
  };
  return caller;
}

/**
 * A token for the admin resource from the mTLS token endpoint, checked to be issued to `clientId` with
 * `scopes` and bound to `client` (H15-11); `bound: false` for a client registered without bound tokens.
 */
export async function adminTokenFor(s: TestServer, client: Issued, clientId: string, scopes: string[], options: { bound?: boolean } = {}): Promise<string> {
  const res = await s.token(client, { grant_type: 'client_credentials', client_id: clientId, resource: s.config.adminResource, scope: scopes.join(' ') });
  if (res.status !== 200) throw new Error(`admin token request failed: ${res.status} ${res.text}`);
  await expectIssuedToken(s, res, { clientId, presented: options.bound === false ? null : client, scopes, aud: s.config.adminResource });
  return String(res.body.access_token);
}

/** The client ids of a 200 answer to GET /admin/clients. */
export function listedClientIds(res: { status: number; text: string; body: Record<string, unknown> }): string[] {
  expect(res.status, res.text).toBe(200);
  return ((res.body.items ?? []) as Record<string, unknown>[]).map((c) => String(c.client_id));
}

export async function adminCall(
  s: TestServer,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; contentType?: string; cert?: Issued | null; token?: string | null; headers?: Record<string, string> },
): Promise<AdminResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  return httpsJson(`${s.handle.adminUrl}${path}`, { method, headers, body, agent: s.agent(options.cert ?? undefined) });
}
