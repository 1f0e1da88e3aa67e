/**
 * A real database per test file: a fresh SQLite file, or a fresh PostgreSQL database on the local
 * server (CERTBOUND_TEST_DB=postgres; CERTBOUND_TEST_PG_URL overrides the admin connection).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import type { Config } from '../../src/config/index.js';
import { type Db, migrateLatest, openDatabase } from '../../src/store/knex.js';

export const TEST_DB_KIND: 'sqlite' | 'postgres' = process.env.CERTBOUND_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
const PG_ADMIN_URL = process.env.CERTBOUND_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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
  if (TEST_DB_KIND === 'postgres') {
    const name = `certbound_test_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
    await admin.raw(`create database ${name}`);
    await admin.destroy();
    url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
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
  if (options.migrate !== false) await migrateLatest(db);
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
