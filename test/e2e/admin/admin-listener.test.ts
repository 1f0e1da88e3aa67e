/** CERTBOUND_ADMIN_PORT: /admin on a listener of its own; the mTLS listener then points there. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminCaller, listedClientIds } from '../../helpers/admin.js';
import { freePort, httpsJson } from '../../helpers/net.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

let s: TestServer;
let adminPort: number;

beforeAll(async () => {
  adminPort = await freePort();
  s = await startTestServer({ configOverrides: { adminPort } });
});
afterAll(() => s?.close());

describe('separate admin listener', () => {
  it('serves /admin with the same authentication, on its own port', async () => {
    expect(s.handle.adminUrl).toBe(`https://127.0.0.1:${adminPort}`);
    const ops = await createAdminCaller(s, ['certbound:admin']);
    expect(listedClientIds(await ops.call('GET', '/admin/clients'))).toContain(ops.clientId);
    expect((await ops.call('GET', '/admin/clients', { token: null })).status).toBe(401);
  });

  it('the mTLS listener no longer serves /admin and says where it is', async () => {
    const res = await httpsJson(`${s.handle.mtlsUrl}/admin/clients`, { agent: s.agent() });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'ERR_ADMIN_WRONG_LISTENER', message: expect.stringContaining(`:${adminPort}/admin`) });
  });

  it('the admin listener serves nothing else (no token endpoint, no discovery)', async () => {
    for (const path of ['/token', '/.well-known/oauth-authorization-server', '/metrics']) {
      const res = await httpsJson(`${s.handle.adminUrl}${path}`, { agent: s.agent() });
      expect(res.status, path).toBe(404);
    }
  });

  it('the same port as another listener is a configuration error naming the key', async () => {
    const { loadConfig } = await import('../../../src/config/index.js');
    expect(() => loadConfig({ env: { CERTBOUND_ADMIN_PORT: '9000', CERTBOUND_MTLS_PORT: '9000' } })).toThrow(/CERTBOUND_ADMIN_PORT: 9000 is already the mTLS/);
  });
});
