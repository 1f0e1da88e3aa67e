/**
 * Baseline for issuance: bare oidc-provider 9 doing what certbound does for `client_credentials`, written
 * the simplest correct way a user would write it themselves:
 * - one static, in-memory `tls_client_auth` client (`tls_client_auth_san_dns`), the default memory adapter;
 * - the three `features.mTLS` hooks read the TLS socket directly (Node verified the chain in the
 *   handshake against the CA given to the https server);
 * - one static resource server (RFC 8707) issuing ES256 `at+jwt` access tokens bound to the certificate.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { mtlsServerOptions, requiredEnv, serveAsChild } from '../lib/child.js';

const port = Number(requiredEnv('BENCH_PORT'));
const issuer = requiredEnv('BENCH_ISSUER');
const resource = requiredEnv('BENCH_RESOURCE');
const scopes = requiredEnv('BENCH_SCOPES').split(' ');
const client = JSON.parse(requiredEnv('BENCH_CLIENT')) as { clientId: string; sanDns: string };
const signingJwk = JSON.parse(readFileSync(requiredEnv('BENCH_SIGNING_JWK_FILE'), 'utf8'));

const peer = (ctx: KoaContextWithOIDC) => (ctx.socket as TLSSocket).getPeerX509Certificate();

const configuration: Configuration = {
  clients: [
    {
      client_id: client.clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: client.sanDns,
      tls_client_certificate_bound_access_tokens: true,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: scopes.join(' '),
    },
  ],
  jwks: { keys: [signingJwk] },
  clientAuthMethods: ['tls_client_auth'],
  responseTypes: ['code'],
  scopes,
  claims: {},
  clientDefaults: { grant_types: ['client_credentials'], response_types: [], id_token_signed_response_alg: 'ES256', token_endpoint_auth_method: 'tls_client_auth' },
  findAccount: async () => undefined,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
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
const server = createServer(mtlsServerOptions(), provider.callback());
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

serveAsChild({ mtls: (server.address() as AddressInfo).port }, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
