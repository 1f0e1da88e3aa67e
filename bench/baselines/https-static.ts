/**
 * Baseline for fresh connections: a bare Node https server asking for a client certificate (chain
 * verified by OpenSSL against the same CA) and answering every authorized request with a static JSON
 * body the size of a token response. Whatever certbound does above this is the cost of issuing a token.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mtlsServerOptions, requiredEnv, serveAsChild } from '../lib/child.js';

const port = Number(requiredEnv('BENCH_PORT'));
const replyBytes = Number(process.env.BENCH_REPLY_BYTES ?? 700);
const body = JSON.stringify({ access_token: 'x'.repeat(Math.max(0, replyBytes - 80)), expires_in: 600, token_type: 'Bearer', scope: 'bench.read bench.write' }).padEnd(
  replyBytes,
  ' ',
);
const refused = JSON.stringify({ error: 'invalid_client' });

const server = createServer(mtlsServerOptions(), (req, res) => {
  req.resume();
  req.on('end', () => {
    const ok = (req.socket as TLSSocket).authorized;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(ok ? body : refused);
  });
});
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

serveAsChild({ mtls: (server.address() as AddressInfo).port }, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
