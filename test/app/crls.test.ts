/**
 * CRL sources per trust anchor: a URL served now by a local HTTP server, an intermediate's CRL with its
 * issuer certificate, and refusals that write nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrlService } from '../../src/app/crls.js';
import { loadVerifiedCrls } from '../../src/revocation/index.js';
import { createAdminService } from '../../src/app/service.js';
import { listAudit } from '../../src/store/index.js';
import { createCrl } from '../helpers/crl.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createCa, createTestPki, type TestPki } from '../helpers/pki.js';

let database: TestDatabase;
let pki: TestPki;
let http: Server;
let base: string;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  database = await createTestDatabase();
  pki = await createTestPki();
  await createAdminService({ db: database.db, signingAlg: 'ES256' }).addTrustAnchor({ name: 'corp-root', pem: pki.root.pem, environment: 'prod' }, 'test');
  http = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  await database?.drop();
});

describe('certbound trust crl add (createCrlService.addCrl)', () => {
  it('fetches a CRL from a URL, verifies it with the anchor, stores it with an audit row', async () => {
    served.set('/root.crl', (await createCrl(pki.root)).der);
    const service = createCrlService({ db: database.db });
    const record = await service.addCrl({ anchor: 'corp-root', url: `${base}/root.crl` }, 'cli:test');
    expect(record).toMatchObject({ sourceKind: 'url', issuerSubject: 'CN=Test Root CA,O=Test PKI', revokedCount: 0 });
    expect((await loadVerifiedCrls(database.db)).crls).toHaveLength(1);
    expect((await listAudit(database.db, { limit: 1 }))[0]).toMatchObject({ actor: 'cli:test', action: 'trust.crl.add', target: 'trust:corp-root' });
  });

  it("an intermediate's CRL needs its issuer certificate, which must chain to the anchor", async () => {
    const leaf = await pki.client({ subject: [{ CN: ['r'] }] });
    served.set('/issuing.crl', (await createCrl(pki.intermediate, { revoked: [leaf] })).der);
    const service = createCrlService({ db: database.db });
    await expect(service.addCrl({ anchor: 'corp-root', url: `${base}/issuing.crl` }, 'test')).rejects.toMatchObject({ code: 'ERR_CRL_ISSUER' });
    const outsider = await createCa({ name: [{ O: ['Test PKI'] }, { CN: ['Test Issuing CA'] }] });
    await expect(service.addCrl({ anchor: 'corp-root', url: `${base}/issuing.crl`, issuerPem: outsider.pem }, 'test')).rejects.toMatchObject({ code: 'ERR_CRL_ISSUER' });
    const record = await service.addCrl({ anchor: 'corp-root', url: `${base}/issuing.crl`, issuerPem: pki.intermediate.pem }, 'test');
    expect(record).toMatchObject({ issuerSubject: 'CN=Test Issuing CA,O=Test PKI', revokedCount: 1 });
    await expect(service.addCrl({ anchor: 'corp-root', url: `${base}/issuing.crl`, issuerPem: pki.intermediate.pem }, 'test')).rejects.toMatchObject({ code: 'ERR_CRL_EXISTS' });
  });

  it('an unreachable source, an unknown anchor or two sources at once are refused, writing nothing', async () => {
    const service = createCrlService({ db: database.db });
    const before = (await service.listCrls()).length;
    await expect(service.addCrl({ anchor: 'corp-root', url: `${base}/missing.crl` }, 'test')).rejects.toMatchObject({ code: 'ERR_CRL_FETCH' });
    await expect(service.addCrl({ anchor: 'nope', url: `${base}/root.crl` }, 'test')).rejects.toMatchObject({ code: 'ERR_TRUST_ANCHOR_UNKNOWN' });
    await expect(service.addCrl({ anchor: 'corp-root', url: `${base}/root.crl`, file: '/tmp/x.crl' }, 'test')).rejects.toMatchObject({ code: 'ERR_CRL_SOURCE' });
    await expect(service.addCrl({ anchor: 'corp-root', url: 'ftp://example.com/x.crl' }, 'test')).rejects.toMatchObject({ code: 'ERR_CRL_SOURCE' });
    expect((await service.listCrls()).length).toBe(before);
  });

  it('refreshCrl keeps the newest CRL only, and records a failing fetch on the row', async () => {
    const service = createCrlService({ db: database.db });
    const record = (await service.listCrls()).find((c) => c.source.endsWith('/root.crl'))!;
    served.set('/root.crl', (await createCrl(pki.root, { thisUpdate: new Date(Date.now() - 3600_000) })).der);
    expect(await service.refreshCrl(record)).toBe('unchanged');
    served.set('/root.crl', (await createCrl(pki.root, { thisUpdate: new Date(Date.now() - 1000), revoked: ['0a'] })).der);
    expect(await service.refreshCrl(record)).toBe('updated');
    expect((await service.listCrls()).find((c) => c.id === record.id)).toMatchObject({ revokedCount: 1, lastError: null });
    served.delete('/root.crl');
    await expect(service.refreshCrl(record)).rejects.toMatchObject({ code: 'ERR_CRL_FETCH' });
    expect((await service.listCrls()).find((c) => c.id === record.id)?.lastError).toContain('HTTP 404');
  });
});
