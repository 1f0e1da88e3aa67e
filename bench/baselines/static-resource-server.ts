/**
 * The ceiling of the verifier rows (`verifier-reused-vs-static`): a bare Node https mTLS server with the
 * resource servers' TLS options (the same certificate, CA, client-certificate request and keep-alive
 * timeout: lib/child.ts, lib/resource-server.ts) whose handler writes the accepted reply, fixed: the body and headers a
 * resource server sends for the bench client, with no token checked. What a resource server reaches
 * above this is all HTTPS; what it loses below it is the cost of checking the token.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mtlsServerOptions, requiredEnv, serveAsChild } from '../lib/child.js';
import { KEEP_ALIVE_TIMEOUT_MS, OK_HEADERS, okBody } from '../lib/resource-server.js';

const body = okBody(requiredEnv('BENCH_CLIENT_ID'));
const server = createServer(mtlsServerOptions(), (_req, res) => {
  res.writeHead(200, OK_HEADERS).end(body);
});
server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
await new Promise<void>((resolve) => server.listen(Number(requiredEnv('BENCH_PORT')), '127.0.0.1', resolve));

serveAsChild({ http: (server.address() as AddressInfo).port }, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
