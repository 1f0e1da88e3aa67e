/**
 * The admin routes the console reads besides the records: the audit log filtered and paged, what
 * expires, a client's last-seen certificate, the CRLs (listed and removed), a mapping read from a certificate, and a refusal
 * by its ref. Over real mTLS with a real token, on SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrlService } from '../../../src/app/crls.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { createCrl } from '../../helpers/crl.js';
import { createTestPki } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

let s: TestServer;
let ops: AdminCaller;

beforeAll(async () => {
  s = await startTestServer();
  ops = await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' });
});
afterAll(() => s?.close());

describe('admin routes for the console', () => {
  it('the audit log filters by actor and action (exact or prefix) and time, and pages with before', async () => {
    for (const id of ['https://a.example.com', 'https://b.example.com', 'https://c.example.com']) {
      expect((await ops.call('POST', '/admin/resource-servers', { body: { identifier: id, scope: 'read' } })).status).toBe(201);
    }
    const actor = `admin:ops:${x5tS256(ops.client.der)}`;
    const page1 = await ops.call('GET', '/admin/audit?actor=admin:ops:&action=resource.&limit=2');
    expect(page1.status, page1.text).toBe(200);
    expect(page1.body.items!.map((e) => [e.actor, e.target])).toEqual([
      [actor, 'resource:https://c.example.com'],
      [actor, 'resource:https://b.example.com'],
    ]);
    const page2 = await ops.call('GET', `/admin/audit?actor=admin:ops:&action=resource.&limit=2&before=${page1.body.items![1]!.id}`);
    expect(page2.body.items!.map((e) => e.target)).toEqual(['resource:https://a.example.com']);
    const exact = (await ops.call('GET', `/admin/audit?actor=${encodeURIComponent(actor)}`)).body.items!;
    expect(exact.length).toBeGreaterThanOrEqual(3);
    expect(new Set(exact.map((e) => e.actor))).toEqual(new Set([actor]));
    expect((await ops.call('GET', '/admin/audit?actor=admin:op')).body.items).toEqual([]);
    expect((await ops.call('GET', '/admin/audit?action=resource')).body.items).toEqual([]);
    expect((await ops.call('GET', '/admin/audit?action=client.add')).body.items!.map((e) => e.target)).toContain('client:ops');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await ops.call('GET', `/admin/audit?since=${encodeURIComponent(future)}`)).body.items).toEqual([]);
    expect((await ops.call('GET', `/admin/audit?until=${encodeURIComponent(future)}&action=resource.&actor=admin:ops:`)).body.items).toHaveLength(3);
    const bad = await ops.call('GET', '/admin/audit?before=x');
    expect(bad.body).toMatchObject({ code: 'ERR_VALIDATION', details: { field: 'before (query parameter)' } });
  });

  it('expiry lists mappings that end within the window; last-seen shows the certificate a client authenticated with; CRLs are listed', async () => {
    await s.admin.addClient({ clientId: 'soon', mapping: { kind: 'san_dns', value: 'soon.example.com', notAfter: new Date(Date.now() + 3 * 86_400_000) }, scopes: [] }, 'test');
    const report = await ops.call('GET', '/admin/expiry?within=7d');
    expect(report.status, report.text).toBe(200);
    expect((report.body.mappings as { client_id: string; days_remaining: number }[]).map((m) => [m.client_id, m.days_remaining])).toEqual([['soon', 2]]);
    expect((await ops.call('GET', '/admin/expiry?within=soon')).body).toMatchObject({ code: 'ERR_VALIDATION' });

    // ops authenticated at the token endpoint when it got its token
    await expect.poll(async () => (await ops.call('GET', '/admin/clients/ops/last-seen')).body.items?.length).toBe(1);
    const seen = (await ops.call('GET', '/admin/clients/ops/last-seen')).body.items![0]!;
    expect(seen).toMatchObject({ 'x5t#S256': x5tS256(ops.client.der), subject: 'CN=ops,O=Acme' });
    expect((await ops.call('GET', '/admin/clients/nobody/last-seen')).body.code).toBe('ERR_CLIENT_UNKNOWN');
    expect((await ops.call('GET', '/admin/crls')).body).toEqual({ items: [] });
  });

  it('mapping-from-cert reads the value as --from-cert does, and names the field of a refusal', async () => {
    const cert = await s.pki.client({
      subject: [{ O: ['Acme'] }, { CN: ['billing'] }],
      san: [
        { type: 'dns', value: 'a.example.com' },
        { type: 'dns', value: 'b.example.com' },
      ],
    });
    const dn = await ops.call('POST', '/admin/mapping-from-cert', { body: { certificate: cert.pem, match: 'subject-dn' } });
    expect(dn.body).toMatchObject({ kind: 'subject_dn', value: 'CN=billing,O=Acme', certificate: { 'x5t#S256': x5tS256(cert.der) } });
    const several = await ops.call('POST', '/admin/mapping-from-cert', { body: { certificate: cert.pem, match: 'san-dns' } });
    expect(several.body).toMatchObject({ code: 'ERR_CERT_SEVERAL_VALUES', details: { field: 'value' } });
    expect((await ops.call('POST', '/admin/mapping-from-cert', { body: { certificate: cert.pem, match: 'san-dns', value: 'b.example.com' } })).body).toMatchObject({
      kind: 'san_dns',
      value: 'b.example.com',
    });
    expect((await ops.call('POST', '/admin/mapping-from-cert', { body: { certificate: cert.pem, match: 'san-uri' } })).body).toMatchObject({
      code: 'ERR_CERT_NO_VALUE',
      details: { field: 'match' },
    });
    const garbage = await ops.call('POST', '/admin/mapping-from-cert', { body: { certificate: 'not a pem', match: 'subject-dn' } });
    expect(garbage.status).toBe(400);
    expect((garbage.body.details as { field: string }).field).toBe('certificate');
  });

  it('a refusal is found by its ref with the diagnosis the server logged; an unknown ref says why it is not there', async () => {
    const stranger = await s.pki.client({ subject: [{ CN: ['stranger'] }] });
    const refused = await s.token(stranger, { grant_type: 'client_credentials', client_id: 'ops' });
    const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(refused.body.error_description))![1]!;
    const found = await ops.call('GET', `/admin/refusals/${ref}`);
    expect(found.status, found.text).toBe(200);
    expect(found.body).toMatchObject({ ref, client_id: 'ops', 'x5t#S256': x5tS256(stranger.der), reason: expect.any(String) });
    expect((found.body.diagnosis as { client: { client_id: string } }).client.client_id).toBe('ops');
    const missing = await ops.call('GET', '/admin/refusals/0badc0de');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('ERR_REFUSAL_UNKNOWN');
    expect(String(missing.body.message)).toMatch(/keeps the last 1000 refusals .*another replica.*restarted/);
    expect((await ops.call('GET', '/admin/refusals/nope')).body.code).toBe('ERR_VALIDATION');
  });

  it("removes a trust anchor's CRL, audited with the administrator; an unknown one is 404", async () => {
    // Once the server holds any CRL, every chain needs a current CRL from its issuers (fail-closed), the
    // administrator's own included: test-root's CRLs (of the root and of the issuing CA) are added first,
    // and the server reloads before the calls, so no answer depends on when the reload lands. The CRL
    // removed is another anchor's.
    const other = await createTestPki('Other');
    await s.admin.addTrustAnchor({ name: 'other-root', pem: other.root.pem }, 'test');
    const dir = mkdtempSync(join(tmpdir(), 'certbound-crl-'));
    try {
      const crlFile = async (name: string, issuer: Parameters<typeof createCrl>[0]) => {
        const file = join(dir, name);
        writeFileSync(file, (await createCrl(issuer)).der);
        return file;
      };
      const service = createCrlService({ db: s.database.db });
      await service.addCrl({ anchor: 'test-root', file: await crlFile('test-root.crl', s.pki.root) }, 'test');
      await service.addCrl({ anchor: 'test-root', file: await crlFile('test-issuing.crl', s.pki.intermediate), issuerPem: s.pki.intermediate.pem }, 'test');
      const record = await service.addCrl({ anchor: 'other-root', file: await crlFile('other-root.crl', other.root) }, 'test');
      await s.handle.reload();
      const listed = await ops.call('GET', '/admin/crls');
      expect(listed.status, listed.text).toBe(200);
      expect(listed.body.items).toHaveLength(3);
      expect(listed.body.items).toContainEqual(expect.objectContaining({ id: record.id, trust_anchor: 'other-root', source_kind: 'file', revoked_count: 0, last_error: null }));
      const removed = await ops.call('DELETE', `/admin/trust-anchors/other-root/crls/${record.id}`);
      expect(removed.status, removed.text).toBe(204);
      const left = (await ops.call('GET', '/admin/crls')).body.items as { id: string; trust_anchor: string }[];
      expect(left.map((c) => c.trust_anchor)).toEqual(['test-root', 'test-root']);
      expect(left.map((c) => c.id)).not.toContain(record.id);
      const audit = await ops.call('GET', '/admin/audit?action=trust.crl.remove');
      expect(audit.body.items![0]).toMatchObject({ actor: `admin:ops:${x5tS256(ops.client.der)}`, target: 'trust:other-root' });
      const unknown = await ops.call('DELETE', `/admin/trust-anchors/other-root/crls/${record.id}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('ERR_CRL_UNKNOWN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
