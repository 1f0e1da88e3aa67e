/**
 * Composition root: open the store → migrate → TLS material → listeners, from a loaded configuration
 * (config/isolated.ts for `certbound serve`, loadConfig elsewhere). Only this file and cli/ read
 * process.env. What it loads on demand (knex, the admin use cases) comes from the server's loader table
 * (server/loaders.ts).
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config/schema.js';
import { prepareTls } from './server/bootstrap.js';
import { type ServerHandle, startServer } from './server/index.js';
import { load } from './server/loaders.js';
import { openDriverSql, type DriverSql } from './store/driver.js';
import type { Db } from './store/knex.js';
import { recordsExactlyOurMigrations } from './store/schema-version.js';
import { sqlOf } from './store/sql.js';
import { explainStorageError } from './store/storage-errors.js';

export interface RunningServer {
  handle: ServerHandle;
  /** The server's store connection (the drivers; everything goes through knex once the process opened it). */
  db: DriverSql;
  /** knex on the same database, opened now if the process has not yet (the admin use cases, tests). */
  knex(): Promise<Db>;
  config: Config;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'certbound' } });
}

/** Starts certbound from a loaded configuration; prints the quick-start lines in development. */
export async function serve(config: Config, logger = createLogger(config), print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<RunningServer> {
  // The server reads and writes through the drivers and loads knex only when it needs it: a start that
  // migrates (or refuses a database that is not current), development mode, the admin API. From then
  // on the driver connection hands everything over to knex (store/driver.ts). A server that only issues
  // tokens keeps about 2 MB less live heap, so its peak memory under load is lower (docs/decisions/001-knex-off-the-hot-path.md).
  const db = await openDriverSql(config.database).catch((err: unknown) => {
    throw explainStorageError(err, config.database) ?? err;
  });
  let opening: Promise<Db> | undefined;
  const knex = () =>
    (opening ??= (async () => {
      const { openDatabase } = await load.knex();
      // Serving requests (the admin API): every statement bounded, as on the drivers (docs/reliability.md).
      const k = openDatabase(config.database, { queryTimeouts: true });
      await db.delegateTo(sqlOf(k));
      return k;
    })().catch((err: unknown) => {
      opening = undefined;
      throw err;
    }));
  const closeKnex = async () => {
    const k = await opening?.catch(() => undefined);
    await k?.destroy();
  };
  try {
    if (!(await recordsExactlyOurMigrations(db))) {
      // Migrating takes as long as it takes (a large table, another replica holding the migration lock):
      // on a connection of its own without statement timeouts, closed before anything is served.
      const { migrateOrRequireCurrent, openDatabase } = await load.knex();
      const migrating = openDatabase(config.database);
      try {
        const applied = await migrateOrRequireCurrent(migrating, config.migrateOnStart);
        if (applied.length) logger.info({ event: 'database_migrated', applied }, 'database migrated');
      } finally {
        await migrating.destroy();
      }
    }
    // The admin use cases are needed here only in development (first signing key, dev PKI): loaded then.
    const admin = async () =>
      (await load.adminService()).createAdminService({
        db: await knex(),
        keyEncryptionKey: config.keyEncryptionKey,
        signingAlg: config.signingAlg,
        outboundCaFile: config.outboundCaFile,
        jwksUriAllowedRanges: config.jwksUriAllowedRanges,
      });
    if (config.env === 'development') {
      if (await (await admin()).ensureActiveKey('system:dev-bootstrap')) logger.info({ event: 'signing_key_created' }, 'created the first signing key');
    }
    const { tls, dev } = await prepareTls(config, db, admin, logger);
    const handle = await startServer({ config, db, knex, logger, tls });
    logger.info(
      {
        event: 'listening',
        issuer: config.issuer,
        main: handle.mainUrl,
        mtls: handle.mtlsUrl,
        ...(config.adminPort === undefined ? {} : { admin: handle.adminUrl }),
        database: config.database.client,
      },
      'certbound is listening',
    );
    if (dev) {
      print('');
      print(`certbound (development) — issuer ${config.issuer}`);
      print(`  discovery: ${config.issuer}/.well-known/oauth-authorization-server`);
      print(`  mTLS token endpoint: ${config.mtlsUrl}/token`);
      print(`  dev PKI: ${dev.dir}${dev.created ? ' (created now)' : ''}`);
      print('  Get a certificate-bound token with the demo client certificate:');
      print(
        `  curl --cacert ${dev.caPath} --cert ${dev.clientCertPath} --key ${dev.clientKeyPath} -d grant_type=client_credentials -d client_id=demo-client ${config.mtlsUrl}/token`,
      );
      print('');
    }
    return {
      handle,
      db,
      knex,
      config,
      async close() {
        await handle.close();
        await db.close();
        await closeKnex();
      },
    };
  } catch (err) {
    await db.close().catch(() => {});
    await closeKnex().catch(() => {});
    throw explainStorageError(err, config.database) ?? err;
  }
}
