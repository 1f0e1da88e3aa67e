/**
 * The form-POST endpoints (token, introspection, revocation) over real mTLS: parameters sent in the URL
 * query, and other methods than POST, get an OAuth error that says where the parameters belong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIssuedToken } from '../helpers/bound-token.js';
import { httpsJson } from '../helpers/net.js';
import type { Issued } from '../helpers/pki.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const API = 'https://api.form.example';
const ENDPOINTS = [
  ['/token', 'token endpoint'],
  ['/token/introspection', 'introspection endpoint'],
  ['/token/revocation', 'revocation endpoint'],
] as const;
let s: TestServer;
let client: Issued;

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await s.admin.addClient({ clientId: 'form', mapping: { kind: 'subject_dn', value: 'CN=form,O=Acme' }, scopes: ['read'], defaultResource: API }, 'test');
  client = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['form'] }] });
});
afterAll(() => s?.close());

const emptyForm = { body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } };

describe('parameters in the URL query (G-1, TREQ-36)', () => {
  it.each(ENDPOINTS)('G-1 (TREQ-36): POST %s with its parameters in the query and an empty form → 400 invalid_request saying they belong in the form body', async (path, name) => {
    for (const base of [s.handle.mtlsUrl, s.handle.mainUrl]) {
      const res = await httpsJson(`${base}${path}?grant_type=client_credentials&client_id=form&token=x`, { agent: s.agent(client), method: 'POST', ...emptyForm });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toContain(`the ${name} does not read parameters in the URL query: send them in the application/x-www-form-urlencoded request body`);
      expect(res.body.access_token).toBeUndefined();
    }
  });

  it('G-1: a complete form body with an extra query still gets its token (the query is not read, and not refused)', async () => {
    const res = await httpsJson(`${s.handle.mtlsUrl}/token?scope=write`, { agent: s.agent(client), form: { grant_type: 'client_credentials', client_id: 'form' } });
    await expectIssuedToken(s, res, { clientId: 'form', presented: client, scopes: ['read'], aud: API });
  });

  it('G-1: an invalid_request without a query keeps its description as oidc-provider wrote it', async () => {
    const res = await httpsJson(`${s.handle.mtlsUrl}/token`, { agent: s.agent(client), form: { client_id: 'form' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).not.toContain('URL query');
  });
});

describe('other methods than POST (G-1, TREQ-35, TREQ-42)', () => {
  it.each(ENDPOINTS)('G-1 (TREQ-35, TREQ-42): GET, PUT and DELETE %s → 405 with Allow: POST and an OAuth error naming the method', async (path, name) => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await httpsJson(`${s.handle.mtlsUrl}${path}?grant_type=client_credentials&client_id=form`, { agent: s.agent(client), method });
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: `the ${name} accepts POST only (got ${method}), with the parameters in an application/x-www-form-urlencoded body`,
      });
    }
  });

  it('G-1: the main listener answers the same; a path that is no endpoint stays a 404', async () => {
    const token = await httpsJson(`${s.handle.mainUrl}/token`, { agent: s.agent(), method: 'GET' });
    expect(token.status).toBe(405);
    expect(token.body.error).toBe('invalid_request');
    const other = await httpsJson(`${s.handle.mainUrl}/token/other`, { agent: s.agent(), method: 'GET' });
    expect(other.status).toBe(404);
  });
});
