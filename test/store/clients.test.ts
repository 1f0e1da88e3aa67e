/**
 * The client repository's reads for the diagnosis's near misses: the mappings next to a value in the
 * (kind, canonical) index, read as index ranges (the plan is checked), so a lookup costs the same with
 * 100k clients as with ten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients } from '../../src/store/index.js';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const CLIENTS = 2000;
const dnsName = (i: number) => `svc-${String(i).padStart(5, '0')}.example.com`;

beforeAll(async () => {
  database = await createTestDatabase();
  const now = Date.now();
  const rows = Array.from({ length: CLIENTS }, (_, i) => i);
  await database.db.batchInsert(
    'clients',
    rows.map((i) => ({ client_id: `c${i}`, token_endpoint_auth_method: 'tls_client_auth', scope: '', metadata: '{}', created_at: now, updated_at: now })),
    500,
  );
  await database.db.batchInsert(
    'certificate_mappings',
    rows.map((i) => ({ id: `m${i}`, client_id: `c${i}`, kind: 'san_dns', value: dnsName(i), canonical: dnsName(i), created_at: now })),
    500,
  );
  await database
    .db('certificate_mappings')
    .insert({ id: 'dn', client_id: 'c0', kind: 'subject_dn', value: 'CN=svc-01000.example.com', canonical: 'cn=svc-01000.example.com', created_at: now });
});
afterAll(() => database?.drop());

describe('clients.mappingsAround', () => {
  it('returns the mappings of the same kind just before and after the value, in index order, the equal one excluded', async () => {
    const around = await clients.mappingsAround(database.db, 'san_dns', dnsName(1000), 2);
    expect(around.map((m) => m.value)).toEqual([dnsName(998), dnsName(999), dnsName(1001), dnsName(1002)]);
    expect(around[0]).toMatchObject({ clientId: 'c998', kind: 'san_dns', trustAnchorName: null });
    // a value that is not registered: its neighbours on both sides
    expect((await clients.mappingsAround(database.db, 'san_dns', 'svc-01000.example.org', 1)).map((m) => m.value)).toEqual([dnsName(1000), dnsName(1001)]);
    // ends of the range; nothing for another kind or none asked
    expect((await clients.mappingsAround(database.db, 'san_dns', 'a', 2)).map((m) => m.value)).toEqual([dnsName(0), dnsName(1)]);
    expect(await clients.mappingsAround(database.db, 'san_uri', dnsName(5), 3)).toEqual([]);
    expect(await clients.mappingsAround(database.db, 'san_dns', dnsName(5), 0)).toEqual([]);
  });

  it('findMappingsByCanonical takes a limit', async () => {
    expect(await clients.findMappingsByCanonical(database.db, 'san_dns', dnsName(7), 0)).toEqual([]);
    expect((await clients.findMappingsByCanonical(database.db, 'san_dns', dnsName(7), 5)).map((m) => m.id)).toEqual(['m7']);
  });

  it('reads index ranges of (kind, canonical), never the whole table', async () => {
    const statements: { sql: string; bindings: readonly unknown[] }[] = [];
    const listener = (q: { sql: string; bindings?: readonly unknown[] }) => statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
    database.db.on('query', listener);
    try {
      await clients.mappingsAround(database.db, 'san_dns', dnsName(1000), 3);
    } finally {
      database.db.off('query', listener);
    }
    expect(statements).toHaveLength(2);
    for (const { sql, bindings } of statements) {
      if (TEST_DB_KIND === 'postgres') {
        // Whether the planner may use the index (a table this small is cheap to scan either way).
        const plan = await database.db.transaction(async (trx) => {
          await trx.raw('set local enable_seqscan = off');
          const pgSql = sql.replace(/\$\d+/g, '?');
          return (await trx.raw(`explain ${pgSql}`, bindings as readonly string[])).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        });
        expect(plan).toMatch(/Index (Only )?Scan( Backward)? using certificate_mappings_kind_canonical_index/);
        expect(plan).not.toMatch(/Seq Scan on certificate_mappings/);
      } else {
        const plan = (await database.db.raw(`explain query plan ${sql}`, bindings as readonly string[])).map((r: { detail: string }) => r.detail).join('\n');
        expect(plan).toMatch(/SEARCH m USING INDEX certificate_mappings_kind_canonical_index \(kind=\? AND canonical[<>]\?\)/);
        expect(plan).not.toMatch(/SCAN m\b/);
      }
    }
  });
});
