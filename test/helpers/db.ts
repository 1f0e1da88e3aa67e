/**
 * A real database per test file: a fresh SQLite file, or a fresh PostgreSQL database on the local
 * server (CERTBOUND_TEST_DB=postgres; CERTBOUND_TEST_PG_URL overrides the admin connection). A migrated
 * PostgreSQL database is a copy of the run's template (global-setup.ts), which is what migrating gives.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { inject } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { type Db, migrateLatest, openDatabase } from '../../src/store/knex.js';

export const TEST_DB_KIND: 'sqlite' | 'postgres' = process.env.CERTBOUND_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
export const PG_ADMIN_URL = process.env.CERTBOUND_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The URL of database `name` on the test server. */
export const pgUrlOf = (name: string): string => PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);

export interface TestDatabase {
  database: Config['database'];
  /** CERTBOUND_DATABASE_URL value for child processes (CLI tests). */
  url: string;
  db: Db;
  drop(): Promise<void>;
}

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let database: Config['database'];
  let url: string;
  let cleanup: () => Promise<void>;
  let migrate = options.migrate !== false;
  if (TEST_DB_KIND === 'postgres') {
    const name = `certbound_test_${randomBytes(6).toString('hex')}`;
    const template = migrate ? inject('pgTemplate') : undefined;
    if (template) migrate = false;
    const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
    await admin.raw(template ? `create database ${name} template ${template}` : `create database ${name}`);
    await admin.destroy();
    url = pgUrlOf(name);
    database = { client: 'pg', url };
    cleanup = async () => {
      const a = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
      await a.raw(`drop database if exists ${name} with (force)`);
      await a.destroy();
    };
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-db-'));
    url = path.join(dir, 'certbound.sqlite');
    database = { client: 'sqlite', filename: url };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const db = openDatabase(database);
  if (migrate) await migrateLatest(db);
  return {
    database,
    url,
    db,
    async drop() {
      await db.destroy();
      await cleanup();
    },
  };
}
