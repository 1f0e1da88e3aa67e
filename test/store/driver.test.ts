/**
 * The server's store connection without knex (store/driver.ts), on the real database of the
 * run (SQLite file or PostgreSQL): the same SQL as through knex, transactions that commit or roll back
 * whole, statements from outside a transaction kept out of it, and the hand-over to knex.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DriverSql, openDriverSql } from '../../src/store/driver.js';
import { lastSeen, readRevisions, resourceServers, sqlOf, writeAudit } from '../../src/store/index.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
let sql: DriverSql;

beforeAll(async () => {
  database = await createTestDatabase();
  sql = await openDriverSql(database.database);
});
afterAll(async () => {
  await sql?.close();
  await database?.drop();
});

const audit = async (target: string) => (await database.db('audit_log').where({ target }).select('actor')).map((r: { actor: string }) => r.actor);

describe(`the drivers' connection (${TEST_DB_KIND})`, () => {
  it("runs the store's SQL as knex does: the same rows, `?` placeholders, the number of rows a write changed", async () => {
    const rs = {
      identifier: 'https://api.example.com',
      scopes: ['read'],
      tokenFormat: 'jwt' as const,
      ttl: 600,
      signingAlg: null,
      introspectionClients: ['orders-rs'],
      createdAt: new Date(1_000),
      updatedAt: new Date(2_000),
    };
    await resourceServers.upsert(sql, rs);
    expect(await resourceServers.find(sql, rs.identifier)).toEqual(rs);
    expect(await resourceServers.find(database.db, rs.identifier)).toEqual(rs);
    // on conflict … do update: the second write replaces the row
    await resourceServers.upsert(sql, { ...rs, scopes: ['read', 'write'], updatedAt: new Date(3_000) });
    expect((await resourceServers.find(database.db, rs.identifier))?.scopes).toEqual(['read', 'write']);
    expect(await readRevisions(sql)).toEqual(await readRevisions(database.db));
    expect(await sql.run('update resource_servers set ttl = ? where identifier = ?', [900, 'https://nowhere.example.com'])).toBe(0);
    expect(await sql.run('update resource_servers set ttl = ? where identifier = ?', [900, rs.identifier])).toBe(1);
    expect(await sqlOf(database.db).run('update resource_servers set ttl = ? where identifier = ?', [600, rs.identifier])).toBe(1);
  });

  it("the store's cached statements survive a column added by another process (a migration): select * returns it, explicit ones keep working; on PostgreSQL they are prepared once per connection, select * not", async () => {
    const explicit = 'select identifier, ttl from resource_servers where identifier = ?';
    const star = 'select * from resource_servers where identifier = ?';
    const before = await sql.all<Record<string, unknown>>(star, ['https://api.example.com']);
    expect(before).toHaveLength(1);
    expect(before[0]).not.toHaveProperty('added_by_migration');
    if (TEST_DB_KIND === 'postgres') {
      const prepared = await sql.transaction(async (trx) => {
        await trx.all(explicit, ['https://api.example.com']);
        await trx.all(star, ['https://api.example.com']);
        // The transaction holds one connection: this lists what was prepared on it.
        return trx.all<{ statement: string }>('select statement from pg_prepared_statements');
      });
      expect(prepared.map((p) => p.statement).filter((t) => t.includes('from resource_servers where'))).toEqual([
        'select identifier, ttl from resource_servers where identifier = $1',
      ]);
    }
    // Another connection (knex, as `certbound migrate` would) changes the table.
    await database.db.schema.alterTable('resource_servers', (t) => t.string('added_by_migration', 10).notNullable().defaultTo('yes'));
    try {
      const after = await sql.all<Record<string, unknown>>(star, ['https://api.example.com']);
      expect(after[0]).toMatchObject({ identifier: 'https://api.example.com', added_by_migration: 'yes' });
      expect(await sql.all(explicit, ['https://api.example.com'])).toEqual(await sqlOf(database.db).all(explicit, ['https://api.example.com']));
    } finally {
      await database.db.schema.alterTable('resource_servers', (t) => t.dropColumn('added_by_migration'));
    }
  });

  it('the last-seen upsert writes nothing for a client that does not exist (one statement, no transaction)', async () => {
    await lastSeen.upsert(sql, { clientId: 'nobody', mappingId: null, x5tS256: 'x'.repeat(43), subject: 'CN=nobody', notAfter: new Date(5_000), seenAt: new Date(6_000) });
    expect(await lastSeen.list(sql)).toEqual([]);
  });

  it('a transaction commits as a whole, and rolls back as a whole when its function throws', async () => {
    await sql.transaction(async (trx) => {
      await writeAudit(trx, { actor: 'committed-1', action: 'test', target: 'tx-commit' });
      await new Promise((r) => setTimeout(r, 5)); // the transaction stays open across a turn of the event loop
      await writeAudit(trx, { actor: 'committed-2', action: 'test', target: 'tx-commit' });
    });
    expect((await audit('tx-commit')).sort()).toEqual(['committed-1', 'committed-2']);
    await expect(
      sql.transaction(async (trx) => {
        await writeAudit(trx, { actor: 'rolled-back', action: 'test', target: 'tx-rollback' });
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(await audit('tx-rollback')).toEqual([]);
  });

  it('a statement from outside, issued while a transaction awaits, is not part of it: it survives the rollback', async () => {
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    const tx = sql.transaction(async (trx) => {
      await writeAudit(trx, { actor: 'inside', action: 'test', target: 'tx-outside' });
      inside();
      await paused;
      throw new Error('roll back');
    });
    await started;
    const outside = writeAudit(sql, { actor: 'outside', action: 'test', target: 'tx-outside' });
    release();
    await expect(tx).rejects.toThrow('roll back');
    await outside;
    expect(await audit('tx-outside')).toEqual(['outside']);
  });

  it('hands over to knex after a transaction of its own ends; from then on knex runs everything', async () => {
    const own = await openDriverSql(database.database);
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    const tx = own.transaction(async (trx) => {
      inside();
      await paused;
      await writeAudit(trx, { actor: 'before-hand-over', action: 'test', target: 'hand-over' });
    });
    await started;
    const handOver = own.delegateTo(sqlOf(database.db));
    release();
    await tx;
    await handOver;
    expect(await audit('hand-over')).toEqual(['before-hand-over']);
    // from now on through knex: its transaction, its connection
    await own.transaction(async (trx) => {
      expect(await trx.all('select count(*) as n from audit_log where target = ?', ['hand-over'])).toHaveLength(1);
      await writeAudit(trx, { actor: 'after-hand-over', action: 'test', target: 'hand-over' });
    });
    expect((await audit('hand-over')).sort()).toEqual(['after-hand-over', 'before-hand-over']);
    expect((await own.all<{ n: unknown }>('select count(*) as n from audit_log where target = ?', ['hand-over']))[0]?.n).toEqual(TEST_DB_KIND === 'postgres' ? '2' : 2);
    await own.close();
  });

  it('the hand-over lets what already started on the driver finish there: queries waiting for a pooled connection, and a transaction', async () => {
    const own = await openDriverSql(database.database);
    // more queries than the pool has connections (10), so some wait for one when the hand-over starts
    const query = TEST_DB_KIND === 'postgres' ? 'select pg_sleep(0.05) as slept' : 'select 1 as slept';
    const started = Array.from({ length: 15 }, () => own.all(query));
    const tx = own.transaction(async (trx) => (await trx.all('select 1 as one')).length);
    await own.delegateTo(sqlOf(database.db));
    const outcome = await Promise.race([Promise.all([...started, tx]).then(() => 'settled'), new Promise((r) => setTimeout(() => r('still pending after 5 s'), 5_000))]);
    expect(outcome).toBe('settled');
    expect(await tx).toBe(1);
    await own.close();
  });
});

if (TEST_DB_KIND === 'sqlite') {
  describe("the drivers' connection, SQLite only", () => {
    it('a COMMIT that fails (a deferred foreign key) rolls the transaction back: the next one starts, and outside statements are not swallowed', async () => {
      const own = await openDriverSql(database.database);
      await expect(
        own.transaction(async (trx) => {
          await trx.run('pragma defer_foreign_keys = on');
          await trx.run(
            "insert into certificate_mappings (id, client_id, kind, value, canonical, created_at) values ('m-orphan', 'no-such-client', 'san_dns', 'x.example.com', 'x.example.com', 0)",
          );
        }),
      ).rejects.toThrow(/FOREIGN KEY/);
      await own.transaction(async (trx) => {
        await writeAudit(trx, { actor: 'after-failed-commit', action: 'test', target: 'failed-commit' });
      });
      await writeAudit(own, { actor: 'outside', action: 'test', target: 'failed-commit' });
      expect((await audit('failed-commit')).sort()).toEqual(['after-failed-commit', 'outside']);
      expect(await database.db('certificate_mappings').where({ id: 'm-orphan' })).toEqual([]);
      await own.close();
    });
  });
}
