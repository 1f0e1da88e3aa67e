/**
 * Baseline for the refresh_token grant: bare oidc-provider 9 doing what certbound does for a
 * confidential code-flow client's refresh, written the simplest correct way a user would write it:
 * - one static, in-memory `tls_client_auth` client (`tls_client_auth_san_dns`) with the
 *   authorization_code and refresh_token grants;
 * - grants and refresh tokens kept where BENCH_STORE says: a SQLite file or a PostgreSQL database
 *   through the simplest correct SQL adapter (sql-adapter.ts), or `memory`, oidc-provider's default
 *   memory adapter (development only: lost at every restart, not shared between replicas; the `-info`
 *   rows only);
 * - the three `features.mTLS` hooks read the TLS socket directly (Node verified the chain in the
 *   handshake against the CA given to the https server), tokens bound to the certificate;
 * - refresh tokens rotated on every use, as certbound's are;
 * - one static resource server (RFC 8707) issuing ES256 `at+jwt` access tokens;
 * - any account id is an account (certbound takes it from the upstream provider).
 * The refresh tokens a run starts from are minted here at start-up (bench/lib/refresh-tokens.ts) and
 * written to BENCH_REFRESH_TOKENS_FILE.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { mtlsServerOptions, requiredEnv, serveAsChild } from '../lib/child.js';
import { BENCH_REDIRECT_URI, mintRefreshTokens } from '../lib/refresh-tokens.js';
import { openSqlAdapter } from './sql-adapter.js';

const port = Number(requiredEnv('BENCH_PORT'));
const issuer = requiredEnv('BENCH_ISSUER');
const resource = requiredEnv('BENCH_RESOURCE');
const scopes = requiredEnv('BENCH_SCOPES').split(' ');
const client = JSON.parse(requiredEnv('BENCH_CLIENT')) as { clientId: string; sanDns: string; thumbprint: string };
const signingJwk = JSON.parse(readFileSync(requiredEnv('BENCH_SIGNING_JWK_FILE'), 'utf8'));

const store = requiredEnv('BENCH_STORE');
const database = store === 'memory' ? undefined : await openSqlAdapter(store);

const peer = (ctx: KoaContextWithOIDC) => (ctx.socket as TLSSocket).getPeerX509Certificate();

const configuration: Configuration = {
  ...(database ? { adapter: database.Adapter as unknown as Configuration['adapter'] } : {}),
  clients: [
    {
      client_id: client.clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: client.sanDns,
      tls_client_certificate_bound_access_tokens: true,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [BENCH_REDIRECT_URI],
      scope: scopes.join(' '),
    },
  ],
  jwks: { keys: [signingJwk] },
  clientAuthMethods: ['tls_client_auth'],
  responseTypes: ['code'],
  scopes,
  claims: {},
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
    token_endpoint_auth_method: 'tls_client_auth',
  },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  // Refresh tokens for the clients registered with the grant, rotated on every use, not tied to the browser session.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  expiresWithSession: async () => false,
  features: {
    devInteractions: { enabled: false },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      getCertificate: (ctx) => peer(ctx) as unknown as string,
      certificateAuthorized: (ctx) => (ctx.socket as TLSSocket).authorized,
      certificateSubjectMatches(ctx, property, expected) {
        const cert = peer(ctx);
        if (!cert) return false;
        switch (property) {
          case 'tls_client_auth_san_dns':
            return cert.checkHost(expected, { subject: 'never', wildcards: false }) === expected;
          case 'tls_client_auth_san_ip':
            return cert.checkIP(expected) === expected;
          case 'tls_client_auth_san_email':
            return cert.checkEmail(expected, { subject: 'never' }) === expected;
          default:
            return false;
        }
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: scopes.join(' '), audience: resource, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
    },
  },
};

const provider = new Provider(issuer, configuration);
const tokens = await mintRefreshTokens(provider, {
  clientId: client.clientId,
  resource,
  scope: scopes.join(' '),
  thumbprint: client.thumbprint,
  count: Number(requiredEnv('BENCH_REFRESH_TOKENS')),
});
writeFileSync(requiredEnv('BENCH_REFRESH_TOKENS_FILE'), JSON.stringify(tokens));
const server = createServer(mtlsServerOptions(), provider.callback());
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

serveAsChild({ mtls: (server.address() as AddressInfo).port }, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await database?.close();
});
