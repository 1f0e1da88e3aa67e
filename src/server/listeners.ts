/**
 * The HTTPS listeners: the main one (discovery, JWKS, health, metrics; no client certificate
 * requested), the mTLS one (token, introspection, revocation, and /admin unless it has its own
 * listener; a client certificate is requested and its chain verified by OpenSSL against the trust
 * anchors, but not required, so that errors are OAuth errors rather than handshake failures), and the
 * optional admin listener (CERTBOUND_ADMIN_PORT).
 */
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/index.js';
import { CertboundError } from '../errors/index.js';
import { clearCertificateVerifyErrors } from './verify-errors.js';

/** The listeners: main (no client certificate), mTLS, and the optional admin listener. */
export type Listener = 'main' | 'mtls' | 'admin';

export interface ServerTls {
  /** PEM: server certificate followed by its intermediates. */
  cert: string;
  key: string;
}

export interface ListenersOptions {
  config: Pick<Config, 'host' | 'port' | 'mtlsPort' | 'adminPort' | 'mtlsUrl'>;
  tls: ServerTls;
  /** What the listeners that ask for a client certificate trust now: the anchors' PEM, and CRLs when OpenSSL checks them. */
  trust(): { ca: string[]; crl?: string[] };
}

export interface Listeners {
  /** Which listener serves /admin: the mTLS one, or the admin listener. */
  readonly adminListener: Listener;
  /** Sets the request handler of each listener (before {@link listen}). */
  handle(handlerFor: (listener: Listener) => (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Whether `server` (a socket's `server`) is the main listener. */
  isMain(server: unknown): boolean;
  /** Opens every listener; one that cannot open closes the others and throws ERR_LISTEN. */
  listen(): Promise<void>;
  /** The bound ports and base URLs (after {@link listen}). */
  urls(): { mainUrl: string; mtlsUrl: string; adminUrl: string; mainPort: number; mtlsPort: number };
  /** The base URL /admin is served at, as the configuration names it (the wrong-listener answer). */
  adminBaseUrl(): string;
  /** Applies the current trust (anchors, CRLs) to new handshakes. */
  refreshTrust(): void;
  close(): Promise<void>;
}

/** Listens; a port that is taken or not allowed is explained with the setting that chose it. */
function listenOn(server: Server, port: number, host: string, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        const what =
          err.code === 'EADDRINUSE' ? 'is already in use by another process' : err.code === 'EACCES' ? 'may not be opened by this user' : 'is not an address of this host';
        reject(
          new CertboundError('ERR_LISTEN', `Cannot listen on ${host}:${port} (${setting}): the ${err.code === 'EADDRNOTAVAIL' ? 'address' : 'port'} ${what}.`, {
            status: 500,
            cause: err,
            hint: `Stop the other process, or choose another port with ${setting} (CERTBOUND_HOST for the address).`,
          }),
        );
      } else reject(err);
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function createListeners({ config, tls, trust }: ListenersOptions): Listeners {
  const clientCertificateOptions = () => ({
    cert: tls.cert,
    key: tls.key,
    // SC-5: only the configured trust anchors, never the system store (an empty list trusts nothing).
    ...trust(),
    minVersion: 'TLSv1.2' as const,
  });
  const mainServer = createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
  const mtlsServer = createHttpsServer({ ...clientCertificateOptions(), requestCert: true, rejectUnauthorized: false });
  // CERTBOUND_ADMIN_PORT: /admin on a listener of its own, asking for a client certificate like the mTLS one.
  const adminServer = config.adminPort === undefined ? undefined : createHttpsServer({ ...clientCertificateOptions(), requestCert: true, rejectUnauthorized: false });
  const all = [mainServer, mtlsServer, ...(adminServer ? [adminServer] : [])];
  const askingForCertificates = [mtlsServer, ...(adminServer ? [adminServer] : [])];
  for (const s of all) {
    s.keepAliveTimeout = 30_000;
    s.headersTimeout = 35_000;
    // No TLS 1.2 renegotiation: a connection keeps the client certificate of its handshake, which the
    // mTLS hooks read once per connection (TLS 1.3 has no renegotiation at all).
    s.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  }
  // A client certificate OpenSSL could not verify must still get an HTTP answer (verify-errors.ts).
  for (const s of askingForCertificates) s.on('secureConnection', clearCertificateVerifyErrors);

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let ports: { main: number; mtls: number; admin: number | undefined } | undefined;

  return {
    adminListener: adminServer ? 'admin' : 'mtls',
    handle(handlerFor) {
      mainServer.on('request', handlerFor('main'));
      mtlsServer.on('request', handlerFor('mtls'));
      adminServer?.on('request', handlerFor('admin'));
    },
    isMain: (server) => server === mainServer,
    async listen() {
      try {
        const main = await listenOn(mainServer, config.port, config.host, 'CERTBOUND_PORT');
        const mtls = await listenOn(mtlsServer, config.mtlsPort, config.host, 'CERTBOUND_MTLS_PORT');
        const admin = adminServer ? await listenOn(adminServer, config.adminPort!, config.host, 'CERTBOUND_ADMIN_PORT') : undefined;
        ports = { main, mtls, admin };
      } catch (err) {
        // A listener that could not open leaves nothing behind.
        for (const s of all) if (s.listening) s.close();
        throw err;
      }
    },
    urls() {
      const p = ports!;
      return {
        mainUrl: `https://${host}:${p.main}`,
        mtlsUrl: `https://${host}:${p.mtls}`,
        mainPort: p.main,
        mtlsPort: p.mtls,
        adminUrl: p.admin === undefined ? `https://${host}:${p.mtls}` : `https://${host}:${p.admin}`,
      };
    },
    adminBaseUrl: () => (ports?.admin === undefined ? config.mtlsUrl : `https://${host}:${ports.admin}`),
    refreshTrust() {
      for (const s of askingForCertificates) s.setSecureContext(clientCertificateOptions());
    },
    async close() {
      await Promise.all(
        all.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
