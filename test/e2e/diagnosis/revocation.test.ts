/**
 * PKI-5 end to end: CRLs per trust anchor (files written now with X509CrlGenerator) in the mTLS listener's
 * TLS context, refreshed from their source, and the same verdict from `certbound doctor`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrlService } from '../../../src/app/crls.js';
import { runCli } from '../../../src/cli/index.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { createCrl } from '../../helpers/crl.js';
import { httpsJson } from '../../helpers/net.js';
import { createCa, type Issued, issueLeaf } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const DAY = 86_400_000;
const san = (value: string) => [{ type: 'dns' as const, value }];

async function setup(s: TestServer) {
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await s.admin.addClient({ clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com' }, scopes: ['read'], defaultResource: API }, 'test');
}

function tools(s: TestServer, dir: string) {
  let n = 0;
  return {
    async doctor(cert: Issued) {
      const file = path.join(dir, `doctor-${++n}.pem`);
      writeFileSync(file, cert.pem + s.pki.intermediate.pem);
      const out: string[] = [];
      const code = await runCli(
        ['doctor', '--cert', file, '--client-id', 'billing', '--json'],
        { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir, CERTBOUND_CRL_STALE: s.config.crlStale },
        { out: (t) => out.push(t), err: () => {} },
      );
      return { code, diagnosis: JSON.parse(out.join('\n')) };
    },
    async token(cert: Issued) {
      const res = await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing' });
      const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(res.body.error_description))?.[1];
      return { status: res.status, line: s.logs.find((l) => l.event === 'client_auth_refused' && l.ref === ref) as Record<string, unknown> & { diagnosis?: { code: string } } };
    },
    /** `cert` authenticates billing: a token for API's read scope, bound to it. */
    async expectToken(cert: Issued) {
      await expectIssuedToken(s, await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing' }), {
        clientId: 'billing',
        presented: cert,
        scopes: ['read'],
        aud: API,
      });
    },
  };
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('CRLs, fail-closed (default)', () => {
  let s: TestServer;
  let dir: string;
  let t: ReturnType<typeof tools>;
  let good: Issued;
  let revoked: Issued;
  let later: Issued;
  let intermediateCrlFile: string;
  let intermediateCrlId: string;

  beforeAll(async () => {
    s = await startTestServer({ configOverrides: { crlRefreshIntervalMs: 1000 } });
    dir = mkdtempSync(path.join(tmpdir(), 'certbound-crl-'));
    t = tools(s, dir);
    await setup(s);
    good = await s.pki.client({ subject: [{ CN: ['good'] }], san: san('billing.example.com') });
    revoked = await s.pki.client({ subject: [{ CN: ['revoked'] }], san: san('billing.example.com') });
    later = await s.pki.client({ subject: [{ CN: ['later'] }], san: san('billing.example.com') });
    const rootCrlFile = path.join(dir, 'root.crl');
    intermediateCrlFile = path.join(dir, 'issuing.crl');
    writeFileSync(rootCrlFile, (await createCrl(s.pki.root)).pem);
    writeFileSync(intermediateCrlFile, (await createCrl(s.pki.intermediate, { revoked: [revoked], thisUpdate: new Date(Date.now() - 60_000) })).der);
    const crls = createCrlService({ db: s.database.db });
    await crls.addCrl({ anchor: 'test-root', file: rootCrlFile }, 'test');
    intermediateCrlId = (await crls.addCrl({ anchor: 'test-root', file: intermediateCrlFile, issuerPem: s.pki.intermediate.pem }, 'test')).id;
    await s.handle.reload();
  });
  afterAll(() => s?.close());

  it('PKI-5: a revoked certificate is refused with REVOKED (TLS handshake), and doctor says so; a good one authenticates', async () => {
    const r = await t.token(revoked);
    expect(r.status).toBe(401);
    expect(r.line).toMatchObject({ reason: 'REVOKED', diagnosis: { code: 'REVOKED' } });
    const d = await t.doctor(revoked);
    expect(d.code).toBe(1);
    expect(d.diagnosis).toMatchObject({ code: 'REVOKED', revocation: { mode: 'enforce', status: 'revoked' } });
    await t.expectToken(good);
    expect((await t.doctor(good)).diagnosis).toMatchObject({ would_authenticate: true, revocation: { status: 'good' } });
  });

  it('with CRL checking on, an untrusted chain is still reported as UNTRUSTED_ROOT (not the masking CRL error)', async () => {
    const otherRoot = await createCa({ name: [{ CN: ['Other Root'] }] });
    const otherIssuing = await createCa({ name: [{ CN: ['Other Issuing'] }], parent: otherRoot });
    const cert = await issueLeaf(otherIssuing, { subject: [{ CN: ['x'] }], san: san('billing.example.com') });
    const res = await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing' }, { chain: cert.pem + otherIssuing.pem });
    expect(res.status).toBe(401);
    const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(res.body.error_description))?.[1];
    expect(s.logs.find((l) => l.ref === ref)).toMatchObject({ reason: 'UNTRUSTED_ROOT', details: { tls_reported: 'CRL_UNAVAILABLE' } });
  });

  it('the server refreshes a CRL from its source: a certificate revoked later is refused without a restart, on a kept-alive connection too', async () => {
    await t.expectToken(later);
    // A connection made before the revocation: no new handshake, so only the hook's CRL lookup can refuse it.
    const kept = s.agent(later);
    const form = { grant_type: 'client_credentials', client_id: 'billing' };
    await expectIssuedToken(s, await httpsJson(`${s.handle.mtlsUrl}/token`, { agent: kept, form }), { clientId: 'billing', presented: later, scopes: ['read'], aud: API });
    writeFileSync(intermediateCrlFile, (await createCrl(s.pki.intermediate, { revoked: [revoked, later], thisUpdate: new Date(Date.now() - 1000) })).pem);
    // The server's refresh timer (crlRefreshIntervalMs) runs in real time beside real TLS: poll until it has run.
    const r = await eventually(
      () => t.token(later),
      (v) => v.status === 401,
    );
    expect(r.line).toMatchObject({ reason: 'REVOKED' });
    expect((await t.doctor(later)).diagnosis.code).toBe('REVOKED');
    await t.expectToken(good);
    const reused = await httpsJson(`${s.handle.mtlsUrl}/token`, { agent: kept, form });
    expect(reused.status).toBe(401);
    const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(reused.body.error_description))?.[1];
    expect(s.logs.find((l) => l.ref === ref)).toMatchObject({ reason: 'REVOKED' });
  });

  it('CRL_STALE: a CRL past its nextUpdate refuses the certificates it covers (fail-closed)', async () => {
    writeFileSync(intermediateCrlFile, (await createCrl(s.pki.intermediate, { thisUpdate: new Date(Date.now() - 500), nextUpdate: new Date(Date.now() + 1500) })).pem);
    const loaded = await eventually(
      () => t.doctor(good),
      (v) => v.diagnosis.revocation.certificates[0]?.next_update !== null && Date.parse(v.diagnosis.revocation.certificates[0].next_update) < Date.now() + 2000,
    );
    // A real wait, until just past nextUpdate: OpenSSL checks it in the handshake against the system clock, which no fake clock reaches.
    const nextUpdate = Date.parse(loaded.diagnosis.revocation.certificates[0].next_update);
    await new Promise((r) => setTimeout(r, Math.max(0, nextUpdate - Date.now() + 100)));
    const r = await eventually(
      () => t.token(good),
      (v) => v.status === 401,
    );
    expect(r.line).toMatchObject({ reason: 'CRL_STALE', diagnosis: { code: 'CRL_STALE' } });
    expect((await t.doctor(good)).diagnosis.code).toBe('CRL_STALE');
  });

  it('CRL_UNAVAILABLE: with CRL checking on, a CA of the chain without a CRL', async () => {
    await createCrlService({ db: s.database.db }).removeCrl('test-root', intermediateCrlId, 'test');
    await s.handle.reload();
    const r = await t.token(good);
    expect(r.status).toBe(401);
    expect(r.line).toMatchObject({ reason: 'CRL_UNAVAILABLE', diagnosis: { code: 'CRL_UNAVAILABLE' } });
    const d = await t.doctor(good);
    expect(d.diagnosis.code).toBe('CRL_UNAVAILABLE');
    expect(d.diagnosis.message).toContain('CN=Test Issuing CA,O=Test PKI');
  });

  it('trust crl list shows the CRLs; a CRL of another CA is refused at add time', async () => {
    const out: string[] = [];
    const env = { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir };
    expect(await runCli(['trust', 'crl', 'list', '--json'], env, { out: (x) => out.push(x), err: () => {} })).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual([expect.objectContaining({ anchor: 'test-root', issuer: 'CN=Test Root CA,O=Test PKI', source_kind: 'file' })]);
    const stranger = await createCa({ name: [{ CN: ['Stranger CA'] }] });
    const file = path.join(dir, 'stranger.crl');
    writeFileSync(file, (await createCrl(stranger)).pem);
    const err: string[] = [];
    expect(await runCli(['trust', 'crl', 'add', 'test-root', '--file', file], env, { out: () => {}, err: (x) => err.push(x) })).toBe(2);
    expect(err.join('\n')).toContain('issued by CN=Stranger CA');
  });
});

describe('CRLs, fail-open', () => {
  let s: TestServer;
  let t: ReturnType<typeof tools>;

  beforeAll(async () => {
    s = await startTestServer({ configOverrides: { crlStale: 'fail-open' } });
    const dir = mkdtempSync(path.join(tmpdir(), 'certbound-crl-open-'));
    t = tools(s, dir);
    await setup(s);
    const root = path.join(dir, 'root.crl');
    const issuing = path.join(dir, 'issuing.crl');
    writeFileSync(root, (await createCrl(s.pki.root)).pem);
    writeFileSync(issuing, (await createCrl(s.pki.intermediate, { revoked: ['7fff'], thisUpdate: new Date(Date.now() - 2 * DAY), nextUpdate: new Date(Date.now() - DAY) })).pem);
    const crls = createCrlService({ db: s.database.db });
    await crls.addCrl({ anchor: 'test-root', file: root }, 'test');
    await crls.addCrl({ anchor: 'test-root', file: issuing, issuerPem: s.pki.intermediate.pem }, 'test');
    await s.handle.reload();
  });
  afterAll(() => s?.close());

  it('a stale CRL takes the CRLs out of the TLS check; certificates still authenticate, with a warning from doctor', async () => {
    const good = await s.pki.client({ subject: [{ CN: ['good'] }], san: san('billing.example.com') });
    await t.expectToken(good);
    const d = await t.doctor(good);
    expect(d.code).toBe(0);
    expect(d.diagnosis.revocation.mode).toBe('known-revoked-only');
    expect(d.diagnosis.findings).toEqual([expect.objectContaining({ code: 'CRL_STALE', severity: 'warning' })]);
  });

  it('a certificate listed in the (stale) CRL is still refused with REVOKED, by the lookup in the mTLS hook', async () => {
    const listed = await s.pki.client({ subject: [{ CN: ['listed'] }], san: san('billing.example.com'), serialNumber: '7fff' });
    const r = await t.token(listed);
    expect(r.status).toBe(401);
    expect(r.line).toMatchObject({ reason: 'REVOKED', diagnosis: { code: 'REVOKED' } });
  });
});
