/**
 * PKI-5: the stored CRLs as the token path reads them: verified again on every load (a row altered in the
 * database is left out and reported), and read again from their source (kept only when newer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrlService } from '../../src/app/crls.js';
import { createAdminService } from '../../src/app/service.js';
import { type CrlSource, loadVerifiedCrls, refreshStoredCrl } from '../../src/revocation/index.js';
import { crls } from '../../src/store/index.js';
import { createCrl } from '../helpers/crl.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

let database: TestDatabase;
let pki: TestPki;
let published: Buffer;
const fetchCrl = async (_source: CrlSource) => published;

beforeAll(async () => {
  database = await createTestDatabase();
  pki = await createTestPki();
  await createAdminService({ db: database.db, signingAlg: 'ES256' }).addTrustAnchor({ name: 'corp-root', pem: pki.root.pem }, 'test');
  published = (await createCrl(pki.root, { thisUpdate: new Date(Date.now() - 3600_000) })).der;
  await createCrlService({ db: database.db, fetchCrl }).addCrl({ anchor: 'corp-root', url: 'http://crl.example.com/root.crl' }, 'test');
});
afterAll(() => database?.drop());

describe('stored CRLs at run time', () => {
  it('PKI-5: refreshStoredCrl keeps a newer CRL from the source, leaves an older one, and records a failure on the row', async () => {
    const [record] = await crls.list(database.db);
    expect(await refreshStoredCrl(database.db, record!, { fetchCrl })).toBe('unchanged');
    published = (await createCrl(pki.root, { thisUpdate: new Date(Date.now() - 1000), revoked: ['0b'] })).der;
    expect(await refreshStoredCrl(database.db, record!, { fetchCrl })).toBe('updated');
    const failing = async () => Promise.reject(Object.assign(new Error('source down'), { code: 'ERR_CRL_FETCH' }));
    await expect(refreshStoredCrl(database.db, record!, { fetchCrl: failing })).rejects.toMatchObject({ code: 'ERR_CRL_FETCH' });
    expect((await crls.list(database.db))[0]).toMatchObject({ revokedCount: 1, lastError: 'source down' });
  });

  it('PKI-5: loadVerifiedCrls verifies each row again: a CRL altered in the database is left out and reported', async () => {
    expect((await loadVerifiedCrls(database.db)).crls.map((c) => c.revoked.size)).toEqual([1]);
    const [record] = await crls.list(database.db);
    const altered = Buffer.from(record!.crlDer);
    altered[altered.length - 5]! ^= 0xff;
    await database
      .db('trust_anchor_crls')
      .where({ id: record!.id })
      .update({ crl_der: altered.toString('base64') });
    const loaded = await loadVerifiedCrls(database.db);
    expect(loaded.crls).toEqual([]);
    expect(loaded.failed).toMatchObject([{ record: { id: record!.id } }]);
  });
});
