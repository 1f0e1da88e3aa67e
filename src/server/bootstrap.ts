import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AdminService } from '../app/service.js';
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { parseCertificate, parsePemCertificates } from '../pki/index.js';
import { clients, type Queryable, resourceServers, trustAnchors } from '../store/index.js';
import type { ServerTls } from './listeners.js';
import { load } from './loaders.js';

import { DEMO_CLIENT_ID, DEMO_RESOURCE, DEMO_SCOPES } from '../app/dev-demo.js';

export { DEMO_CLIENT_ID, DEMO_RESOURCE, DEMO_SCOPES };

function readPemFile(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`${variable}: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause, hint: 'Check the path and the file permissions.' });
  }
}

export interface DevBootstrapInfo {
  dir: string;
  caPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  created: boolean;
}

/**
 * Returns the server's TLS material. With CERTBOUND_TLS_CERT/KEY it reads them; otherwise (development
 * only; config validation refuses this in production) it creates, once, a development PKI under the
 * data directory, trusts its root, and registers a demo resource server and the `demo-client`.
 */
export async function prepareTls(config: Config, db: Queryable, loadAdmin: () => Promise<AdminService>, logger: Logger): Promise<{ tls: ServerTls; dev?: DevBootstrapInfo }> {
  if (config.tlsCert && config.tlsKey) {
    const cert = readPemFile(config.tlsCert, 'CERTBOUND_TLS_CERT');
    const key = readPemFile(config.tlsKey, 'CERTBOUND_TLS_KEY');
    try {
      parsePemCertificates(cert);
    } catch (cause) {
      throw new ConfigError(`CERTBOUND_TLS_CERT: ${config.tlsCert} is not a PEM certificate chain: ${(cause as Error).message}`, { cause });
    }
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
      throw new ConfigError(`CERTBOUND_TLS_KEY: ${config.tlsKey} does not contain a PEM private key`);
    }
    return { tls: { cert, key } };
  }
  const dir = path.join(config.dataDir, 'dev-pki');
  let created = false;
  if (!existsSync(path.join(dir, 'server.key'))) {
    // loaded only here: @peculiar/x509 costs ~10 MB of memory a production server never needs
    const { generateDevPki } = await load.devPki();
    await generateDevPki(dir);
    created = true;
    logger.info({ event: 'dev_pki_created', dir }, 'created a development PKI');
  }
  const admin = await loadAdmin();
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  const caPem = read('ca.pem');
  const actor = 'system:dev-bootstrap';
  const rootSpki = parseCertificate(parsePemCertificates(caPem)[0]!).spkiSha256;
  if (!(await trustAnchors.findBySpki(db, rootSpki))) {
    const name = (await trustAnchors.findByName(db, 'dev-root')) ? `dev-root-${Date.now()}` : 'dev-root';
    await admin.addTrustAnchor({ name, pem: caPem, environment: 'dev' }, actor);
  }
  if (!(await resourceServers.find(db, DEMO_RESOURCE))) {
    await admin.addResourceServer({ identifier: DEMO_RESOURCE, scopes: DEMO_SCOPES, tokenFormat: 'jwt' }, actor);
  }
  if (!(await clients.find(db, DEMO_CLIENT_ID))) {
    const anchor = await trustAnchors.findBySpki(db, rootSpki);
    await admin.addClient(
      {
        clientId: DEMO_CLIENT_ID,
        mapping: { kind: 'san_dns', value: (await load.devPki()).DEV_CLIENT_SAN, trustAnchor: anchor?.name },
        scopes: DEMO_SCOPES,
        defaultResource: DEMO_RESOURCE,
      },
      actor,
    );
  }
  return {
    tls: { cert: read('server.pem'), key: read('server.key') },
    dev: { dir, caPath: path.join(dir, 'ca.pem'), clientCertPath: path.join(dir, 'client.pem'), clientKeyPath: path.join(dir, 'client.key'), created },
  };
}
