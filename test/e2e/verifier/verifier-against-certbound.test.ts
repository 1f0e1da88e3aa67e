/**
 * certbound/verifier against the real certbound server: a client obtains a token with its certificate
 * and calls an HTTPS resource server (the examples/ app) with the same certificate, another one, none,
 * an unbound token, and through a forwarded header from a trusted and an untrusted peer.
 */
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../../examples/resource-server.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { createVerifier } from '../../../src/verifier/index.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson } from '../../helpers/net.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://demo-api.certbound.test';
const OPAQUE = 'https://opaque-api.certbound.test';
let s: TestServer;
let client: Issued;
let other: Issued;
let rs: ReturnType<typeof createExampleApp>;
let rsUrl: string;

/** A token from certbound, checked to be `clientId`'s for `resource` (default API) and demo.read, bound to `cert` unless `bound: false`. */
async function tokenFor(clientId: string, cert: Issued, resource?: string, options: { bound?: boolean } = {}): Promise<string> {
  const res = await s.token(cert, { grant_type: 'client_credentials', client_id: clientId, ...(resource ? { resource } : {}) });
  await expectIssuedToken(s, res, { clientId, presented: options.bound === false ? null : cert, scopes: ['demo.read'], aud: resource ?? API });
  return String(res.body.access_token);
}

function fakeRequest(token: string) {
  const headers = { authorization: `Bearer ${token}` };
  return { method: 'GET', url: '/orders', headers, rawHeaders: ['Authorization', headers.authorization], socket: { remoteAddress: '127.0.0.1' } } as never;
}

async function callRs(token: string | undefined, cert: Issued | undefined) {
  return httpsJson(`${rsUrl}/orders`, { agent: s.agent(cert), headers: token ? { authorization: `Bearer ${token}` } : {} });
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['demo.read'] }, 'test');
  await s.admin.addResourceServer({ identifier: OPAQUE, scopes: ['demo.read'], tokenFormat: 'opaque' }, 'test');
  await s.admin.addClient({ clientId: 'app', mapping: { kind: 'san_dns', value: 'app.example.com' }, scopes: ['demo.read'], defaultResource: API }, 'test');
  await s.admin.addClient(
    { clientId: 'legacy', mapping: { kind: 'san_dns', value: 'legacy.example.com' }, scopes: ['demo.read'], defaultResource: API, boundTokens: false },
    'test',
  );
  await s.admin.addClient({ clientId: 'opaque-rs', mapping: { kind: 'san_dns', value: 'opaque-rs.example.com' } }, 'test');
  await s.admin.addResourceServer({ identifier: OPAQUE, scopes: ['demo.read'], tokenFormat: 'opaque', introspectionClients: ['opaque-rs'] }, 'test');
  client = await s.pki.client({ subject: [{ CN: ['app'] }], san: [{ type: 'dns', value: 'app.example.com' }] });
  other = await s.pki.client({ subject: [{ CN: ['legacy'] }], san: [{ type: 'dns', value: 'legacy.example.com' }] });
  rs = createExampleApp({ issuer: s.issuer, audience: API, ca: s.pki.root.pem, cert: s.pki.server.pem + s.pki.intermediate.pem, key: s.pki.server.keyPem });
  await new Promise<void>((r) => rs.server.listen(0, '127.0.0.1', () => r()));
  rsUrl = `https://127.0.0.1:${(rs.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await rs?.verifier.close();
  await new Promise((r) => rs?.server.close(r));
  await s?.close();
});

describe('certbound/verifier against certbound (examples/resource-server.ts)', () => {
  it('BT-4/BT-5: same certificate as at the token endpoint → 200 with the client id and thumbprint', async () => {
    const token = await tokenFor('app', client);
    const res = await callRs(token, client);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ client_id: 'app', scopes: ['demo.read'], 'x5t#S256': x5tS256(client.der) });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('BT-6/IC-8: another certificate → 401 invalid_token', async () => {
    const token = await tokenFor('app', client);
    const res = await callRs(token, other);
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it('BT-6: no client certificate → 401 invalid_token, never a 500', async () => {
    const token = await tokenFor('app', client);
    const res = await callRs(token, undefined);
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toContain('error="invalid_token"');
  });

  it('decision row 8: a token bound to nobody (client registered without bound tokens) → 401 when binding is required', async () => {
    const token = await tokenFor('legacy', other, undefined, { bound: false });
    const res = await callRs(token, other);
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toContain('token is not certificate-bound');
  });

  it('decision row 1: no token → 401 with a bare Bearer challenge', async () => {
    const res = await callRs(undefined, client);
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).not.toContain('error=');
  });

  it('BT-13/BT-14: opaque token via the AS introspection alias, authenticated with the RS certificate', async () => {
    const rsCert = await s.pki.client({ subject: [{ CN: ['opaque-rs'] }], san: [{ type: 'dns', value: 'opaque-rs.example.com' }] });
    const verifier = createVerifier({
      issuer: s.issuer,
      audience: OPAQUE,
      tls: { ca: s.pki.root.pem },
      certificate: { from: 'custom', get: () => client.der },
      introspection: { clientId: 'opaque-rs', tls: { cert: s.pki.chainOf(rsCert), key: rsCert.keyPem } },
    });
    try {
      const token = await tokenFor('app', client, OPAQUE);
      expect(token.split('.')).not.toHaveLength(3);
      const ok = await verifier.verify(fakeRequest(token));
      expect(ok).toMatchObject({ clientId: 'app', thumbprint: x5tS256(client.der) });
      const wrong = createVerifier({
        issuer: s.issuer,
        audience: OPAQUE,
        tls: { ca: s.pki.root.pem },
        certificate: { from: 'custom', get: () => other.der },
        introspection: { clientId: 'opaque-rs', tls: { cert: s.pki.chainOf(rsCert), key: rsCert.keyPem } },
      });
      await expect(wrong.verify(fakeRequest(token))).rejects.toMatchObject({ status: 401, error: 'invalid_token' });
      await wrong.close();
    } finally {
      await verifier.close();
    }
  });

  it('the example behind nginx (RS_CLIENT_CERT_HEADER=nginx): the forwarded certificate binds, from the trusted proxy only', async () => {
    const behind = createExampleApp({
      issuer: s.issuer,
      audience: API,
      ca: s.pki.root.pem,
      cert: s.pki.server.pem + s.pki.intermediate.pem,
      key: s.pki.server.keyPem,
      certificate: { from: 'forwarded', format: 'nginx', trustedProxies: ['127.0.0.2'] },
    });
    await new Promise<void>((r) => behind.server.listen(0, '0.0.0.0', () => r()));
    try {
      const port = (behind.server.address() as AddressInfo).port;
      const token = await tokenFor('app', client);
      const call = (localAddress: string, cert: Issued) =>
        new Promise<number>((resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port,
              path: '/orders',
              servername: 'localhost',
              ca: s.pki.root.pem,
              localAddress,
              agent: false,
              headers: { authorization: `Bearer ${token}`, 'x-ssl-client-cert': encodeURIComponent(cert.pem) },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(await call('127.0.0.2', client)).toBe(200);
      expect(await call('127.0.0.2', other)).toBe(401);
      expect(await call('127.0.0.1', client)).toBe(400);
    } finally {
      await behind.verifier.close();
      await new Promise((r) => behind.server.close(r));
    }
  });

  describe('behind a TLS-terminating proxy (RFC 9440 Client-Cert)', () => {
    let proxied: Server;
    let url: string;
    let verifier: ReturnType<typeof createVerifier>;
    /** A request whose TCP source address is 127.0.0.2, the "proxy". */
    const fromProxy = (target: string, headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(target, { headers, localAddress: '127.0.0.2' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    beforeAll(async () => {
      verifier = createVerifier({
        issuer: s.issuer,
        audience: API,
        tls: { ca: s.pki.root.pem },
        certificate: { from: 'forwarded', format: 'rfc9440', trustedProxies: ['127.0.0.2/32'] },
      });
      const handler = verifier.express({ scopes: ['demo.read'] });
      proxied = createHttpServer((req, res) => handler(req, res, () => res.end('ok')));
      await new Promise<void>((r) => proxied.listen(0, '0.0.0.0', () => r()));
      url = `http://127.0.0.1:${(proxied.address() as AddressInfo).port}/orders`;
    });
    afterAll(async () => {
      await verifier.close();
      await new Promise((r) => proxied.close(r));
    });
    const clientCert = (c: Issued) => `:${c.der.toString('base64')}:`;

    it('PKI-3/SC-4: from the trusted proxy address, the forwarded certificate binds: same → 200, other → 401', async () => {
      const token = await tokenFor('app', client);
      expect(await fromProxy(url, { authorization: `Bearer ${token}`, 'client-cert': clientCert(client) })).toBe(200);
      expect(await fromProxy(url, { authorization: `Bearer ${token}`, 'client-cert': clientCert(other) })).toBe(401);
    });

    it('T-1/SC-4: the same header from an untrusted peer is refused with 400', async () => {
      const token = await tokenFor('app', client);
      const res = await request(url, { headers: { authorization: `Bearer ${token}`, 'client-cert': clientCert(client) } });
      expect(res.statusCode).toBe(400);
      await res.body.text();
    });
  });
});
