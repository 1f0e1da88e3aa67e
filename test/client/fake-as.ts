/**
 * A small authorization server for the client library's tests, over real mTLS with certificates made at
 * test time: it serves metadata and a token endpoint whose answers each test scripts (failures, unbound
 * or foreign-bound JWTs, opaque tokens), and records what it received and which certificate came with it.
 * The real certbound server is used where its behaviour is the point (test/e2e/client/); this one stands
 * in where certbound cannot be made to misbehave.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SignJWT } from 'jose';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import type { TestPki } from '../helpers/pki.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  body: URLSearchParams;
  /** x5t#S256 of the client certificate of the connection; undefined when none was presented. */
  thumbprint: string | undefined;
}

export type Reply = { status: number; json?: unknown; headers?: Record<string, string> } | 'drop-connection';

/** What the token endpoint answers, given the request: a reply, or a token to issue. */
export type TokenScript = (req: ReceivedRequest, n: number) => Reply | Promise<Reply>;

export interface FakeAs {
  issuer: string;
  /** Every request, in order. */
  received: ReceivedRequest[];
  tokenRequests(): ReceivedRequest[];
  /** Replace the token endpoint's behaviour. */
  onToken(script: TokenScript): void;
  /** Replace the metadata (default: RFC 8414 document with an mTLS alias). */
  metadata: Record<string, unknown>;
  /** Status for the RFC 8414 well-known path (e.g. 404 to force the OpenID fallback). */
  rfc8414Status: number;
  /** Status for the OpenID well-known path. */
  openidStatus: number;
  /** A JWT access token (signed with a throwaway key) with these extra claims. */
  jwt(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const signingKey = crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);

export async function startFakeAs(pki: TestPki): Promise<FakeAs> {
  const received: ReceivedRequest[] = [];
  let tokenCount = 0;
  let script: TokenScript = async (req) => ({
    status: 200,
    json: { access_token: await fake.jwt({ cnf: { 'x5t#S256': req.thumbprint } }), token_type: 'Bearer', expires_in: 300 },
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer(
    { cert: pki.server.pem + pki.intermediate.pem, key: pki.server.keyPem, ca: pki.root.pem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const send = (res: ServerResponse, reply: Reply) => {
    if (reply === 'drop-connection') {
      res.socket?.destroy();
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...reply.headers });
    res.end(reply.json === undefined ? '' : JSON.stringify(reply.json));
  };
  async function handle(req: IncomingMessage, res: ServerResponse) {
    let text = '';
    for await (const chunk of req) text += chunk;
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const path = new URL(req.url ?? '/', fake.issuer).pathname;
    const r: ReceivedRequest = { method: req.method ?? '', path, body: new URLSearchParams(text), thumbprint: peer?.raw ? x5tS256(peer.raw) : undefined };
    received.push(r);
    if (path === '/.well-known/oauth-authorization-server')
      return send(res, fake.rfc8414Status === 200 ? { status: 200, json: fake.metadata } : { status: fake.rfc8414Status, json: { error: 'not_found' } });
    if (path === '/.well-known/openid-configuration')
      return send(res, fake.openidStatus === 200 ? { status: 200, json: fake.metadata } : { status: fake.openidStatus, json: { error: 'unavailable' } });
    if (path === '/mtls/token' || path === '/token') return send(res, await script(r, ++tokenCount));
    send(res, { status: 404, json: { error: 'not_found' } });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
  const fake: FakeAs = {
    issuer,
    received,
    tokenRequests: () => received.filter((r) => r.path.endsWith('/token')),
    onToken(next) {
      script = next;
      tokenCount = 0;
    },
    metadata: { issuer, token_endpoint: `${issuer}/token`, mtls_endpoint_aliases: { token_endpoint: `${issuer}/mtls/token` }, tls_client_certificate_bound_access_tokens: true },
    rfc8414Status: 200,
    openidStatus: 200,
    async jwt(claims) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ client_id: 'app', ...claims })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
        .setIssuer(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(crypto.randomUUID())
        .sign((await signingKey).privateKey);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  return fake;
}
