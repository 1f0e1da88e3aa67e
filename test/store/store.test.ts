import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/app/service.js';
import { CertboundError } from '../../src/errors/index.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { openDriverSql } from '../../src/store/driver.js';
import { AlreadyConsumedError, createOidcAdapter, purgeExpiredPayloads, type Queryable, signingKeys } from '../../src/store/index.js';
import { migrateLatest, migrateRollbackAll, pendingMigrations } from '../../src/store/knex.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

describe('migrations', () => {
  it('every migration has a working down: rollback to empty, then up again', async () => {
    const db = database.db;
    await migrateRollbackAll(db);
    expect(await db.schema.hasTable('clients')).toBe(false);
    for (const table of ['certificate_last_seen', 'trust_anchor_crls']) expect(await db.schema.hasTable(table), table).toBe(false);
    const pending = await pendingMigrations(db);
    expect(pending[0]).toBe('20261127000001_initial');
    expect(pending).toEqual(expect.arrayContaining(['20261128000001_certificate_last_seen', '20261128000002_trust_anchor_crls']));
    await migrateLatest(db);
    expect(await db.schema.hasTable('clients')).toBe(true);
    for (const table of ['certificate_last_seen', 'trust_anchor_crls']) expect(await db.schema.hasTable(table), table).toBe(true);
    expect(await pendingMigrations(db)).toEqual([]);
  });

  it('a current database needs no migration run; one that records a migration this version does not know (a newer certbound) is refused, not used', async () => {
    const db = database.db;
    expect(await migrateLatest(db)).toEqual([]);
    await db('knex_migrations').insert({ name: '20991231000001_from_a_newer_certbound', batch: 99, migration_time: new Date() });
    await expect(migrateLatest(db)).rejects.toThrow(/corrupt.*20991231000001_from_a_newer_certbound/);
    await db('knex_migrations').where({ name: '20991231000001_from_a_newer_certbound' }).delete();
    expect(await migrateLatest(db)).toEqual([]);
  });
});

describe('migration 20261128000005_subject_dn_refold', () => {
  it('SC-6: a subject_dn mapping stored with the earlier folding (ı as i) gets the canonical form of this version; the clients revision goes up', async () => {
    const db = database.db;
    const admin = createAdminService({ db, signingAlg: 'ES256', keyEncryptionKey: Buffer.alloc(32, 7) });
    await admin.addClient({ clientId: 'refold', mapping: { kind: 'subject_dn', value: 'CN=Adm\u0131n,O=Acme' } }, 'test');
    await admin.addClient({ clientId: 'refold-ascii', mapping: { kind: 'subject_dn', value: 'CN=Plain,O=Acme' } }, 'test');
    const rowOf = async (clientId: string) => (await db('certificate_mappings').where({ client_id: clientId }).first('id', 'canonical')) as { id: string; canonical: string };
    const current = await rowOf('refold');
    const plain = await rowOf('refold-ascii');
    expect(current.canonical).toBe('2.5.4.10=acme,2.5.4.3=adm\u0131n');
    // what the earlier version stored
    await db('certificate_mappings').where({ id: current.id }).update({ canonical: '2.5.4.10=acme,2.5.4.3=admin' });
    await db('knex_migrations').where({ name: '20261128000005_subject_dn_refold' }).delete();
    const revision = async () => Number((await db('revisions').where({ name: 'clients' }).first('revision'))!.revision);
    const before = await revision();
    expect(await migrateLatest(db)).toEqual(['20261128000005_subject_dn_refold']);
    expect((await rowOf('refold')).canonical).toBe('2.5.4.10=acme,2.5.4.3=adm\u0131n');
    expect((await rowOf('refold-ascii')).canonical).toBe(plain.canonical);
    expect(await revision()).toBe(before + 1);
    await admin.removeClient('refold', 'test');
    await admin.removeClient('refold-ascii', 'test');
  });
});

describe('oidc-provider adapter on SQL', () => {
  it('upsert/find/consume/destroy, with expiry honoured on read and purged', async () => {
    const Adapter = createOidcAdapter(database.db, async () => undefined);
    const a = new Adapter('ClientCredentials');
    await a.upsert('t1', { clientId: 'c', grantId: 'g1', scope: 'read' }, 60);
    expect(await a.find('t1')).toEqual({ clientId: 'c', grantId: 'g1', scope: 'read' });
    await a.consume('t1');
    expect((await a.find('t1'))?.consumed).toBeTypeOf('number');
    await a.destroy('t1');
    expect(await a.find('t1')).toBeUndefined();

    await a.upsert('old', { clientId: 'c' }, 60);
    await database
      .db('oidc_payloads')
      .where({ id: 'old' })
      .update({ expires_at: Date.now() - 1000 });
    expect(await a.find('old')).toBeUndefined();
    expect(await purgeExpiredPayloads(database.db)).toBe(1);
  });

  it('revokeByGrantId removes every token of the grant; models are separate namespaces', async () => {
    const Adapter = createOidcAdapter(database.db, async () => undefined);
    const at = new Adapter('AccessToken');
    const rt = new Adapter('RefreshToken');
    await at.upsert('x', { grantId: 'g2' }, 60);
    await rt.upsert('x', { grantId: 'g2' }, 60);
    await at.upsert('y', { grantId: 'g3' }, 60);
    await at.revokeByGrantId('g2');
    expect(await at.find('x')).toBeUndefined();
    expect(await rt.find('x')).toBeUndefined();
    expect(await at.find('y')).toEqual({ grantId: 'g3' });
  });

  it('the Client model reads through findClient and is never written by the provider', async () => {
    const Adapter = createOidcAdapter(database.db, async (id) => (id === 'c1' ? { client_id: 'c1' } : undefined));
    const c = new Adapter('Client');
    expect(await c.find('c1')).toEqual({ client_id: 'c1' });
    await expect(c.upsert('c2', {})).rejects.toThrow(/CLI or admin API/);
  });
});

/** A refresh token of grant `grantId` and that grant, written as oidc-provider writes them. */
async function storeGrant(Adapter: ReturnType<typeof createOidcAdapter>, grantId: string, token: string): Promise<void> {
  await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', clientId: 'c', accountId: 'alice' }, 60);
  await new Adapter('RefreshToken').upsert(token, { jti: token, kind: 'RefreshToken', grantId, clientId: 'c', accountId: 'alice' }, 60);
}

describe.each(['knex', 'driver'] as const)('single use of codes and refresh tokens (through %s)', (via) => {
  const requests = new AsyncLocalStorage<object>();
  let db: Queryable;
  let close = async () => {};
  beforeAll(async () => {
    if (via === 'knex') db = database.db;
    else {
      const sql = await openDriverSql(database.database);
      db = sql;
      close = () => sql.close();
    }
  });
  afterAll(() => close());
  const adapter = () => createOidcAdapter(db, async () => undefined, { requestScope: () => requests.getStore() });
  const consumedAt = async (id: string) => (await database.db('oidc_payloads').where({ id }).first())?.consumed_at ?? null;

  it('RFC 6749 §10.4: two rotations of one refresh token at once: one stores its successor, the other throws AlreadyConsumedError and stores nothing', async () => {
    const Adapter = adapter();
    await storeGrant(Adapter, `g-race-${via}`, `rt-race-${via}`);
    const rt = new Adapter('RefreshToken');
    // Both requests read the token unconsumed before either writes, as two requests arriving together do.
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const rotation = (next: string) =>
      requests.run({}, async () => {
        expect((await rt.find(`rt-race-${via}`))?.consumed).toBeUndefined();
        await rt.consume(`rt-race-${via}`);
        if (++arrived === 2) release();
        await bothRead;
        await rt.upsert(next, { jti: next, kind: 'RefreshToken', grantId: `g-race-${via}`, clientId: 'c' }, 60);
      });
    const outcomes = await Promise.allSettled([rotation(`rt-next-a-${via}`), rotation(`rt-next-b-${via}`)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(AlreadyConsumedError);
    const stored = await Promise.all([rt.find(`rt-next-a-${via}`), rt.find(`rt-next-b-${via}`)]);
    expect(stored.filter(Boolean)).toHaveLength(1);
    expect(await consumedAt(`rt-race-${via}`)).not.toBeNull();
  });

  it('within a request the grant is read with the refresh token and handed out once; outside one, each find reads', async () => {
    const Adapter = adapter();
    await storeGrant(Adapter, `g-read-${via}`, `rt-read-${via}`);
    const grants = new Adapter('Grant');
    await requests.run({}, async () => {
      await new Adapter('RefreshToken').find(`rt-read-${via}`);
      await database
        .db('oidc_payloads')
        .where({ model: 'Grant', id: `g-read-${via}` })
        .delete();
      // Read with the token, before the delete: the grant as it was then.
      expect(await grants.find(`g-read-${via}`)).toMatchObject({ jti: `g-read-${via}`, accountId: 'alice' });
      expect(await grants.find(`g-read-${via}`)).toBeUndefined();
    });
  });

  it("a refresh token's consume with no successor in the request is written when the request settles", async () => {
    const Adapter = adapter();
    await storeGrant(Adapter, `g-settle-${via}`, `rt-settle-${via}`);
    const scope = {};
    await requests.run(scope, () => new Adapter('RefreshToken').consume(`rt-settle-${via}`));
    expect(await consumedAt(`rt-settle-${via}`)).toBeNull();
    await Adapter.settle(scope);
    expect(await consumedAt(`rt-settle-${via}`)).not.toBeNull();
    expect((await new Adapter('RefreshToken').find(`rt-settle-${via}`))?.consumed).toBeTypeOf('number');
  });

  it('outside a request, a second consume of a code or refresh token throws AlreadyConsumedError; other models may be consumed again', async () => {
    const Adapter = adapter();
    for (const model of ['AuthorizationCode', 'RefreshToken']) {
      const a = new Adapter(model);
      await a.upsert(`once-${model}-${via}`, { grantId: 'g' }, 60);
      await a.consume(`once-${model}-${via}`);
      await expect(a.consume(`once-${model}-${via}`)).rejects.toBeInstanceOf(AlreadyConsumedError);
      await expect(a.consume(`absent-${model}-${via}`)).rejects.toBeInstanceOf(AlreadyConsumedError);
    }
    const other = new Adapter('PushedAuthorizationRequest');
    await other.upsert(`par-${via}`, {}, 60);
    await other.consume(`par-${via}`);
    await other.consume(`par-${via}`);
  });
});

describe('signing keys at rest', () => {
  it('with a key-encryption key the private JWK is stored encrypted and decrypts back; a wrong key is a clear error', async () => {
    const kek = Buffer.alloc(32, 7);
    const admin = createAdminService({ db: database.db, signingAlg: 'ES256', keyEncryptionKey: kek });
    await admin.rotateKeys('test');
    const row = await database.db('signing_keys').where({ status: 'active' }).first();
    expect(String(row.private_jwk)).toMatch(/^enc:v1:/);
    expect(String(row.private_jwk)).not.toContain('"d"');
    const [active] = await signingKeys.list(database.db, kek);
    expect(active?.privateJwk.d).toBeTruthy();
    let err: unknown;
    try {
      await signingKeys.list(database.db, Buffer.alloc(32, 8));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CertboundError);
    expect((err as CertboundError).code).toBe('ERR_KEY_ENCRYPTION_KEY_WRONG');
    await expect(signingKeys.list(database.db, undefined)).rejects.toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_MISSING' });
  });

  it('a new key is not stored in plaintext next to encrypted ones, nor under another key-encryption key; nothing changes', async () => {
    const keys = async () => (await database.db('signing_keys').select('kid', 'status').orderBy('kid')) as { kid: string; status: string }[];
    const before = await keys();
    expect(before.some((k) => k.status === 'active')).toBe(true);
    const plain = createAdminService({ db: database.db, signingAlg: 'ES256' });
    await expect(plain.rotateKeys('test')).rejects.toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_MISSING', message: expect.stringMatching(/would be stored in plaintext/) });
    const other = createAdminService({ db: database.db, signingAlg: 'ES256', keyEncryptionKey: Buffer.alloc(32, 9) });
    await expect(other.rotateKeys('test')).rejects.toMatchObject({ code: 'ERR_KEY_ENCRYPTION_KEY_WRONG' });
    expect(await keys()).toEqual(before);
  });

  it.each(['EdDSA', 'PS256', 'RS256'] as const)('%s keys can be generated', async (alg) => {
    const admin = createAdminService({ db: database.db, signingAlg: alg, keyEncryptionKey: Buffer.alloc(32, 7) });
    const k = await admin.rotateKeys('test', alg);
    expect(k.alg).toBe(alg);
    expect(k.publicJwk).not.toHaveProperty('d');
  });
});

describe('admin writes are transactional', () => {
  it('a failure inside the transaction leaves neither the change nor an audit row', async () => {
    const admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
    const before = Number((await database.db('audit_log').count({ n: '*' }))[0]!.n);
    await expect(admin.addClient({ clientId: 'tx', mapping: { kind: 'san_dns', value: 'tx.example.com', trustAnchor: 'missing' } }, 'test')).rejects.toMatchObject({
      code: 'ERR_TRUST_ANCHOR_UNKNOWN',
    });
    expect(await database.db('clients').where({ client_id: 'tx' })).toEqual([]);
    expect(Number((await database.db('audit_log').count({ n: '*' }))[0]!.n)).toBe(before);
  });
});

describe('signing keys: replicas starting at once', () => {
  it('concurrent ensureActiveKey calls create exactly one active key', async () => {
    const fresh = await createTestDatabase();
    try {
      const admins = [1, 2, 3].map(() => createAdminService({ db: fresh.db, signingAlg: 'ES256' }));
      const created = await Promise.all(admins.map((a) => a.ensureActiveKey('replica')));
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(created.filter((c) => c === false)).toHaveLength(2);
      expect(await fresh.db('signing_keys').where({ status: 'active' })).toHaveLength(1);
    } finally {
      await fresh.drop();
    }
  });
});

describe('revision reader (per-request cache check)', () => {
  it('sees a write made through another connection at once, and survives its connection being closed', async () => {
    const { createRevisionReader, bumpRevision } = await import('../../src/store/index.js');
    const reader = await createRevisionReader(database.database);
    try {
      const before = await reader.read();
      await bumpRevision(database.db, 'clients');
      expect((await reader.read()).clients).toBe(before.clients + 1);
      if (database.database.client === 'pg') {
        // kill the reader's backend: the next read fails, the one after reconnects
        await database.db.raw(
          "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query like '%from revisions%'",
        );
        await reader.read().catch(() => undefined);
        expect((await reader.read()).clients).toBe(before.clients + 1);
      }
    } finally {
      await reader.close();
    }
  });
});

describe('coalesced revision reads (per-request cache check under load)', () => {
  it('concurrent callers share one read, and a caller never gets a read that started before its call', async () => {
    const { coalesceReads } = await import('../../src/store/revisions.js');
    for (const deferToCheckPhase of [false, true]) {
      let started = 0;
      let value = 0;
      const gates: (() => void)[] = [];
      const read = coalesceReads(
        () => {
          started++;
          const seen = value;
          return new Promise<number>((resolve) => gates.push(() => resolve(seen)));
        },
        { deferToCheckPhase },
      );
      const first = read();
      await new Promise((r) => setImmediate(r));
      expect(started, `defer=${deferToCheckPhase}`).toBe(1);
      // A write lands while the first read runs; callers arriving now must not get the running read.
      value = 1;
      const later = [read(), read(), read()];
      await new Promise((r) => setImmediate(r));
      expect(started).toBe(1);
      gates.shift()!();
      expect(await first).toBe(0);
      // the next read starts once the running one has ended (in the check phase when deferred)
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      expect(started).toBe(2);
      gates.shift()!();
      expect(await Promise.all(later)).toEqual([1, 1, 1]);
    }
  });

  it('a failed read fails its batch only; the next caller gets a new read', async () => {
    const { coalesceReads } = await import('../../src/store/revisions.js');
    let calls = 0;
    const read = coalesceReads(
      () => {
        calls++;
        if (calls === 1) throw new Error('connection lost');
        return calls;
      },
      { deferToCheckPhase: true },
    );
    const batch = [read(), read()];
    await expect(batch[0]).rejects.toThrow('connection lost');
    await expect(batch[1]).rejects.toThrow('connection lost');
    expect(await read()).toBe(2);
  });

  it('50 concurrent callers on the real database all see a write committed before they called', async () => {
    const { createRevisionReader, bumpRevision } = await import('../../src/store/index.js');
    const reader = await createRevisionReader(database.database);
    try {
      const before = await reader.read();
      await bumpRevision(database.db, 'resource_servers');
      const results = await Promise.all(Array.from({ length: 50 }, () => reader.read()));
      for (const r of results) expect(r.resource_servers).toBe(before.resource_servers + 1);
    } finally {
      await reader.close();
    }
  });
});

describe('SQLite file shared by processes starting at once', () => {
  it('a new connection to a fresh file waits for a lock another connection holds, then switches the file to WAL', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { Worker } = await import('node:worker_threads');
    const { openDatabase } = await import('../../src/store/knex.js');
    const dir = mkdtempSync(join(tmpdir(), 'certbound-lock-'));
    const filename = join(dir, 'shared.sqlite');
    // Another connection (a thread, as another replica would be a process) holds an exclusive lock on
    // the fresh file for 300 ms: the moment where a second replica switches the file to WAL.
    const holder = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.module);
       const db = new Database(workerData.filename);
       db.exec('BEGIN EXCLUSIVE');
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { filename, module: require.resolve('better-sqlite3') } },
    );
    await new Promise((resolve) => holder.once('message', resolve));
    const db = openDatabase({ client: 'sqlite', filename });
    try {
      const started = Date.now();
      await db.raw('select 1');
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      const rows = (await db.raw('pragma journal_mode')) as { journal_mode: string }[];
      expect(rows[0]?.journal_mode).toBe('wal');
    } finally {
      await db.destroy();
      await holder.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
