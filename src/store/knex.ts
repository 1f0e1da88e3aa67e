import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config/index.js';
import * as initial from '../../migrations/20261127000001_initial.js';
import * as lastSeen from '../../migrations/20261128000001_certificate_last_seen.js';
import * as anchorCrls from '../../migrations/20261128000002_trust_anchor_crls.js';

export type Db = Knex;

/**
 * Opens the database named by the configuration. SQLite gets WAL mode (the CLI and the server share
 * the file), a busy timeout, and foreign keys on every connection.
 */
export function openDatabase(database: Config['database']): Db {
  if (database.client === 'pg') {
    return knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 10 } });
  }
  mkdirSync(path.dirname(database.filename), { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: database.filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('busy_timeout = 5000');
        conn.pragma('foreign_keys = ON');
        done(null, conn);
      },
    },
  });
}

/** Migrations are imported statically so they work from the sources and from dist/ alike. */
const MIGRATIONS: Record<string, { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }> = {
  '20261127000001_initial': initial,
  '20261128000001_certificate_last_seen': lastSeen,
  '20261128000002_trust_anchor_crls': anchorCrls,
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};

const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/** Applies pending migrations (knex's migration lock makes two replicas starting at once safe). */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

export async function migrateRollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback(migrationConfig, true);
}

export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migrationConfig)) as [unknown, { file: string }[] | string[]];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}

/** Epoch ms from a bigint column (pg returns bigints as strings). */
export function toMs(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : Number(v);
}

export function isPostgres(db: Db): boolean {
  return db.client.config.client === 'pg';
}
