/**
 * Test harness: a minimal RFC 8414 authorization server over real HTTPS (test PKI), tokens signed with
 * jose, and an HTTPS resource server (`requestCert: true, rejectUnauthorized: false`) using the verifier.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { Agent, fetch } from 'undici';
import type { VerifiedRequest, Verifier } from '../../src/verifier/index.js';
import { x5tS256 } from '../../src/pki/thumbprint.js';
import { createTestPki, type Issued, type TestPki } from '../helpers/pki.js';

export const AUDIENCE = 'https://api.example.com';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createSigningKey(kid: string = randomUUID(), alg = 'ES256', extra: Partial<JWK> = {}): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig', ...extra } };
}

export interface TestAs {
  issuer: string;
  port: number;
  /** Requests per path. */
  hits: Map<string, number>;
  /** Keys published at /jwks (mutable: rotate by pushing). */
  jwks: JWK[];
  key: SigningKey;
  /** Introspection answers by token; absent → inactive. */
  introspection: Map<string, Record<string, unknown>>;
  /** Last introspection request seen: auth method details. */
  lastIntrospection?: { path: string; body: URLSearchParams; authorization?: string; peerX5t?: string };
  /** Override metadata members (e.g. to break `issuer`). */
  metadata: Record<string, unknown>;
  /** Paths answering 404 (to test discovery fallbacks) or 500. */
  failing: Map<string, number>;
  /** Signs an at+jwt; `claims` override the defaults, `null` deletes one. */
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>, key?: SigningKey): Promise<string>;
  close(): Promise<void>;
}

function hit(map: Map<string, number>, path: string): void {
  map.set(path, (map.get(path) ?? 0) + 1);
}

export async function startAs(pki: TestPki, options: { path?: string; aliasClientX5t?: () => string | undefined } = {}): Promise<TestAs> {
  const key = await createSigningKey('as-key-1');
  const prefix = options.path ?? '';
  const state: Omit<TestAs, 'issuer' | 'port' | 'sign' | 'close'> = {
    hits: new Map(),
    jwks: [key.publicJwk],
    key,
    introspection: new Map(),
    metadata: {},
    failing: new Map(),
  };
  let issuer = '';
  const server = createHttpsServer({ key: pki.server.keyPem, cert: pki.server.pem + pki.intermediate.pem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hit(state.hits, path);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const failing = state.failing.get(path);
    if (failing) return send(failing, { error: 'failing' });
    if (path === `/.well-known/oauth-authorization-server${prefix}`) {
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        introspection_endpoint: `${issuer}/introspect`,
        mtls_endpoint_aliases: { introspection_endpoint: `${issuer}/mtls/introspect` },
        ...state.metadata,
      });
    }
    if (path === `${prefix}/.well-known/openid-configuration`) {
      return send(200, { issuer, jwks_uri: `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect`, ...state.metadata });
    }
    if (path === `${prefix}/jwks`) return send(200, { keys: state.jwks });
    if (path === `${prefix}/introspect` || path === `${prefix}/mtls/introspect`) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const peer = (req.socket as TLSSocket).getPeerX509Certificate?.();
        const seen = { path, body, authorization: req.headers.authorization, peerX5t: peer ? x5tS256(peer.raw) : undefined };
        (state as TestAs).lastIntrospection = seen;
        const token = body.get('token') ?? '';
        send(200, state.introspection.get(token) ?? { active: false });
      });
      return;
    }
    send(404, { error: 'not_found' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  issuer = `https://127.0.0.1:${port}${prefix}`;
  const as: TestAs = Object.assign(state, {
    issuer,
    port,
    async sign(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signer: SigningKey = key) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: issuer,
        aud: AUDIENCE,
        exp: now + 300,
        iat: now,
        sub: 'user-1',
        client_id: 'client-1',
        jti: randomUUID(),
        scope: 'read write',
        ...claims,
      };
      for (const [k, v] of Object.entries(payload)) if (v === null) delete payload[k];
      const protectedHeader = { alg: 'ES256', typ: 'at+jwt', kid: signer.kid, ...header };
      for (const [k, v] of Object.entries(protectedHeader)) if (v === null) delete (protectedHeader as Record<string, unknown>)[k];
      return new SignJWT(payload as JWTPayload).setProtectedHeader(protectedHeader as { alg: string }).sign(signer.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return as;
}

export interface TestRs {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An HTTPS resource server asking for (but not validating, IC-7) a client certificate; the verifier's
 * express() middleware guards it, and 200 answers carry `req.auth`.
 */
export async function startRs(pki: TestPki, verifier: Verifier, options: { tls?: boolean; scopes?: string[] } = {}): Promise<TestRs> {
  const middleware = verifier.express(options.scopes ? { scopes: options.scopes } : {});
  const handler = (req: IncomingMessage & { auth?: VerifiedRequest }, res: ServerResponse) =>
    middleware(req, res, (err) => {
      if (err) {
        res.statusCode = 500;
        res.end(String(err));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.auth));
    });
  const server: Server =
    options.tls === false
      ? createHttpServer(handler)
      : createHttpsServer({ key: pki.server.keyPem, cert: pki.server.pem + pki.intermediate.pem, requestCert: true, rejectUnauthorized: false }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `${options.tls === false ? 'http' : 'https'}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Calls the RS with undici, presenting `client` (or no certificate). */
export async function call(
  rs: TestRs,
  pki: TestPki,
  options: { token?: string; authorization?: string; client?: Issued; headers?: Record<string, string>; path?: string } = {},
): Promise<CallResult> {
  const dispatcher = new Agent({
    connect: { ca: pki.root.pem, ...(options.client ? { cert: options.client.pem, key: options.client.keyPem } : {}) },
  });
  try {
    const headers: Record<string, string> = { ...options.headers };
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    else if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${rs.url}${options.path ?? '/resource'}`, { headers, dispatcher });
    const text = await response.text();
    return { status: response.status, headers: response.headers as unknown as Headers, body: text ? JSON.parse(text) : {} };
  } finally {
    await dispatcher.close();
  }
}

export { createTestPki, type Issued, type TestPki };

/** A minimal request object for verify() unit tests (no network), with an optional TLS peer certificate. */
export function fakeRequest(options: {
  authorization?: string | string[];
  cert?: Buffer;
  url?: string;
  headers?: Array<[string, string]>;
  remoteAddress?: string;
  body?: unknown;
}) {
  const rawHeaders: string[] = [];
  const auth = options.authorization === undefined ? [] : Array.isArray(options.authorization) ? options.authorization : [options.authorization];
  for (const value of auth) rawHeaders.push('Authorization', value);
  for (const [k, v] of options.headers ?? []) rawHeaders.push(k, v);
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!;
  return {
    headers,
    rawHeaders,
    url: options.url ?? '/resource',
    body: options.body,
    socket: {
      remoteAddress: options.remoteAddress ?? '127.0.0.1',
      getPeerX509Certificate: () => (options.cert ? { raw: options.cert } : undefined),
    },
  };
}
