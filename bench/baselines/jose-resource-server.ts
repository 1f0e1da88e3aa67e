/**
 * Baseline for the verifier: what a resource server writes with bare jose — `jwtVerify` against the
 * issuer's remote JWKS (issuer, audience, ES256, `typ: at+jwt`), then the RFC 8705 §3 binding check:
 * the SHA-256 thumbprint of the TLS client certificate equals `cnf.x5t#S256`. No cache.
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createRemoteJWKSet, customFetch, type FetchImplementation, jwtVerify } from 'jose';
import { Agent, fetch } from 'undici';
import { serveAsChild } from '../lib/child.js';
import { startResourceServer } from '../lib/resource-server.js';

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
let options: { issuer: string; audience: string } | undefined;

const shell = await startResourceServer(async (req) => {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return undefined;
  const { payload } = await jwtVerify(header.slice(7), jwks!, { ...options!, algorithms: ['ES256'], typ: 'at+jwt' });
  const der = (req.socket as TLSSocket).getPeerX509Certificate()?.raw;
  const bound = (payload.cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
  if (!der || typeof bound !== 'string' || createHash('sha256').update(der).digest('base64url') !== bound) return undefined;
  return String(payload.client_id);
});
const dispatcher = new Agent({ connect: { ca: shell.ca } });
jwks = createRemoteJWKSet(new URL(shell.jwksUri), {
  [customFetch]: ((url: string, init: RequestInit) => fetch(url, { ...(init as object), dispatcher })) as unknown as FetchImplementation,
});
options = { issuer: shell.issuer, audience: shell.audience };

serveAsChild({ http: shell.port }, async () => {
  await dispatcher.close();
  await shell.close();
});
