import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config/index.js';
import { CertboundError } from '../errors/index.js';
import { compareWithOurs, type MigrationName, recordsExactlyOurMigrations } from './schema-version.js';
import { prepareSqliteConnection } from './sql.js';
import { databaseTimeoutOf } from './unavailable.js';
import * as initial from '../../migrations/20261127000001_initial.js';
import * as lastSeen from '../../migrations/20261128000001_certificate_last_seen.js';
import * as anchorCrls from '../../migrations/20261128000002_trust_anchor_crls.js';
import * as lookupRevisions from '../../migrations/20261128000003_lookup_revisions.js';
import * as clientJwksUri from '../../migrations/20261128000004_client_jwks_uri.js';
import * as subjectDnRefold from '../../migrations/20261128000005_subject_dn_refold.js';
import * as resourceIntrospectionClients from '../../migrations/20261129000001_resource_introspection_clients.js';
import * as anchorAllowMissingEku from '../../migrations/20261201000004_trust_anchor_allow_missing_eku.js';
import * as auditActorWidth from '../../migrations/20261206000001_audit_actor_width.js';
import * as clientRegistrations from '../../migrations/20261207000001_client_registrations.js';
import * as authorizationCode from '../../migrations/20261207000002_authorization_code.js';

export type Db = Knex;
export { toMs } from './sql.js';

/**
 * Opens the database named by the configuration. SQLite gets WAL mode (the CLI and the server share
 * the file), a busy timeout, and foreign keys on every connection.
 *
 * PostgreSQL: connecting is bounded by the database timeout. With `queryTimeouts` (the server's admin
 * API, whose requests must not hang on a frozen database) so are getting a pooled connection and every
 * statement; without (the CLI, migrations) a long migration or a wait for another replica's migration
 * lock may take as long as it needs.
 */
export function openDatabase(database: Config['database'], { queryTimeouts = false }: { queryTimeouts?: boolean } = {}): Db {
  const timeoutMs = databaseTimeoutOf(database);
  if (database.client === 'pg') {
    return knexFactory({
      client: 'pg',
      connection: { connectionString: database.url, connectionTimeoutMillis: timeoutMs, ...(queryTimeouts ? { query_timeout: timeoutMs, statement_timeout: timeoutMs } : {}) },
      pool: { min: 0, max: 10 },
      ...(queryTimeouts ? { acquireConnectionTimeout: timeoutMs } : {}),
    });
  }
  mkdirSync(path.dirname(database.filename), { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    // A connection that cannot be opened is reported by the caller (store/storage-errors.ts), once and
    // with what to do; knex would also print its own line for it.
    log: { warn: (message: unknown) => (String(message).startsWith('Acquire connection error') ? undefined : console.warn(message)) },
    connection: { filename: database.filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        try {
          prepareSqliteConnection(conn);
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
}

/** Migrations are imported statically so they work from the sources and from dist/ alike. */
const MIGRATIONS: Record<MigrationName, { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }> = {
  '20261127000001_initial': initial,
  '20261128000001_certificate_last_seen': lastSeen,
  '20261128000002_trust_anchor_crls': anchorCrls,
  '20261128000003_lookup_revisions': lookupRevisions,
  '20261128000004_client_jwks_uri': clientJwksUri,
  '20261128000005_subject_dn_refold': subjectDnRefold,
  '20261129000001_resource_introspection_clients': resourceIntrospectionClients,
  '20261201000004_trust_anchor_allow_missing_eku': anchorAllowMissingEku,
  '20261206000001_audit_actor_width': auditActorWidth,
  '20261207000001_client_registrations': clientRegistrations,
  '20261207000002_authorization_code': authorizationCode,
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name as MigrationName]!,
};

const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/**
 * Applies pending migrations; safe when several replicas start at once on a fresh database.
 *
 * knex's lock row alone is not enough there: knex creates `knex_migrations` and `knex_migrations_lock`
 * and inserts the lock row without any lock, so two replicas race on CREATE TABLE (one fails) and can
 * insert two lock rows, after which no migration ever gets the lock ("Migration table is already
 * locked"). PostgreSQL: a session advisory lock serializes the whole run across processes. SQLite:
 * every statement is serialized by the database's write lock, so the two tables and the single lock row
 * are created up front with idempotent statements; knex's lock then works.
 */
export async function migrateLatest(db: Db): Promise<string[]> {
  // The usual start: the database is current. One query answers that, without loading knex's migrator
  // (less code kept in every server's heap: docs/decisions/001-knex-off-the-hot-path.md). Anything else, including a database that records
  // migrations this version does not know (knex refuses it as corrupt), goes through the migrator.
  if (await recordsExactlyOurMigrations(db)) return [];
  const run = async () => {
    const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
    return applied;
  };
  if (isPostgres(db)) return withPgAdvisoryLock(db, MIGRATION_LOCK_KEY, run);
  await db.raw('create table if not exists `knex_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime)');
  await db.raw('create table if not exists `knex_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer)');
  await db.raw('insert into `knex_migrations_lock` (`is_locked`) select 0 where not exists (select 1 from `knex_migrations_lock`)');
  // knex's migration transaction is deferred: two writers can deadlock, and SQLite then fails one of them
  // (SQLITE_BUSY, or knex's MigrationLocked while the other holds the lock). The other run completes;
  // retrying finds the migrations applied. Bounded: about a minute.
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const retriable = (err as Error).name === 'MigrationLocked' || /SQLITE_BUSY|database is locked/.test(String((err as { code?: string }).code ?? (err as Error).message));
      if (!retriable || attempt >= 30) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(Math.random() * 400)));
    }
  }
}

/**
 * For `CERTBOUND_MIGRATE_ON_START=false`: refuses a database that is not at this version's schema
 * (migrations pending, none applied yet, or migrations this version does not know), naming what to
 * run, instead of failing later on a missing table or column. Changes nothing.
 */
async function assertSchemaCurrent(db: Db): Promise<void> {
  const { unknown, pending } = compareWithOurs(await recordedMigrations(db));
  if (unknown.length === 0 && pending.length === 0) return;
  if (unknown.length > 0) {
    throw new CertboundError(
      'ERR_DATABASE_NOT_CURRENT',
      `The database records migrations this version of certbound does not know (${unknown.join(', ')}): a newer certbound migrated it.`,
      {
        status: 503,
        hint: 'Run the certbound version that migrated it.',
      },
    );
  }
  throw new CertboundError(
    'ERR_DATABASE_NOT_CURRENT',
    pending.length === Object.keys(MIGRATIONS).length
      ? 'The database has no certbound schema yet.'
      : `The database needs ${pending.length} migration${pending.length === 1 ? '' : 's'} of this version: ${pending.join(', ')}.`,
    {
      status: 503,
      hint: 'CERTBOUND_MIGRATE_ON_START is false, so certbound does not migrate on its own: run `certbound migrate` with this version (or set CERTBOUND_MIGRATE_ON_START=true).',
    },
  );
}

/**
 * What every start does with the schema (`serve` and the CLI commands): migrate it (the default), or,
 * with CERTBOUND_MIGRATE_ON_START=false, refuse a database that is not current. Returns what was applied.
 */
export async function migrateOrRequireCurrent(db: Db, migrate: boolean): Promise<string[]> {
  if (migrate) return migrateLatest(db);
  await assertSchemaCurrent(db);
  return [];
}

/** The migration names `knex_migrations` records (none when the table is missing). */
async function recordedMigrations(db: Db): Promise<Set<string>> {
  if (!(await db.schema.hasTable('knex_migrations'))) return new Set();
  return new Set(((await db('knex_migrations').select('name')) as { name: unknown }[]).map((r) => String(r.name)));
}

/** pg_advisory_lock key of certbound's migrations (any constant unique to this application). */
const MIGRATION_LOCK_KEY = 0x63_62_6d_67;

interface PgConnection {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/** Runs `fn` while holding a PostgreSQL session advisory lock (released on error, and by the server if the process dies). */
async function withPgAdvisoryLock<T>(db: Db, key: number, fn: () => Promise<T>): Promise<T> {
  const client = db.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void> };
  const conn = await client.acquireConnection();
  try {
    await conn.query('select pg_advisory_lock($1)', [key]);
    try {
      return await fn();
    } finally {
      await conn.query('select pg_advisory_unlock($1)', [key]);
    }
  } finally {
    await client.releaseConnection(conn);
  }
}

export async function migrateRollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback(migrationConfig, true);
}

export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migrationConfig)) as [unknown, { file: string }[] | string[]];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}

export function isPostgres(db: Db): boolean {
  return db.client.config.client === 'pg';
}
