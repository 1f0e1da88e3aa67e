/**
 * The HTTPS shell shared by both resource servers of the verifier scenarios, so that the only
 * difference between them is the function that checks the request: `GET /jwks` publishes the
 * signing key (fetched once by either side), every other request is answered 200 when `check`
 * accepts it and 401 otherwise.
 *
 * The same process also runs `check` in a loop on synthetic requests when the harness asks
 * (`loop` messages): the `-inprocess` rows, the verification alone without HTTP and TLS.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mtlsServerOptions, requiredEnv } from './child.js';
import { percentileSorted, type RoundResult } from './stats.js';
import { nextStart, type TokenUse, tokenIndex } from './tokens.js';

export interface ResourceServerShell {
  server: Server;
  port: number;
  jwksUri: string;
  /** The CA (PEM) of the test PKI, to trust this very server when fetching the JWKS. */
  ca: string;
  issuer: string;
  audience: string;
  close(): Promise<void>;
}

/** The body of an accepted request. */
export const okBody = (clientId: string): string => `{"ok":true,"client_id":${JSON.stringify(clientId)}}`;
/** The headers of an accepted request. */
export const OK_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;
/** Idle keep-alive connections stay open this long (the load generator keeps its pool for a whole run). */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export async function startResourceServer(check: (req: IncomingMessage) => Promise<string | undefined>): Promise<ResourceServerShell> {
  const tls = mtlsServerOptions();
  const { ca } = tls;
  const jwks = readFileSync(requiredEnv('BENCH_JWKS_FILE'), 'utf8');
  const server = createServer(tls, (req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks);
      return;
    }
    check(req).then(
      (clientId) => {
        if (clientId === undefined) res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        else res.writeHead(200, OK_HEADERS).end(okBody(clientId));
      },
      () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}'),
    );
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve) => server.listen(Number(requiredEnv('BENCH_PORT')), '127.0.0.1', resolve));
  serveLoops(check, new X509Certificate(readFileSync(requiredEnv('BENCH_CLIENT_CERT'))));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    jwksUri: `https://localhost:${port}/jwks`,
    ca,
    issuer: requiredEnv('BENCH_ISSUER'),
    audience: requiredEnv('BENCH_RESOURCE'),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface LoopMessage {
  type: 'loop';
  id: number;
  durationMs: number;
  concurrency: number;
  use: TokenUse;
}

/**
 * Answers `tokens` and `loop` messages: `check` called on synthetic requests (the Authorization
 * header and a socket presenting the client certificate) by `concurrency` workers for `durationMs`.
 */
function serveLoops(check: (req: IncomingMessage) => Promise<string | undefined>, clientCertificate: X509Certificate): void {
  let pool: string[] = [];
  let cursor = 0;
  const socket = { getPeerX509Certificate: () => clientCertificate, getPeerCertificate: () => ({ raw: clientCertificate.raw }) };
  async function loop(m: LoopMessage): Promise<RoundResult> {
    const latencies = new Float64Array(4_000_000);
    let count = 0;
    let errors = 0;
    let seq = 0;
    const start = cursor;
    const began = performance.now();
    const deadline = began + m.durationMs;
    const worker = async () => {
      while (performance.now() < deadline) {
        const authorization = `Bearer ${pool[tokenIndex(seq++, start, m.use, pool.length)]}`;
        const req = { method: 'GET', url: '/orders', headers: { authorization }, rawHeaders: ['Authorization', authorization], socket } as unknown as IncomingMessage;
        const t0 = performance.now();
        const ok = await check(req).catch(() => undefined);
        if (ok === undefined) errors++;
        else if (count < latencies.length) latencies[count++] = performance.now() - t0;
      }
    };
    await Promise.all(Array.from({ length: m.concurrency }, worker));
    const elapsed = performance.now() - began;
    cursor = nextStart(seq, start, m.use);
    const sorted = latencies.subarray(0, count).sort();
    return { rate: (count / elapsed) * 1000, p50Ms: percentileSorted(sorted, 50), p99Ms: percentileSorted(sorted, 99), errors, requests: count + errors };
  }
  process.on('message', (message: unknown) => {
    const m = message as { type?: string; id?: number; tokens?: string[] };
    if (m.type === 'tokens') {
      pool = m.tokens ?? [];
      cursor = 0;
      process.send?.({ type: 'done', id: m.id });
    } else if (m.type === 'loop') {
      loop(m as LoopMessage).then(
        (result) => process.send?.({ type: 'done', id: m.id, result }),
        (err: Error) => process.send?.({ type: 'done', id: m.id, error: err.message }),
      );
    }
  });
}
