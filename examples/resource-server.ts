/**
 * An example resource server (koa) protected by certbound/verifier: every request must carry an access
 * token from the certbound issuer AND come over a TLS connection with the certificate the token is
 * bound to (RFC 8705 §3). Start certbound with `npm start`, then this with `npm run example:rs`.
 *
 * Environment (defaults match `npm start` in development mode):
 *   CERTBOUND_ISSUER   issuer to trust                 (https://localhost:8443)
 *   RS_AUDIENCE        this API's resource identifier  (https://demo-api.certbound.test)
 *   RS_CA              CA file for the AS and clients  (data/dev-pki/ca.pem)
 *   RS_CERT / RS_KEY   this server's certificate/key   (data/dev-pki/server.pem / server.key)
 *   RS_PORT            port on 127.0.0.1               (9443)
 *   RS_CLIENT_CERT_HEADER  behind a TLS-terminating proxy: forwarded-certificate format
 *                      (rfc9440 | nginx | xfcc | alb | alb-passthrough | traefik | base64, optionally :Header-Name)
 *   RS_TRUSTED_PROXIES comma-separated addresses/CIDRs of that proxy (required with RS_CLIENT_CERT_HEADER)
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import Koa from 'koa';
import { type CertificateSource, createVerifier, type ForwardedFormat } from '../src/verifier/index.js';

export interface ExampleOptions {
  issuer: string;
  audience: string;
  ca: string;
  cert: string;
  key: string;
  /** Where the client certificate comes from; default: this TLS connection. */
  certificate?: CertificateSource;
}

/** Builds the example app; exported so the tests run exactly this code. */
export function createExampleApp(options: ExampleOptions) {
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    requireBoundTokens: true,
    tls: { ca: options.ca },
    ...(options.certificate ? { certificate: options.certificate } : {}),
  });
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    await next();
  });
  app.use(verifier.koa({ scopes: ['demo.read'] }));
  app.use(async (ctx) => {
    const auth = ctx.state.auth as { clientId?: string; scopes: string[]; thumbprint?: string };
    ctx.body = { message: `hello ${auth.clientId}`, client_id: auth.clientId, scopes: auth.scopes, 'x5t#S256': auth.thumbprint };
  });
  // IC-7: the RS does not validate the client's chain; requestCert asks for the certificate in the
  // initial handshake (BT-3) and the verifier compares its thumbprint with the token's cnf.
  const server = createServer({ cert: options.cert, key: options.key, requestCert: true, rejectUnauthorized: false }, app.callback());
  return { app, server, verifier };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const env = process.env;
  const read = (f: string) => readFileSync(f, 'utf8');
  const port = Number(env.RS_PORT ?? 9443);
  let certificate: CertificateSource | undefined;
  if (env.RS_CLIENT_CERT_HEADER) {
    const [format, header] = env.RS_CLIENT_CERT_HEADER.split(':');
    const trustedProxies = (env.RS_TRUSTED_PROXIES ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (!trustedProxies.length) throw new Error('RS_CLIENT_CERT_HEADER needs RS_TRUSTED_PROXIES (the proxy addresses whose header is trusted)');
    certificate = { from: 'forwarded', format: format as ForwardedFormat, ...(header ? { header } : {}), trustedProxies };
  }
  const { server } = createExampleApp({
    certificate,
    issuer: env.CERTBOUND_ISSUER ?? 'https://localhost:8443',
    audience: env.RS_AUDIENCE ?? 'https://demo-api.certbound.test',
    ca: read(env.RS_CA ?? 'data/dev-pki/ca.pem'),
    cert: read(env.RS_CERT ?? 'data/dev-pki/server.pem'),
    key: read(env.RS_KEY ?? 'data/dev-pki/server.key'),
  });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`example resource server on https://localhost:${port}/orders (audience ${env.RS_AUDIENCE ?? 'https://demo-api.certbound.test'})\n`);
  });
}
