/**
 * The HTTPS shell shared by both resource servers of the verifier scenarios, so that the only
 * difference between them is the function that checks the request: `GET /jwks` publishes the
 * signing key (fetched once by either side), every other request is answered 200 when `check`
 * accepts it and 401 otherwise.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requiredEnv } from './child.js';

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

export async function startResourceServer(check: (req: IncomingMessage) => Promise<string | undefined>): Promise<ResourceServerShell> {
  const ca = readFileSync(requiredEnv('BENCH_CLIENT_CA'), 'utf8');
  const jwks = readFileSync(requiredEnv('BENCH_JWKS_FILE'), 'utf8');
  const ok = (clientId: string) => `{"ok":true,"client_id":${JSON.stringify(clientId)}}`;
  const server = createServer(
    {
      cert: readFileSync(requiredEnv('BENCH_TLS_CERT')),
      key: readFileSync(requiredEnv('BENCH_TLS_KEY')),
      ca,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      if (req.url === '/jwks') {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks);
        return;
      }
      check(req).then(
        (clientId) => {
          if (clientId === undefined) res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
          else res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(ok(clientId));
        },
        () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}'),
      );
    },
  );
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(Number(requiredEnv('BENCH_PORT')), '127.0.0.1', resolve));
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
