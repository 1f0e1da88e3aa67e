/**
 * certbound and a resource server behind a real nginx (Debian package), configured from exactly
 * config/nginx/certbound.conf.template: nginx terminates the client's TLS, forwards the certificate in
 * X-SSL-Client-Cert ($ssl_client_escaped_cert) and connects to certbound from 127.0.0.2 (proxy_bind),
 * the only trusted proxy address; anything reaching certbound from 127.0.0.1 is a direct client.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { createVerifier, type Verifier } from '../../../src/verifier/index.js';
import { freePort, httpsJson, type JsonResponse, tlsAgent } from '../../helpers/net.js';
import { type NginxVariables, type RunningNginx, startNginx } from '../../helpers/nginx.js';
import { createCa, createTestPki, type Issued, issueLeaf, selfSigned, type TestPki } from '../../helpers/pki.js';
import { nginxEscapedCert, rawHttpsRequest } from '../../helpers/proxy.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const PROXY_ADDRESS = '127.0.0.2';

interface Stack {
  pki: TestPki;
  as: TestServer;
  nginx: RunningNginx;
  rs: Server;
  verifier: Verifier;
  /** Public URLs (through nginx). */
  issuer: string;
  mtls: string;
  api: string;
  close(): Promise<void>;
}

function tmpFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** certbound + a resource server, both behind one nginx rendered from the template. */
async function startStack(mode: 'validate' | 'proxy-verified', verifyClient: 'optional_no_ca' | 'on'): Promise<Stack> {
  const pki = await createTestPki();
  const files = mkdtempSync(path.join(tmpdir(), 'certbound-nginx-files-'));
  const [issuerPort, mtlsPort, apiPort, rsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const issuer = `https://localhost:${issuerPort}`;
  const mtls = `https://localhost:${mtlsPort}`;
  const api = `https://localhost:${apiPort}`;
  const as = await startTestServer({
    pki,
    configOverrides: {
      // Discovery advertises the public URLs (nginx), whatever Host nginx forwards.
      issuer,
      mtlsUrl: mtls,
      trustedProxies: PROXY_ADDRESS,
      clientCertHeader: 'nginx',
      proxyChainValidation: mode,
      // nginx forwards the leaf only: certbound completes the chain from this file.
      proxyIntermediates: tmpFile(files, 'intermediates.pem', pki.intermediate.pem),
    },
  });
  const stack: Partial<Stack> = { pki, as, issuer, mtls, api };
  try {
    await as.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
    await as.admin.addClient(
      { clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com', trustAnchor: 'test-root' }, scopes: ['read'], defaultResource: API },
      'test',
    );

    const verifier = createVerifier({
      issuer,
      audience: API,
      tls: { ca: pki.root.pem },
      certificate: { from: 'forwarded', format: 'nginx', trustedProxies: [PROXY_ADDRESS] },
    });
    stack.verifier = verifier;
    const middleware = verifier.express();
    const rs = createServer({ cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem }, (req, res) => {
      middleware(req, res, (err) => {
        if (err) {
          res.writeHead(500).end();
          return;
        }
        const auth = (req as typeof req & { auth?: { clientId?: string; thumbprint?: string } }).auth;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: auth?.clientId, 'x5t#S256': auth?.thumbprint }));
      });
    });
    rs.listen(rsPort, '127.0.0.1');
    await once(rs, 'listening');
    stack.rs = rs;

    const vars: NginxVariables = {
      NGINX_LISTEN_ISSUER: `127.0.0.1:${issuerPort}`,
      NGINX_LISTEN_MTLS: `127.0.0.1:${mtlsPort}`,
      NGINX_LISTEN_API: `127.0.0.1:${apiPort}`,
      NGINX_TLS_CERT: tmpFile(files, 'nginx.pem', pki.server.pem + pki.intermediate.pem),
      NGINX_TLS_KEY: tmpFile(files, 'nginx.key', pki.server.keyPem),
      NGINX_CLIENT_CA: tmpFile(files, 'client-ca.pem', pki.root.pem),
      NGINX_VERIFY_CLIENT: verifyClient,
      NGINX_PROXY_BIND: PROXY_ADDRESS,
      NGINX_UPSTREAM_CA: tmpFile(files, 'upstream-ca.pem', pki.root.pem),
      NGINX_UPSTREAM_NAME: 'localhost',
      // One certbound here; the replicas test covers two. Both upstream entries point at it.
      NGINX_AS_MAIN_1: `127.0.0.1:${as.handle.mainPort}`,
      NGINX_AS_MAIN_2: `127.0.0.1:${as.handle.mainPort}`,
      NGINX_AS_MTLS_1: `127.0.0.1:${as.handle.mtlsPort}`,
      NGINX_AS_MTLS_2: `127.0.0.1:${as.handle.mtlsPort}`,
      NGINX_API_UPSTREAM: `127.0.0.1:${rsPort}`,
    };
    stack.nginx = await startNginx(vars);
  } catch (err) {
    await closeStack(stack);
    throw err;
  }
  return { ...(stack as Stack), close: () => closeStack(stack) };
}

async function closeStack(stack: Partial<Stack>): Promise<void> {
  await stack.nginx?.stop();
  await stack.verifier?.close();
  if (stack.rs) {
    stack.rs.closeAllConnections();
    await new Promise((resolve) => stack.rs!.close(resolve));
  }
  await stack.as?.close();
}

function lastRefusal(s: TestServer): Record<string, unknown> | undefined {
  return [...s.logs].reverse().find((l) => l.event === 'client_auth_refused');
}

async function tokenVia(stack: Stack, client: Issued | undefined, options: { headers?: [string, string][]; clientId?: string; chain?: string } = {}) {
  return rawHttpsRequest({
    url: `${stack.mtls}/token`,
    ca: stack.pki.root.pem,
    form: { grant_type: 'client_credentials', client_id: options.clientId ?? 'billing' },
    headers: options.headers,
    ...(client ? { cert: options.chain ?? stack.pki.chainOf(client), key: client.keyPem } : {}),
  });
}

/** A 200 whose token (verified with the JWKS served through nginx) is `clientId`'s for API's read scope, bound to `cert`. */
async function expectTokenBoundTo(stack: Stack, res: JsonResponse, clientId: string, cert: Issued): Promise<void> {
  expect(res.status, res.text).toBe(200);
  const agent = tlsAgent({ ca: stack.pki.root.pem });
  try {
    const jwks = await httpsJson(`${stack.issuer}/jwks`, { agent });
    const { payload } = await jwtVerify(String(res.body.access_token), createLocalJWKSet(jwks.body as never), { issuer: stack.issuer, audience: API, typ: 'at+jwt' });
    expect(payload).toMatchObject({ client_id: clientId, scope: 'read', aud: API });
    expect(payload.cnf).toEqual({ 'x5t#S256': x5tS256(cert.der) });
  } finally {
    await agent.close();
  }
}

function callApi(stack: Stack, token: string, client: Issued | undefined, headers: [string, string][] = []) {
  return rawHttpsRequest({
    url: `${stack.api}/orders`,
    ca: stack.pki.root.pem,
    headers: [['authorization', `Bearer ${token}`], ...headers],
    ...(client ? { cert: stack.pki.chainOf(client), key: client.keyPem } : {}),
  });
}

describe('nginx, ssl_verify_client optional_no_ca, CERTBOUND_PROXY_CHAIN_VALIDATION=validate', () => {
  let stack: Stack;
  let billing: Issued;
  let other: Issued;

  beforeAll(async () => {
    stack = await startStack('validate', 'optional_no_ca');
    billing = await stack.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    other = await stack.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
  }, 600_000);
  afterAll(() => stack?.close());

  it('PKI-3/BT-8/BT-9: a client certificate through nginx gets a bound token whose cnf is the certificate it presented to nginx', async () => {
    const res = await tokenVia(stack, billing);
    await expectTokenBoundTo(stack, res, 'billing', billing);
  });

  it('discovery through nginx advertises CERTBOUND_ISSUER and CERTBOUND_MTLS_URL, whatever Host is sent', async () => {
    const res = await rawHttpsRequest({ url: `${stack.issuer}/.well-known/oauth-authorization-server`, ca: stack.pki.root.pem, headers: [['host', 'evil.example']] });
    expect(res.status).toBe(200);
    expect(res.body.issuer).toBe(stack.issuer);
    expect(res.body.jwks_uri).toBe(`${stack.issuer}/jwks`);
    expect(res.body.mtls_endpoint_aliases).toMatchObject({ token_endpoint: `${stack.mtls}/token` });
  });

  it('SC-4/BT-7: a client-supplied X-SSL-Client-Cert is overwritten by nginx: the token binds to the TLS certificate', async () => {
    const res = await tokenVia(stack, billing, { headers: [['X-SSL-Client-Cert', nginxEscapedCert(other.pem)]] });
    await expectTokenBoundTo(stack, res, 'billing', billing);
  });

  it('SC-4/T-1: without a TLS client certificate, a client-supplied X-SSL-Client-Cert (even repeated) is dropped, never honoured', async () => {
    const forged: [string, string] = ['X-SSL-Client-Cert', nginxEscapedCert(billing.pem)];
    for (const headers of [[forged], [forged, forged], [forged, ['X-SSL-Client-Verify', 'SUCCESS']]] as [string, string][][]) {
      const res = await tokenVia(stack, undefined, { headers });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.access_token).toBeUndefined();
    }
  });

  it('SC-4/T-1: a direct connection from 127.0.0.1 carrying the header is refused (400) and logged', async () => {
    const res = await rawHttpsRequest({
      url: `${stack.as.handle.mtlsUrl}/token`,
      ca: stack.pki.root.pem,
      localAddress: '127.0.0.1',
      headers: [['X-SSL-Client-Cert', nginxEscapedCert(billing.pem)]],
      form: { grant_type: 'client_credentials', client_id: 'billing' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(lastRefusal(stack.as)).toMatchObject({ reason: 'ERR_FORWARDED_UNTRUSTED_PEER', details: expect.objectContaining({ remoteAddress: '127.0.0.1' }) });
  });

  it('PKI-1/SC-5: a certificate with the right SAN from another CA passes nginx (optional_no_ca) but certbound refuses it (UNTRUSTED_ROOT)', async () => {
    const stagingRoot = await createCa({ name: [{ CN: ['Staging Root'] }] });
    const forged = await issueLeaf(stagingRoot, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await tokenVia(stack, forged, { chain: forged.pem });
    expect(res.status).toBe(401);
    expect(lastRefusal(stack.as)).toMatchObject({ reason: 'UNTRUSTED_ROOT', client_id: 'billing' });
  });

  it('SS-5: a self-signed client through nginx (optional_no_ca) gets a token bound to its certificate', async () => {
    const device = await selfSigned({ subject: [{ CN: ['device-7'] }] });
    await stack.as.admin.addClient({ clientId: 'device-7', selfSignedCertPem: device.pem, scopes: ['read'], defaultResource: API }, 'test');
    const res = await tokenVia(stack, device, { clientId: 'device-7', chain: device.pem });
    await expectTokenBoundTo(stack, res, 'device-7', device);
  });

  it('BT-4/BT-5/BT-6: the verifier behind the same nginx accepts the token with the same certificate and refuses another', async () => {
    const token = String((await tokenVia(stack, billing)).body.access_token);
    const ok = await callApi(stack, token, billing);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ client_id: 'billing', 'x5t#S256': x5tS256(billing.der) });

    const wrong = await callApi(stack, token, other);
    expect(wrong.status).toBe(401);
    expect(String(wrong.headers['www-authenticate'])).toContain('error="invalid_token"');

    // The holder of another certificate cannot smuggle the right one in a header: nginx overwrites it.
    const smuggled = await callApi(stack, token, other, [['X-SSL-Client-Cert', nginxEscapedCert(billing.pem)]]);
    expect(smuggled.status).toBe(401);

    const none = await callApi(stack, token, undefined, [['X-SSL-Client-Cert', nginxEscapedCert(billing.pem)]]);
    expect(none.status).toBe(401);
  });
});

describe('nginx, ssl_verify_client on + CA file, CERTBOUND_PROXY_CHAIN_VALIDATION=proxy-verified', () => {
  let stack: Stack;
  let billing: Issued;

  beforeAll(async () => {
    stack = await startStack('proxy-verified', 'on');
    billing = await stack.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
  }, 600_000);
  afterAll(() => stack?.close());

  it('PKI-3/SC-5: nginx verified the chain (X-SSL-Client-Verify: SUCCESS): bound token; the SPKI pin to test-root holds', async () => {
    const res = await tokenVia(stack, billing);
    await expectTokenBoundTo(stack, res, 'billing', billing);
  });

  it('PKI-3: nginx itself refuses a certificate from another CA, and a request without one', async () => {
    const stagingRoot = await createCa({ name: [{ CN: ['Staging Root'] }] });
    const forged = await issueLeaf(stagingRoot, { subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const bad = await tokenVia(stack, forged, { chain: forged.pem });
    expect(bad.status).toBe(400);
    expect(bad.body.access_token).toBeUndefined();
    const none = await tokenVia(stack, undefined, {
      headers: [
        ['X-SSL-Client-Cert', nginxEscapedCert(billing.pem)],
        ['X-SSL-Client-Verify', 'SUCCESS'],
      ],
    });
    expect(none.status).toBe(400);
    expect(none.body.access_token).toBeUndefined();
  });

  it('SC-4: a client-supplied X-SSL-Client-Verify cannot upgrade anything: nginx overwrites it', async () => {
    const other = await stack.pki.client({ subject: [{ CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
    const res = await tokenVia(stack, billing, {
      headers: [
        ['X-SSL-Client-Verify', 'SUCCESS'],
        ['X-SSL-Client-Cert', nginxEscapedCert(other.pem)],
      ],
    });
    await expectTokenBoundTo(stack, res, 'billing', billing);
  });
});
