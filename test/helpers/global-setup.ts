/**
 * Once per vitest run, before any test file: on PostgreSQL, a migrated template database that
 * createTestDatabase (db.ts) copies for each test file, instead of running every migration for each.
 * It is made from the current migrations at every run and dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import type { TestProject } from 'vitest/node';
import { migrateLatest, openDatabase } from '../../src/store/knex.js';
import { PG_ADMIN_URL, pgUrlOf, TEST_DB_KIND } from './db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated PostgreSQL database that createTestDatabase copies; absent on SQLite. */
    pgTemplate?: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (TEST_DB_KIND !== 'postgres') return undefined;
  const name = `certbound_test_template_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`create database ${name}`);
    const db = openDatabase({ client: 'pg', url: pgUrlOf(name) });
    // A template takes no copies while a session is connected to it: the migration's pool closes first.
    await migrateLatest(db).finally(() => db.destroy());
  } finally {
    await admin.destroy();
  }
  project.provide('pgTemplate', name);
  return async () => {
    const a = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
    await a.raw(`drop database if exists ${name} with (force)`);
    await a.destroy();
  };
}
