/**
 * Mapping lifecycle: the overlap check, --from-cert with RFC 4514 order, staged windows.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappingValueFromCertificate } from '../../src/app/mapping-from-cert.js';
import { createAdminService } from '../../src/app/service.js';
import { adminApiWording } from '../../src/admin-api/error-wording.js';
import { explainForCli } from '../../src/cli/error-wording.js';
import { runCli } from '../../src/cli/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { refusal } from '../helpers/errors.js';
import { createCa, createTestPki, type TestPki } from '../helpers/pki.js';

let database: TestDatabase;
let pki: TestPki;
let admin: ReturnType<typeof createAdminService>;
let dir: string;
const DAY = 86_400_000;

beforeAll(async () => {
  database = await createTestDatabase();
  pki = await createTestPki();
  admin = createAdminService({ db: database.db, signingAlg: 'ES256' });
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-lifecycle-'));
  await admin.addTrustAnchor({ name: 'prod-root', pem: pki.root.pem, environment: 'prod' }, 'test');
  await admin.addTrustAnchor({ name: 'staging-root', pem: (await createCa({ name: [{ CN: ['Staging Root'] }] })).pem, environment: 'staging' }, 'test');
  await admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' } }, 'test');
});
afterAll(() => database?.drop());

describe('overlap check', () => {
  it('refuses a mapping that lets one certificate authenticate as two clients, naming both; nothing is written', async () => {
    const before = await database.db('certificate_mappings').count({ n: '*' });
    const err = await refusal(admin.addClient({ clientId: 'billing-2', mapping: { kind: 'san_dns', value: 'BILLING.example.com' } }, 'test'));
    expect(err).toMatchObject({ code: 'ERR_MAPPING_OVERLAP', status: 409 });
    expect(err.message).toContain('"billing-2" and "billing"');
    // the use case names the member and the clients; each surface says how to allow it in its own words
    expect(err.details).toMatchObject({ member: 'mapping.value', clients: ['billing-2', 'billing'] });
    expect(err.hint).not.toMatch(/--allow-overlap|allow_overlap/);
    expect(explainForCli(err)).toContain('or allow the overlap (--allow-overlap)');
    expect(adminApiWording(err)).toMatchObject({ field: 'mapping.value', message: expect.stringMatching(/^mapping\.value: /), hint: expect.stringContaining('(allow_overlap)') });
    expect(await database.db('clients').where({ client_id: 'billing-2' }).first()).toBeUndefined();
    expect(await database.db('certificate_mappings').count({ n: '*' })).toEqual(before);
  });

  it('a pinned mapping overlaps an unpinned one; mappings pinned to different anchors do not overlap', async () => {
    await admin.addClient({ clientId: 'pinned-prod', mapping: { kind: 'subject_dn', value: 'CN=svc,O=Acme', trustAnchor: 'prod-root' } }, 'test');
    expect((await refusal(admin.addClient({ clientId: 'unpinned', mapping: { kind: 'subject_dn', value: 'cn=svc, o=acme' } }, 'test'))).code).toBe('ERR_MAPPING_OVERLAP');
    const staging = await admin.addClient({ clientId: 'pinned-staging', mapping: { kind: 'subject_dn', value: 'CN=svc,O=Acme', trustAnchor: 'staging-root' } }, 'test');
    expect(staging).toMatchObject({
      clientId: 'pinned-staging',
      mappings: [{ kind: 'subject_dn', value: 'CN=svc,O=Acme', trustAnchorName: 'staging-root', trustAnchorEnvironment: 'staging' }],
    });
    expect(await database.db('clients').where({ client_id: 'pinned-staging' }).first()).toMatchObject({ client_id: 'pinned-staging' });
  });

  it('mappings whose validity windows do not intersect do not overlap (a value handed over from one client to another)', async () => {
    await admin.addClient({ clientId: 'old-owner', mapping: { kind: 'san_uri', value: 'spiffe://acme/svc', notAfter: new Date(Date.now() + DAY) } }, 'test');
    expect((await refusal(admin.addClient({ clientId: 'new-owner', mapping: { kind: 'san_uri', value: 'spiffe://acme/svc' } }, 'test'))).code).toBe('ERR_MAPPING_OVERLAP');
    const notBefore = new Date(Date.now() + 2 * DAY);
    const newOwner = await admin.addClient({ clientId: 'new-owner', mapping: { kind: 'san_uri', value: 'spiffe://acme/svc', notBefore } }, 'test');
    expect(newOwner).toMatchObject({ clientId: 'new-owner', mappings: [{ kind: 'san_uri', value: 'spiffe://acme/svc', notBefore, notAfter: null }] });
  });

  it('allowOverlap accepts it, and the audit row records that it was allowed', async () => {
    await admin.addClient({ clientId: 'shared', mapping: { kind: 'san_ip', value: '192.0.2.7' } }, 'test');
    await admin.addClient({ clientId: 'shared-2', mapping: { kind: 'san_dns', value: 'shared-2.example.com' } }, 'test');
    expect((await refusal(admin.addMapping('shared-2', { kind: 'san_ip', value: '192.0.2.7' }, 'test'))).code).toBe('ERR_MAPPING_OVERLAP');
    await admin.addMapping('shared-2', { kind: 'san_ip', value: '192.0.2.7', allowOverlap: true }, 'test');
    const [row] = await admin.listAudit({ limit: 1 });
    expect(row).toMatchObject({ action: 'mapping.add', target: 'client:shared-2', after: expect.objectContaining({ allowOverlap: true }) });
  });

  it('the same client may hold the same value twice (rotation windows)', async () => {
    const notAfter = new Date(Date.now() + DAY);
    const second = await admin.addMapping('billing', { kind: 'san_dns', value: 'billing.example.com', notAfter }, 'test');
    expect(second).toMatchObject({ clientId: 'billing', kind: 'san_dns', value: 'billing.example.com', notAfter });
    expect((await admin.showClient('billing')).mappings.map((m) => m.id)).toContain(second.id);
    expect((await admin.showClient('billing')).mappings.filter((m) => m.canonical === second.canonical)).toHaveLength(2);
  });
});

describe('--from-cert', () => {
  it('reads the subject DN in RFC 4514 order (most specific RDN first), and single SANs of each kind', async () => {
    const cert = await pki.client({
      subject: [{ C: ['US'] }, { O: ['Acme, Inc.'] }, { OU: ['Payments'] }, { CN: ['pay-1'] }],
      san: [
        { type: 'dns', value: 'pay.example.com' },
        { type: 'ip', value: '2001:db8::7' },
        { type: 'url', value: 'spiffe://acme/pay' },
        { type: 'email', value: 'Ops@Example.com' },
      ],
    });
    expect(mappingValueFromCertificate(cert.pem, 'subject-dn')).toEqual({ kind: 'subject_dn', value: 'CN=pay-1,OU=Payments,O=Acme\\, Inc.,C=US' });
    expect(mappingValueFromCertificate(cert.pem, 'san-dns')).toEqual({ kind: 'san_dns', value: 'pay.example.com' });
    expect(mappingValueFromCertificate(cert.pem, 'san-ip')).toEqual({ kind: 'san_ip', value: '2001:db8::7' });
    expect(mappingValueFromCertificate(cert.pem, 'san-uri')).toEqual({ kind: 'san_uri', value: 'spiffe://acme/pay' });
    expect(mappingValueFromCertificate(cert.pem, 'san-email')).toEqual({ kind: 'san_email', value: 'Ops@Example.com' });
  });

  it('several SANs of the kind need --value; a missing SAN kind is explained (the CN is never a SAN)', async () => {
    const two = await pki.client({
      subject: [{ CN: ['a.example.com'] }],
      san: [
        { type: 'dns', value: 'a.example.com' },
        { type: 'dns', value: 'b.example.com' },
      ],
    });
    expect(() => mappingValueFromCertificate(two.pem, 'san-dns')).toThrow(/2 DNS SANs: a.example.com, b.example.com/);
    expect(mappingValueFromCertificate(two.pem, 'san-dns', 'b.example.com').value).toBe('b.example.com');
    const cnOnly = await pki.client({ subject: [{ CN: ['c.example.com'] }] });
    expect(() => mappingValueFromCertificate(cnOnly.pem, 'san-dns')).toThrow(/no DNS SAN/);
  });

  it('certbound client mapping add --from-cert stores what the certificate says; --match without --from-cert is refused', async () => {
    const cert = await pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing-2027'] }] });
    const file = path.join(dir, 'billing-2027.pem');
    writeFileSync(file, cert.pem);
    const env = { CERTBOUND_DATABASE_URL: database.url, CERTBOUND_DATA_DIR: dir };
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    expect(await runCli(['client', 'mapping', 'add', 'billing', '--from-cert', file, '--match', 'subject-dn', '--not-before', new Date().toISOString()], env, io)).toBe(0);
    const shown = await admin.showClient('billing');
    expect(shown.mappings.at(-1)).toMatchObject({ kind: 'subject_dn', value: 'CN=billing-2027,O=Acme' });
    expect(await runCli(['client', 'mapping', 'add', 'billing', '--match', 'subject-dn'], env, io)).toBe(2);
    expect(err.join('\n')).toContain('--match and --value go with --from-cert');
    expect(await runCli(['client', 'mapping', 'add', 'billing', '--from-cert', file], env, io)).toBe(2);
  });
});
