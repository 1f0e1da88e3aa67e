/** koa() and express() middleware, HTTP/2 compat requests, TLS 1.3 session resumption (§2.0.7), challenge charset. */
import { once } from 'node:events';
import { connect as http2Connect, createSecureServer } from 'node:http2';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOAuthBody } from '../../src/errors/index.js';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { bearerChallenge } from '../../src/verifier/lib/challenge.js';
import { createVerifier, type Verifier, VerifierError } from '../../src/verifier/index.js';
import { AUDIENCE, call, createTestPki, type Issued, startAs, type TestAs, type TestPki, type TestRs } from './harness.js';

let pki: TestPki;
let as: TestAs;
let alice: Issued;
let verifier: Verifier;

beforeAll(async () => {
  pki = await createTestPki('Middleware');
  as = await startAs(pki);
  alice = await pki.client({ subject: [{ CN: ['alice'] }] });
  verifier = createVerifier({ issuer: as.issuer, audience: AUDIENCE, tls: { ca: pki.root.pem } });
});
afterAll(async () => {
  await verifier.close();
  await as.close();
});

const tlsServerOptions = () => ({ key: pki.server.keyPem, cert: pki.server.pem + pki.intermediate.pem, requestCert: true, rejectUnauthorized: false });

async function listen(server: import('node:net').Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

describe('koa()', () => {
  let rs: TestRs;
  let reached = 0;
  beforeAll(async () => {
    const app = new Koa();
    app.use(verifier.koa({ scopes: ['read'] }));
    app.use((ctx) => {
      reached++;
      ctx.body = ctx.state.auth;
    });
    const server = createHttpsServer(tlsServerOptions(), app.callback());
    const port = await listen(server);
    rs = {
      port,
      url: `https://127.0.0.1:${port}`,
      close: () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  });
  afterAll(() => rs.close());

  it('sets ctx.state.auth and Cache-Control: no-store on success', async () => {
    const res = await call(rs, pki, { token: await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } }), client: alice });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ clientId: 'client-1', scopes: ['read', 'write'], thumbprint: x5tS256(alice.der) });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers a refusal itself: status, WWW-Authenticate, JSON body, no-store; downstream not reached', async () => {
    const before = reached;
    const res = await call(rs, pki, { token: await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="invalid_token", error_description="certificate-bound token requires mTLS"`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'certificate-bound token requires mTLS' });
    expect(reached).toBe(before);
  });

  it('per-middleware scopes → 403 insufficient_scope', async () => {
    const res = await call(rs, pki, { token: await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) }, scope: 'write' }), client: alice });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="read"');
  });

  it('a token in a parsed body as well as the header → 400 invalid_request', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      (ctx.request as { body?: unknown }).body = { access_token: 'x' };
      await next();
    });
    app.use(verifier.koa());
    const server = createHttpsServer(tlsServerOptions(), app.callback());
    const port = await listen(server);
    try {
      const res = await call({ port, url: `https://127.0.0.1:${port}`, close: async () => {} }, pki, {
        token: await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } }),
        client: alice,
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'more than one access token' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('express() with a plain node https server calling (req, res, next)', () => {
  it('calls next() with req.auth on success, never on refusal', async () => {
    const mw = verifier.express();
    let nextCalls = 0;
    const server = createHttpsServer(tlsServerOptions(), (req, res) =>
      mw(req, res, () => {
        nextCalls++;
        res.end(JSON.stringify((req as { auth?: unknown }).auth));
      }),
    );
    const port = await listen(server);
    const rs = { port, url: `https://127.0.0.1:${port}`, close: async () => {} };
    try {
      const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } });
      const ok = await call(rs, pki, { token, client: alice });
      expect(ok.status).toBe(200);
      expect(ok.body.thumbprint).toBe(x5tS256(alice.der));
      expect(ok.headers.get('cache-control')).toBe('no-store');
      const refused = await call(rs, pki, { token });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('cache-control')).toBe('no-store');
      expect(refused.body).toEqual({ error: 'invalid_token', error_description: 'certificate-bound token requires mTLS' });
      expect(nextCalls).toBe(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('HTTP/2 compat requests', () => {
  it('reads the client certificate from the session socket (stream.session.socket)', async () => {
    const server = createSecureServer({ ...tlsServerOptions(), allowHTTP1: false }, (req, res) => {
      verifier.verify(req).then(
        (auth) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(auth));
        },
        (err: VerifierError) => {
          res.writeHead(err.status, { 'www-authenticate': err.wwwAuthenticate ?? 'Bearer' });
          res.end();
        },
      );
    });
    const port = await listen(server);
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } });
    const get = (client: ReturnType<typeof http2Connect>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = client.request({ ':path': '/', authorization: `Bearer ${token}` });
        let body = '';
        let status = 0;
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
        });
        stream.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end();
      });
    const withCert = http2Connect(`https://127.0.0.1:${port}`, { ca: pki.root.pem, cert: alice.pem, key: alice.keyPem });
    const withoutCert = http2Connect(`https://127.0.0.1:${port}`, { ca: pki.root.pem });
    try {
      const ok = await get(withCert);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).thumbprint).toBe(x5tS256(alice.der));
      expect((await get(withoutCert)).status).toBe(401);
    } finally {
      withCert.close();
      withoutCert.close();
      server.close();
    }
  });
});

describe('§2.0.7 TLS session resumption', () => {
  it('the client certificate is still seen on a resumed TLS session', async () => {
    const reused: boolean[] = [];
    const mw = verifier.express();
    const server = createHttpsServer(tlsServerOptions(), (req, res) => {
      reused.push((req.socket as TLSSocket).isSessionReused());
      mw(req, res, () => res.end('ok'));
    });
    const port = await listen(server);
    const agent = new HttpsAgent({ keepAlive: false, maxCachedSessions: 10, ca: pki.root.pem, cert: alice.pem, key: alice.keyPem });
    const token = await as.sign({ cnf: { 'x5t#S256': x5tS256(alice.der) } });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const statuses = [await get(), await get(), await get()];
      expect(statuses).toEqual([200, 200, 200]);
      expect(reused[0]).toBe(false);
      expect(reused.slice(1)).toContain(true);
    } finally {
      agent.destroy();
      server.close();
    }
  });
});

describe('WWW-Authenticate and error body', () => {
  it('error_description and realm keep to the RFC 6750 charset (no quote, no backslash, no control characters)', () => {
    expect(bearerChallenge({ realm: 'a"b\\c', error: 'invalid_token', description: 'bad "thing"\\\n\u00e9' })).toBe(
      'Bearer realm="abc", error="invalid_token", error_description="bad thing"',
    );
    expect(bearerChallenge({})).toBe('Bearer');
    expect(bearerChallenge({ realm: 'r', error: 'insufficient_scope', description: 'd', scope: 'read  "write' })).toBe(
      'Bearer realm="r", error="insufficient_scope", error_description="d", scope="read write"',
    );
  });

  it('VerifierError serializes through toOAuthBody()', () => {
    const err = new VerifierError('ERR_VERIFIER_CERTIFICATE_MISMATCH', {
      status: 401,
      error: 'invalid_token',
      description: 'certificate does not match the token',
      realm: 'api',
      detail: 'internal detail',
    });
    expect(toOAuthBody(err)).toEqual({ status: 401, body: { error: 'invalid_token', error_description: 'certificate does not match the token' } });
    expect(err.message).toBe('certificate does not match the token: internal detail');
    expect(err.name).toBe('VerifierError');
  });
});
