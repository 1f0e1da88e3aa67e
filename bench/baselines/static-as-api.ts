/**
 * The server of the client rows: a bare Node https mTLS server that plays both the authorization
 * server (RFC 8414 metadata with `mtls_endpoint_aliases`, and a token endpoint answering one fixed
 * token bound to the bench client certificate) and the API (every other request: a static reply).
 * It does the same work for both sides of a row, so what the rows compare is the client side alone.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mtlsServerOptions, requiredEnv, serveAsChild } from '../lib/child.js';

const port = Number(requiredEnv('BENCH_PORT'));
const token = requiredEnv('BENCH_ACCESS_TOKEN');
const issuer = `https://localhost:${port}`;
const metadata = JSON.stringify({
  issuer,
  token_endpoint: `${issuer}/token`,
  mtls_endpoint_aliases: { token_endpoint: `${issuer}/token` },
  tls_client_certificate_bound_access_tokens: true,
});
const tokenResponse = JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600, scope: requiredEnv('BENCH_SCOPES') });
const reply = JSON.stringify({ ok: true, orders: [] });
const refused = JSON.stringify({ error: 'invalid_client' });

const server = createServer(mtlsServerOptions(), (req, res) => {
  req.resume();
  req.on('end', () => {
    if (!(req.socket as TLSSocket).authorized) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(refused);
      return;
    }
    const body = req.url === '/.well-known/oauth-authorization-server' ? metadata : req.url === '/token' ? tokenResponse : reply;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
  });
});
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

serveAsChild({ mtls: (server.address() as AddressInfo).port }, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
