/**
 * The administrators' week, end to end on a real server and the real CLI: each failure is
 * explained in one step with its fix, and the fix works.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { createCa, type Issued, issueLeaf } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const DAY = 86_400_000;
let s: TestServer;
let dir: string;
let env: Record<string, string>;
let n = 0;

function file(pem: string): string {
  const f = path.join(dir, `f${++n}.pem`);
  writeFileSync(f, pem);
  return f;
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, env, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const token = (cert: Issued, clientId: string, chain?: string) => s.token(cert, { grant_type: 'client_credentials', client_id: clientId }, chain === undefined ? {} : { chain });
/** The fix works: `clientId` gets a token for API's read scope, bound to `cert`. */
const expectToken = async (cert: Issued, clientId: string, chain?: string) =>
  expectIssuedToken(s, await token(cert, clientId, chain), { clientId, presented: cert, chain, scopes: ['read'], aud: API });
const san = (value: string) => [{ type: 'dns' as const, value }];

beforeAll(async () => {
  s = await startTestServer({ anchorName: 'prod-root' });
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-scenarios-'));
  env = { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir };
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
});
afterAll(() => s?.close());

describe('the seed scenarios', () => {
  it('1. a staging certificate against a production mapping: WRONG_TRUST_ANCHOR, in environment words', async () => {
    const stagingRoot = await createCa({ name: [{ O: ['Acme Staging'] }, { CN: ['Staging Root'] }] });
    const stagingIssuing = await createCa({ name: [{ O: ['Acme Staging'] }, { CN: ['Staging Issuing'] }], parent: stagingRoot });
    expect((await cli('trust', 'add', '--name', 'staging-root', '--cert', file(stagingRoot.pem), '--environment', 'staging')).code).toBe(0);
    await s.handle.reload();
    expect((await cli('client', 'add', '--id', 'payments', '--san-dns', 'payments.example.com', '--trust', 'prod-root', '--scope', 'read', '--resource', API)).code).toBe(0);
    const stagingCert = await issueLeaf(stagingIssuing, { subject: [{ CN: ['payments'] }], san: san('payments.example.com') });

    const doctor = await cli('doctor', '--cert', file(stagingCert.pem + stagingIssuing.pem), '--client-id', 'payments');
    expect(doctor.code).toBe(1);
    expect(doctor.out).toContain('REFUSED as payments: WRONG_TRUST_ANCHOR');
    expect(doctor.out).toContain('A staging certificate never authenticates a mapping pinned to prod.');
    expect(doctor.out).toContain('chain       complete, ends at trust anchor staging-root (staging)');

    const refused = await token(stagingCert, 'payments', stagingCert.pem + stagingIssuing.pem);
    expect(refused.status).toBe(401);
    // the fix: a certificate from the production CA
    const prodCert = await s.pki.client({ subject: [{ CN: ['payments'] }], san: san('payments.example.com') });
    await expectToken(prodCert, 'payments');
  });

  it('2. a CN-only certificate for a SAN mapping: CN_MATCHES_BUT_SAN_EXPECTED; mapping by subject DN from the certificate fixes it', async () => {
    expect((await cli('client', 'add', '--id', 'ledger', '--san-dns', 'ledger.example.com', '--scope', 'read', '--resource', API)).code).toBe(0);
    const cnOnly = await s.pki.client({ subject: [{ C: ['US'] }, { O: ['Acme'] }, { CN: ['ledger.example.com'] }] });
    const certFile = file(cnOnly.pem + s.pki.intermediate.pem);
    const doctor = await cli('doctor', '--cert', certFile, '--client-id', 'ledger', '--json');
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.out)).toMatchObject({
      code: 'CN_MATCHES_BUT_SAN_EXPECTED',
      certificate: { subject: { rfc4514: 'CN=ledger.example.com,O=Acme,C=US', oneline: '/C=US/O=Acme/CN=ledger.example.com' } },
    });
    expect((await token(cnOnly, 'ledger')).status).toBe(401);
    // fix without retyping: the subject DN read from the certificate, in RFC 4514 order
    const added = await cli('client', 'mapping', 'add', 'ledger', '--from-cert', certFile, '--match', 'subject-dn');
    expect(added.code).toBe(0);
    expect(added.out).toContain('subject_dn=CN=ledger.example.com,O=Acme,C=US');
    expect((await cli('doctor', '--cert', certFile, '--client-id', 'ledger')).code).toBe(0);
    await expectToken(cnOnly, 'ledger');
  });

  it('3. a missing intermediate: INTERMEDIATE_MISSING names the issuer and its key id; with the chain it authenticates', async () => {
    expect((await cli('client', 'add', '--id', 'shipping', '--san-dns', 'shipping.example.com', '--scope', 'read', '--resource', API)).code).toBe(0);
    const cert = await s.pki.client({ subject: [{ CN: ['shipping'] }], san: san('shipping.example.com') });
    const leafOnly = file(cert.pem);
    const doctor = await cli('doctor', '--cert', leafOnly, '--client-id', 'shipping', '--json');
    expect(doctor.code).toBe(1);
    const d = JSON.parse(doctor.out);
    expect(d).toMatchObject({ code: 'INTERMEDIATE_MISSING', chain: { status: 'INTERMEDIATE_MISSING', missing_issuer: { subject: 'CN=Test Issuing CA,O=Test PKI' } } });
    expect(d.chain.missing_issuer.key_id).toBe(d.certificate.authority_key_id);
    expect(d.mapped_by).toEqual([expect.objectContaining({ client_id: 'shipping', code: 'INTERMEDIATE_MISSING' })]);
    expect((await token(cert, 'shipping', cert.pem)).status).toBe(401);
    expect((await cli('doctor', '--cert', leafOnly, '--chain', file(s.pki.intermediate.pem), '--client-id', 'shipping')).code).toBe(0);
    await expectToken(cert, 'shipping', cert.pem + s.pki.intermediate.pem);
  });

  it("4. last year's CN mapping replaced by a staged one, without downtime", async () => {
    expect((await cli('client', 'add', '--id', 'reports', '--subject-dn', 'CN=reports-2025,O=Acme', '--scope', 'read', '--resource', API)).code).toBe(0);
    const oldCert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['reports-2025'] }] });
    const newCert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['reports-2026'] }] });
    const newFile = file(newCert.pem + s.pki.intermediate.pem);
    const before = JSON.parse((await cli('doctor', '--cert', newFile, '--client-id', 'reports', '--json')).out);
    expect(before).toMatchObject({ code: 'SUBJECT_DN_MISMATCH' });
    expect(before.client.mappings[0].fields.identity).toMatchObject({ registered: 'CN=reports-2025,O=Acme', certificate: ['CN=reports-2026,O=Acme'] });

    // stage the new certificate's mapping; the old one stays until it is removed
    expect((await cli('client', 'mapping', 'add', 'reports', '--from-cert', newFile, '--match', 'subject-dn')).code).toBe(0);
    await expectToken(oldCert, 'reports');
    await expectToken(newCert, 'reports');
    const mappings = JSON.parse((await cli('client', 'mapping', 'list', 'reports', '--json')).out) as { id: string; value: string }[];
    const old = mappings.find((m) => m.value === 'CN=reports-2025,O=Acme')!;
    expect((await cli('client', 'mapping', 'remove', 'reports', old.id)).code).toBe(0);
    await expectToken(newCert, 'reports');
    expect((await token(oldCert, 'reports')).status).toBe(401);
    // the same certificate cannot silently become another client's too
    const overlap = await cli('client', 'add', '--id', 'reports-copy', '--from-cert', newFile, '--match', 'subject-dn', '--scope', 'read', '--resource', API);
    expect(overlap.code).toBe(2);
    expect(overlap.err).toContain('"reports-copy" and "reports"');
  });

  it('5. an expiring certificate is reported ahead by certbound certs expiring', async () => {
    expect((await cli('client', 'add', '--id', 'inventory', '--san-dns', 'inventory.example.com', '--scope', 'read', '--resource', API)).code).toBe(0);
    const soon = await s.pki.client({ subject: [{ CN: ['inventory'] }], san: san('inventory.example.com'), notAfter: new Date(Date.now() + 10 * DAY + 3_600_000) });
    await expectToken(soon, 'inventory');
    const mapping = await cli('client', 'mapping', 'add', 'inventory', '--san-dns', 'inventory-2.example.com', '--not-after', new Date(Date.now() + 20 * DAY).toISOString());
    expect(mapping.code).toBe(0);

    let report: { certificates: { client_id: string; days_remaining: number }[]; mappings: { client_id: string; replaced_by: string | null }[] } = {
      certificates: [],
      mappings: [],
    };
    // The certificate is recorded as last seen off the request path: poll the report until it is.
    for (let i = 0; i < 40 && !report.certificates.some((c) => c.client_id === 'inventory'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      report = JSON.parse((await cli('certs', 'expiring', '--within', '30d', '--json')).out);
    }
    expect(report.certificates).toEqual(expect.arrayContaining([expect.objectContaining({ client_id: 'inventory', days_remaining: 10, expired: false, subject: 'CN=inventory' })]));
    expect(report.mappings).toEqual(
      expect.arrayContaining([expect.objectContaining({ client_id: 'inventory', value: 'inventory-2.example.com', replaced_by: expect.any(String) })]),
    );
    const human = await cli('certs', 'expiring', '--within', '30d');
    expect(human.out).toMatch(/inventory\s+\S+\s+in 10d\s+CN=inventory/);
    const narrow = JSON.parse((await cli('certs', 'expiring', '--within', '5d', '--json')).out);
    expect(narrow.certificates.some((c: { client_id: string }) => c.client_id === 'inventory')).toBe(false);
  });
});
