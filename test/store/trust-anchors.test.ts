import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminService } from '../../src/app/service.js';
import { trustAnchors } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createTestPki } from '../helpers/pki.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

describe('trust anchors: allow_missing_eku (H15-4, X-12)', () => {
  it('H15-4: stored and read back as a boolean; false unless asked for', async () => {
    const admin = createAdminService({ db: database.db, signingAlg: 'ES256', keyEncryptionKey: undefined });
    const [strict, legacy] = [await createTestPki('Strict'), await createTestPki('Legacy')];
    await admin.addTrustAnchor({ name: 'strict', pem: strict.root.pem }, 'test');
    await admin.addTrustAnchor({ name: 'legacy', pem: legacy.root.pem, allowMissingEku: true }, 'test');
    expect((await trustAnchors.findByName(database.db, 'strict'))?.allowMissingEku).toBe(false);
    expect((await trustAnchors.findByName(database.db, 'legacy'))?.allowMissingEku).toBe(true);
    expect((await trustAnchors.list(database.db)).map((a) => [a.name, a.allowMissingEku])).toEqual([
      ['legacy', true],
      ['strict', false],
    ]);
  });
});
