/**
 * certbound/client against the real certbound server (real TLS, real database) and the example resource
 * server (certbound/verifier): the three parties built and tested together.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../../examples/resource-server.js';
import { createTokenClient, type TokenClient, type TokenClientOptions } from '../../../src/client/index.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { createVerifier } from '../../../src/verifier/index.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { caught, testTokenClient } from '../../helpers/client.js';
import { type Issued, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://demo-api.certbound.test';
const OTHER_API = 'https://other-api.certbound.test';
let s: TestServer;
let app: Issued;
let legacy: Issued;
let stranger: Issued;
let rs: ReturnType<typeof createExampleApp>;
let rsUrl: string;
const clients: TokenClient[] = [];

function client(cert: Issued, overrides: Partial<TokenClientOptions> = {}): TokenClient {
  return testTokenClient({ issuer: s.issuer, pki: s.pki, cert, retries: 1, opened: clients }, overrides);
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['demo.read', 'demo.write'] }, 'test');
  await s.admin.addResourceServer({ identifier: OTHER_API, scopes: ['other.read'] }, 'test');
  await s.admin.addClient(
    { clientId: 'app', mapping: { kind: 'san_dns', value: 'app.example.com' }, scopes: ['demo.read', 'demo.write', 'other.read'], defaultResource: API },
    'test',
  );
  await s.admin.addClient(
    { clientId: 'legacy', mapping: { kind: 'san_dns', value: 'legacy.example.com' }, scopes: ['demo.read'], defaultResource: API, boundTokens: false },
    'test',
  );
  app = await s.pki.client({ subject: [{ CN: ['app'] }], san: [{ type: 'dns', value: 'app.example.com' }] });
  legacy = await s.pki.client({ subject: [{ CN: ['legacy'] }], san: [{ type: 'dns', value: 'legacy.example.com' }] });
  stranger = await s.pki.client({ subject: [{ CN: ['stranger'] }], san: [{ type: 'dns', value: 'stranger.example.com' }] });
  rs = createExampleApp({ issuer: s.issuer, audience: API, ca: s.pki.root.pem, cert: s.pki.server.pem + s.pki.intermediate.pem, key: s.pki.server.keyPem });
  await new Promise<void>((r) => rs.server.listen(0, '127.0.0.1', () => r()));
  rsUrl = `https://localhost:${(rs.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await rs?.verifier.close();
  await new Promise((r) => rs?.server.close(r));
  await s?.close();
});

describe('certbound/client against certbound', () => {
  it('AL-3/BT-8/BT-9/MD-10: discovery finds the mTLS alias; the token is bound to the presented certificate', async () => {
    const c = client(app);
    const server = await c.discover();
    expect(server.tokenEndpoint).toBe(`${s.mtlsUrl}/token`);
    expect(server.metadata.tls_client_certificate_bound_access_tokens).toBe(true);
    const token = await c.getToken({ resource: API, scope: 'demo.read' });
    expect(token.thumbprint).toBe(x5tS256(app.der));
    expect(c.thumbprint).toBe(x5tS256(app.der));
    await expectIssuedToken(
      s,
      { status: 200, body: { access_token: token.accessToken, token_type: token.tokenType, scope: token.scope } },
      { clientId: 'app', presented: app, scopes: ['demo.read'], aud: API },
    );
    expect(token.expiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it('the cache holds one token per resource and sorted scopes; concurrent callers share one request', async () => {
    const c = client(app);
    const calls = await Promise.all(Array.from({ length: 10 }, (_, i) => c.getToken({ resource: API, scope: i % 2 ? 'demo.read demo.write' : ['demo.write', 'demo.read'] })));
    expect(new Set(calls.map((t) => t.accessToken)).size).toBe(1);
    expect(await c.getToken({ resource: API, scope: 'demo.write demo.read' })).toBe(calls[0]);
    const other = await c.getToken({ resource: OTHER_API, scope: 'other.read' });
    expect(other.accessToken).not.toBe(calls[0]!.accessToken);
    await expectIssuedToken(
      s,
      { status: 200, body: { access_token: other.accessToken, token_type: 'Bearer', scope: other.scope } },
      { clientId: 'app', presented: app, scopes: ['other.read'], aud: OTHER_API },
    );
  });

  it('BT-4: fetch presents the same certificate at the resource server, with the Bearer token', async () => {
    const c = client(app);
    const res = await c.fetch(`${rsUrl}/orders`, { resource: API, scope: 'demo.read' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ client_id: 'app', scopes: ['demo.read'], 'x5t#S256': x5tS256(app.der) });
  });

  it('G-5/H15-10: an unregistered certificate gets TOKEN_REFUSED invalid_client with the ref of the server log line', async () => {
    const c = client(stranger);
    const err = await caught(c.getToken({ resource: API }));
    expect(err).toMatchObject({ code: 'TOKEN_REFUSED', httpStatus: 401, oauthError: 'invalid_client' });
    expect(err.ref).toMatch(/^[0-9a-f]{8}$/);
    expect(err.errorDescription).toContain(`(ref ${err.ref})`);
    expect(s.logs.some((line) => line.ref === err.ref)).toBe(true);
    expect(err.hint).toMatch(/certbound doctor/);
  });

  it('H15-1: a scope the client does not hold is TOKEN_REFUSED invalid_scope', async () => {
    const err = await caught(client(app).getToken({ resource: API, scope: 'demo.admin' }));
    expect(err).toMatchObject({ code: 'TOKEN_REFUSED', httpStatus: 400, oauthError: 'invalid_scope' });
  });

  it('BT-1: an unbound token (a client registered without bound tokens) is refused unless requireBound is false', async () => {
    const err = await caught(client(legacy, { clientId: 'legacy' }).getToken());
    expect(err.code).toBe('UNBOUND_TOKEN');
    const token = await client(legacy, { clientId: 'legacy', requireBound: false }).getToken();
    await expectIssuedToken(
      s,
      { status: 200, body: { access_token: token.accessToken, token_type: 'Bearer', scope: token.scope } },
      { clientId: 'legacy', presented: null, scopes: ['demo.read'], aud: API },
    );
  });

  it('ISSUER_MISMATCH: the same server under another name (127.0.0.1 for localhost) is refused', async () => {
    const issuer = s.issuer.replace('localhost', '127.0.0.1');
    const err = await caught(client(app, { issuer }).getToken());
    expect(err.code).toBe('ISSUER_MISMATCH');
    expect(err.message).toContain(`names the issuer "${s.issuer}", not the configured "${issuer}"`);
  });
});

describe('fetch: 401 invalid_token', () => {
  let revoked: Set<string>;
  let revokeEverything = false;
  let seen: { token: string; thumbprint: string | undefined }[];
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    // A resource server that has revoked some tokens (its own deny list), in front of the verifier.
    revoked = new Set();
    seen = [];
    const verifier = createVerifier({ issuer: s.issuer, audience: API, requireBoundTokens: true, tls: { ca: s.pki.root.pem } });
    const koa = new Koa();
    koa.use(async (ctx, next) => {
      const token = String(ctx.get('authorization')).replace(/^Bearer /, '');
      seen.push({
        token,
        thumbprint: (ctx.req.socket as import('node:tls').TLSSocket).getPeerCertificate()?.raw
          ? x5tS256((ctx.req.socket as import('node:tls').TLSSocket).getPeerCertificate().raw)
          : undefined,
      });
      if (revokeEverything || revoked.has(token)) {
        ctx.status = 401;
        ctx.set('www-authenticate', 'Bearer error="invalid_token", error_description="the token was revoked"');
        return;
      }
      await next();
    });
    koa.use(verifier.koa({ scopes: ['demo.read'] }));
    koa.use(async (ctx) => {
      ctx.body = { ok: true };
    });
    const server = createServer({ cert: s.pki.server.pem + s.pki.intermediate.pem, key: s.pki.server.keyPem, requestCert: true, rejectUnauthorized: false }, koa.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `https://localhost:${(server.address() as AddressInfo).port}/orders`;
    close = async () => {
      await verifier.close();
      await new Promise((r) => server.close(r));
    };
  });
  afterAll(() => close?.());

  it('IC-8: the rejected token is dropped, a fresh one is fetched, and the request is sent again once', async () => {
    const c = client(app);
    const first = await c.getToken({ resource: API, scope: 'demo.read' });
    revoked.add(first.accessToken);
    seen.length = 0;
    const res = await c.fetch(url, { method: 'POST', body: 'order=1', headers: { 'content-type': 'text/plain' }, resource: API, scope: 'demo.read' });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.token).toBe(first.accessToken);
    expect(seen[1]!.token).not.toBe(first.accessToken);
    expect(seen.map((r) => r.thumbprint)).toEqual([x5tS256(app.der), x5tS256(app.der)]);
    expect((await c.getToken({ resource: API, scope: 'demo.read' })).accessToken).toBe(seen[1]!.token);
  });

  it('a second 401 is returned as it is (one retry only); a streamed body is not sent again', async () => {
    const c = client(app);
    seen.length = 0;
    revokeEverything = true;
    try {
      const res = await c.fetch(url, { resource: API, scope: 'demo.read' });
      expect(res.status).toBe(401);
      expect(seen).toHaveLength(2);
    } finally {
      revokeEverything = false;
    }
    seen.length = 0;
    const token = await c.getToken({ resource: API, scope: 'demo.read' });
    revoked.add(token.accessToken);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('order=2'));
        controller.close();
      },
    });
    const res = await c.fetch(url, { method: 'POST', body: stream, duplex: 'half', resource: API, scope: 'demo.read' });
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(1);
  });
});

describe('private_key_jwt', () => {
  let agentKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    agentKey = pair.privateKey as CryptoKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'agent-key-1', use: 'sig', alg: 'ES256' };
    await s.admin.addClient({ clientId: 'agent', privateKeyJwtJwks: JSON.stringify({ keys: [publicJwk] }), scopes: ['demo.read'], defaultResource: API }, 'test');
  });

  it('BT-2: a private_key_jwt client gets a token bound to the certificate it connected with; each request signs a new assertion (the server refuses a replayed one)', async () => {
    const cert = await selfSigned({ subject: [{ CN: ['agent instance 1'] }] });
    const privateJwk = { ...(await exportJWK(agentKey)), alg: 'ES256', kid: 'agent-key-1' };
    for (const key of [agentKey, privateJwk]) {
      const c = createTokenClient({
        issuer: s.issuer,
        clientId: 'agent',
        auth: { privateKeyJwt: { key, alg: 'ES256', kid: 'agent-key-1' } },
        credentials: { cert: cert.pem, key: cert.keyPem },
        tls: { ca: s.pki.root.pem },
      });
      clients.push(c);
      const token = await c.getToken({ resource: API });
      await expectIssuedToken(
        s,
        { status: 200, body: { access_token: token.accessToken, token_type: 'Bearer', scope: token.scope } },
        { clientId: 'agent', presented: cert, scopes: ['demo.read'], aud: API },
      );
      expect((await c.getToken({ resource: API, forceRefresh: true })).accessToken).not.toBe(token.accessToken);
    }
  });

  it('SIGNING_KEY_UNREADABLE: a signing key that does not import is reported on the token request', async () => {
    const cert = await selfSigned({ subject: [{ CN: ['agent instance 2'] }] });
    const c = client(cert, { clientId: 'agent', credentials: { cert: cert.pem, key: cert.keyPem }, auth: { privateKeyJwt: { key: 'not a key', alg: 'ES256' } } });
    expect((await caught(c.getToken({ resource: API }))).code).toBe('SIGNING_KEY_UNREADABLE');
  });
});
