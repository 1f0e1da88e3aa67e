/**
 * Composition root: open the store → migrate → TLS material → listeners, from a loaded configuration
 * (config/isolated.ts for `certbound serve`, loadConfig elsewhere). Only this file and cli/ read
 * process.env.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config/schema.js';
import { prepareTls } from './server/bootstrap.js';
import { type ServerHandle, startServer } from './server/index.js';
import { migrateOrRequireCurrent, openDatabase, type Db } from './store/index.js';

export interface RunningServer {
  handle: ServerHandle;
  db: Db;
  config: Config;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'certbound' } });
}

/** Starts certbound from a loaded configuration; prints the quick-start lines in development. */
export async function serve(config: Config, logger = createLogger(config), print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<RunningServer> {
  const db = openDatabase(config.database);
  try {
    const applied = await migrateOrRequireCurrent(db, config.migrateOnStart);
    if (applied.length) logger.info({ applied }, 'database migrated');
    // The admin use cases are needed here only in development (first signing key, dev PKI): loaded then.
    const admin = async () => (await import('./admin/service.js')).createAdminService({ db, keyEncryptionKey: config.keyEncryptionKey, signingAlg: config.signingAlg, outboundCaFile: config.outboundCaFile });
    if (config.env === 'development') {
      if (await (await admin()).ensureActiveKey('system:dev-bootstrap')) logger.info('created the first signing key');
    }
    const { tls, dev } = await prepareTls(config, db, admin, logger);
    const handle = await startServer({ config, db, logger, tls });
    logger.info({ issuer: config.issuer, main: handle.mainUrl, mtls: handle.mtlsUrl, ...(config.adminPort === undefined ? {} : { admin: handle.adminUrl }), database: config.database.client }, 'certbound is listening');
    if (dev) {
      print('');
      print(`certbound (development) — issuer ${config.issuer}`);
      print(`  discovery: ${config.issuer}/.well-known/oauth-authorization-server`);
      print(`  mTLS token endpoint: ${config.mtlsUrl}/token`);
      print(`  dev PKI: ${dev.dir}${dev.created ? ' (created now)' : ''}`);
      print('  Get a certificate-bound token with the demo client certificate:');
      print(`  curl --cacert ${dev.caPath} --cert ${dev.clientCertPath} --key ${dev.clientKeyPath} -d grant_type=client_credentials -d client_id=demo-client ${config.mtlsUrl}/token`);
      print('');
    }
    return {
      handle,
      db,
      config,
      async close() {
        await handle.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

