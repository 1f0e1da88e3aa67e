/**
 * Lookups by a key from outside that holds U+0000, which PostgreSQL text cannot hold: "unknown" on both
 * databases and through both connections (knex, and the server's drivers), never a driver error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/app/service.js';
import { type DriverSql, openDriverSql } from '../../src/store/driver.js';
import { clients, createOidcAdapter, isStorableKey, listAudit, type Queryable, resourceServers, signingKeys, trustAnchors } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createTestPki } from '../helpers/pki.js';

const API = 'https://api.keys.example';
let database: TestDatabase;
let driver: DriverSql;
let kid: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const admin = createAdminService({ db: database.db, signingAlg: 'ES256', keyEncryptionKey: undefined });
  const pki = await createTestPki('Keys');
  await admin.addTrustAnchor({ name: 'root', pem: pki.root.pem }, 'test');
  await admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await admin.addClient({ clientId: 'known', mapping: { kind: 'subject_dn', value: 'CN=known' }, scopes: ['read'], defaultResource: API }, 'test');
  await admin.ensureActiveKey('test');
  kid = (await signingKeys.listPublic(database.db))[0]!.kid;
  const AccessToken = createOidcAdapter(database.db, async () => undefined);
  await new AccessToken('AccessToken').upsert('known-token', { jti: 'known-token' }, 60);
  driver = await openDriverSql(database.database);
});
afterAll(async () => {
  await driver?.close();
  await database?.drop();
});

describe('keys holding U+0000 are unknown (TREQ-41, ADMIN-077)', () => {
  it('isStorableKey: false only for text holding U+0000', () => {
    expect(isStorableKey('known')).toBe(true);
    expect(isStorableKey('known\u0001\u007f')).toBe(true);
    expect(isStorableKey('known\u0000')).toBe(false);
    expect(isStorableKey('\u0000')).toBe(false);
  });

  it.each(['knex', 'driver'] as const)('TREQ-41/ADMIN-077: through %s, every lookup by such a key finds nothing and the same key without it is found', async (via) => {
    const db: Queryable = via === 'knex' ? database.db : driver;
    expect(await clients.find(db, 'known\u0000')).toBeUndefined();
    expect((await clients.find(db, 'known'))?.clientId).toBe('known');
    expect(await resourceServers.find(db, `${API}/\u0000`)).toBeUndefined();
    expect((await resourceServers.find(db, API))?.identifier).toBe(API);
    expect(await trustAnchors.findByName(db, 'root\u0000')).toBeUndefined();
    expect((await trustAnchors.findByName(db, 'root'))?.name).toBe('root');
    expect(await signingKeys.statusOf(db, `${kid}\u0000`)).toBeUndefined();
    expect(await signingKeys.statusOf(db, kid)).toBe('active');
    const Adapter = createOidcAdapter(db, async () => undefined);
    const adapter = new Adapter('AccessToken');
    expect(await adapter.find('known-token\u0000')).toBeUndefined();
    expect(await adapter.findByUid('u\u0000')).toBeUndefined();
    expect(await adapter.findByUserCode('c\u0000')).toBeUndefined();
    expect(await adapter.find('known-token')).toEqual({ jti: 'known-token' });
  });

  it('TREQ-41/ADMIN-077: the audit log filtered by such a target is empty; by the real target it is not', async () => {
    expect(await listAudit(database.db, { target: 'client:known\u0000' })).toEqual([]);
    expect((await listAudit(database.db, { target: 'client:known' })).map((e) => e.action)).toContain('client.add');
  });
});
