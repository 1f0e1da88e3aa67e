/**
 * Behind a TLS-terminating proxy the admin API reads the client certificate where the token endpoint
 * does: the header of the trusted proxy (never its own TLS connection), and a forged header from any other
 * peer is refused before the admin API sees the request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listedClientIds } from '../../helpers/admin.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import type { JsonResponse } from '../../helpers/net.js';
import type { Issued } from '../../helpers/pki.js';
import { rawHttpsRequest } from '../../helpers/proxy.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const TRUSTED = '127.0.0.2';
let s: TestServer;
let ops: Issued;
let other: Issued;
let token: string;

function viaProxy(path: string, options: { from?: string; cert?: Issued; token?: string; form?: Record<string, string> }): Promise<JsonResponse> {
  const headers: [string, string][] = [];
  if (options.cert) headers.push(['X-SSL-Client-Cert', encodeURIComponent(options.cert.pem)], ['X-SSL-Client-Verify', 'SUCCESS']);
  if (options.token) headers.push(['Authorization', `Bearer ${options.token}`]);
  return rawHttpsRequest({ url: `${s.handle.mtlsUrl}${path}`, ca: s.pki.root.pem, localAddress: options.from ?? TRUSTED, headers, form: options.form });
}

beforeAll(async () => {
  s = await startTestServer({ configOverrides: { trustedProxies: TRUSTED, clientCertHeader: 'nginx', proxyChainValidation: 'proxy-verified' } });
  ops = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['ops'] }] });
  other = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['other'] }] });
  await s.admin.addClient(
    { clientId: 'ops', mapping: { kind: 'subject_dn', value: 'CN=ops,O=Acme' }, scopes: ['certbound:admin'], defaultResource: s.config.adminResource },
    'test',
  );
  const res = await viaProxy('/token', { cert: ops, form: { grant_type: 'client_credentials', client_id: 'ops' } });
  await expectIssuedToken(s, res, { clientId: 'ops', presented: ops, scopes: ['certbound:admin'], aud: s.config.adminResource });
  token = String(res.body.access_token);
});
afterAll(() => s?.close());

describe('admin API behind a trusted proxy', () => {
  it('the forwarded certificate the token is bound to → 200', async () => {
    expect(listedClientIds(await viaProxy('/admin/clients', { cert: ops, token }))).toContain('ops');
  });

  it("another forwarded certificate, or none (the proxy's own connection never counts) → 401", async () => {
    expect((await viaProxy('/admin/clients', { cert: other, token })).body).toMatchObject({ error: 'invalid_token', message: 'certificate does not match the token' });
    expect((await viaProxy('/admin/clients', { token })).body).toMatchObject({ error: 'invalid_token', message: 'certificate-bound token requires mTLS' });
  });

  it('the same header from a peer that is not the proxy is refused (400) before reaching the admin API', async () => {
    const res = await viaProxy('/admin/clients', { from: '127.0.0.1', cert: ops, token });
    expect(res.status).toBe(400);
  });
});
