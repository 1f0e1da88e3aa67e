/**
 * Interop: a bound token from certbound with oauth4webapi (panva; openid-client v6 is built on it), a
 * client nobody here wrote, using tls_client_auth over mTLS with use_mtls_endpoint_aliases. This proves
 * certbound's discovery document and token endpoint are right for the clients people already use.
 */
import * as oauth from 'oauth4webapi';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://demo-api.certbound.test';
let s: TestServer;
let app: Issued;
let dispatcher: Agent;

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['demo.read'] }, 'test');
  await s.admin.addClient({ clientId: 'app', mapping: { kind: 'san_dns', value: 'app.example.com' }, scopes: ['demo.read'], defaultResource: API }, 'test');
  app = await s.pki.client({ subject: [{ CN: ['app'] }], san: [{ type: 'dns', value: 'app.example.com' }] });
  dispatcher = new Agent({ connect: { cert: s.pki.chainOf(app), key: app.keyPem, ca: s.pki.root.pem } });
});
afterAll(async () => {
  await dispatcher?.close();
  await s?.close();
});

/** oauth4webapi's customFetch, over the client's mTLS connection pool. */
const mtlsFetch = ((url: string, init: Parameters<typeof fetch>[1]) => fetch(url, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;

describe('interop: oauth4webapi against certbound', () => {
  it.each(['oauth2', 'oidc'] as const)('AL-3/BT-8: discovery (%s) and a client_credentials grant with TlsClientAuth at the mTLS alias give a bound token', async (algorithm) => {
    const issuer = new URL(s.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm, [oauth.customFetch]: mtlsFetch }));
    expect(as.mtls_endpoint_aliases?.token_endpoint).toBe(`${s.mtlsUrl}/token`);
    // RFC 8705 §5 client metadata: this client sends its token requests to the mTLS aliases.
    const client: oauth.Client = { client_id: 'app', use_mtls_endpoint_aliases: true };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), new URLSearchParams({ scope: 'demo.read', resource: API }), {
      [oauth.customFetch]: mtlsFetch,
    });
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    // oauth4webapi lower-cases token_type (RFC 6749 §5.1: case-insensitive).
    expect(result.token_type).toBe('bearer');
    await expectIssuedToken(
      s,
      { status: 200, body: { ...result, token_type: 'Bearer' } as Record<string, unknown> },
      { clientId: 'app', presented: app, scopes: ['demo.read'], aud: API },
    );
  });
});
