/**
 * Every reason code, end to end: the failing certificate is built now, `certbound doctor --json` reports
 * the code (exit 1), and the token endpoint refuses it with `invalid_client` whose `ref` leads to a
 * `client_auth_refused` log line carrying the same code and the same engine's diagnosis.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { createCa, EKU_SERVER_AUTH, type Issued, issueLeaf, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const DAY = 86_400_000;
let s: TestServer;
let dir: string;
let staging: { root: Issued; issuing: Issued };
let unknown: { root: Issued; issuing: Issued };
let fileNo = 0;

async function doctor(cert: Issued, chain: Issued[] | 'none', clientId: string) {
  const certFile = path.join(dir, `cert-${++fileNo}.pem`);
  writeFileSync(certFile, cert.pem);
  const argv = ['doctor', '--cert', certFile, '--client-id', clientId, '--json'];
  const chainPems = chain === 'none' ? [] : chain.map((c) => c.pem);
  if (chainPems.length) {
    const chainFile = path.join(dir, `chain-${fileNo}.pem`);
    writeFileSync(chainFile, chainPems.join(''));
    argv.push('--chain', chainFile);
  }
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir }, { out: (t) => out.push(t), err: (t) => err.push(t) });
  expect(err.join('\n')).toBe('');
  return { code, diagnosis: JSON.parse(out.join('\n')) };
}

/** POST /token with `cert` and `chain`; returns the refusal log line with the ref from error_description. */
async function refusedAtTokenEndpoint(cert: Issued, chain: Issued[] | 'none', clientId: string) {
  const res = await s.token(cert, { grant_type: 'client_credentials', client_id: clientId }, { chain: cert.pem + (chain === 'none' ? '' : chain.map((c) => c.pem).join('')) });
  expect(res.status).toBe(401);
  expect(res.body.error).toBe('invalid_client');
  const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(res.body.error_description))?.[1];
  expect(ref, String(res.body.error_description)).toBeDefined();
  const lines = s.logs.filter((l) => l.event === 'client_auth_refused' && l.ref === ref);
  expect(lines).toHaveLength(1);
  // nothing about the certificate reaches the client
  expect(String(res.body.error_description)).not.toMatch(/CN=|SAN|expired|revoked/i);
  return lines[0] as { reason: string; client_id: string; diagnosis: { code: string; would_authenticate: boolean; message: string } };
}

async function expectCode(code: string, cert: Issued, chain: Issued[] | 'none', clientId: string) {
  const cli = await doctor(cert, chain, clientId);
  expect(cli.code, JSON.stringify(cli.diagnosis.findings)).toBe(1);
  expect(cli.diagnosis).toMatchObject({ would_authenticate: false, code });
  const line = await refusedAtTokenEndpoint(cert, chain, clientId);
  expect(line).toMatchObject({ reason: code, client_id: clientId, diagnosis: { code, would_authenticate: false } });
  const timeless = (m: string) => m.replace(/\(it is now [^)]*\)/, '');
  expect(timeless(line.diagnosis.message)).toBe(timeless(cli.diagnosis.message));
  return { cli: cli.diagnosis, line };
}

const intermediate = () => [s.pki.intermediate];

beforeAll(async () => {
  s = await startTestServer();
  dir = mkdtempSync(path.join(tmpdir(), 'certbound-doctor-'));
  const stagingRoot = await createCa({ name: [{ O: ['Acme Staging'] }, { CN: ['Staging Root'] }] });
  staging = { root: stagingRoot, issuing: await createCa({ name: [{ O: ['Acme Staging'] }, { CN: ['Staging Issuing'] }], parent: stagingRoot }) };
  const unknownRoot = await createCa({ name: [{ CN: ['Unknown Root'] }] });
  unknown = { root: unknownRoot, issuing: await createCa({ name: [{ CN: ['Unknown Issuing'] }], parent: unknownRoot }) };
  await s.admin.addTrustAnchor({ name: 'staging-root', pem: staging.root.pem, environment: 'staging' }, 'test');
  await s.handle.reload();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  const add = (clientId: string, mapping: Parameters<typeof s.admin.addClient>[0]['mapping']) =>
    s.admin.addClient({ clientId, mapping, scopes: ['read'], defaultResource: API }, 'test');
  await add('reversed', { kind: 'subject_dn', value: 'C=US,O=Acme,CN=reversed' });
  await add('old-cn', { kind: 'subject_dn', value: 'CN=svc-2025,O=Acme' });
  await add('san-client', { kind: 'san_dns', value: 'san-client.example.com' });
  await add('pinned-prod', { kind: 'san_dns', value: 'pinned.example.com', trustAnchor: 'test-root' });
  await add('future', { kind: 'san_dns', value: 'future.example.com', notBefore: new Date(Date.now() + DAY) });
  await add('past', { kind: 'san_dns', value: 'past.example.com', notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) });
});
afterAll(() => s?.close());

describe('reason codes at the CLI (doctor --json) and in the token endpoint log line', () => {
  const san = (value: string) => [{ type: 'dns' as const, value }];

  it('a good certificate: doctor exits 0, the token endpoint issues a token', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['san-client'] }], san: san('san-client.example.com') });
    const cli = await doctor(cert, intermediate(), 'san-client');
    expect(cli.code).toBe(0);
    expect(cli.diagnosis).toMatchObject({ would_authenticate: true, code: null, authenticates_as: [expect.objectContaining({ client_id: 'san-client' })] });
    await expectIssuedToken(s, await s.token(cert, { grant_type: 'client_credentials', client_id: 'san-client' }), {
      clientId: 'san-client',
      presented: cert,
      scopes: ['read'],
      aud: API,
    });
  });

  it('SUBJECT_DN_ORDER_REVERSED', async () => {
    const cert = await s.pki.client({ subject: [{ C: ['US'] }, { O: ['Acme'] }, { CN: ['reversed'] }] });
    const { cli } = await expectCode('SUBJECT_DN_ORDER_REVERSED', cert, intermediate(), 'reversed');
    expect(cli.hint).toContain('CN=reversed,O=Acme,C=US');
  });

  it('SUBJECT_DN_MISMATCH', async () => {
    const cert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['svc-2026'] }] });
    await expectCode('SUBJECT_DN_MISMATCH', cert, intermediate(), 'old-cn');
  });

  it('CN_MATCHES_BUT_SAN_EXPECTED', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['san-client.example.com'] }] });
    await expectCode('CN_MATCHES_BUT_SAN_EXPECTED', cert, intermediate(), 'san-client');
  });

  it('SAN_MISSING', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['x'] }], san: [{ type: 'email', value: 'ops@example.com' }] });
    await expectCode('SAN_MISSING', cert, intermediate(), 'san-client');
  });

  it('SAN_MISMATCH, with the closest registered value and the certificate value', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['x'] }], san: san('san-client.example.org') });
    const { cli } = await expectCode('SAN_MISMATCH', cert, intermediate(), 'san-client');
    expect(cli.message).toContain('Closest: registered san-client.example.com, certificate san-client.example.org');
  });

  it('WRONG_TRUST_ANCHOR: a staging chain for a mapping pinned to the prod anchor', async () => {
    const cert = await issueLeaf(staging.issuing, { subject: [{ CN: ['pinned'] }], san: san('pinned.example.com') });
    const { cli } = await expectCode('WRONG_TRUST_ANCHOR', cert, [staging.issuing], 'pinned-prod');
    expect(cli.message).toContain('A staging certificate never authenticates a mapping pinned to prod.');
  });

  it('INTERMEDIATE_MISSING, naming the missing issuer and its key id', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['x'] }], san: san('san-client.example.com') });
    const { cli } = await expectCode('INTERMEDIATE_MISSING', cert, 'none', 'san-client');
    expect(cli.chain.missing_issuer).toEqual({ subject: 'CN=Test Issuing CA,O=Test PKI', key_id: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });

  it("one cause gets one reason code: a missing intermediate under a pinned mapping is INTERMEDIATE_MISSING in doctor and in the refusal log line's diagnosis, never also TRUST_ANCHOR_UNKNOWN", async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['pinned'] }], san: san('pinned.example.com') });
    const { cli, line } = await expectCode('INTERMEDIATE_MISSING', cert, 'none', 'pinned-prod');
    for (const d of [cli, line.diagnosis as unknown as typeof cli]) {
      expect(d.client.mappings[0].fields.trust_anchor).toMatchObject({ status: 'not_checked', code: null, blocked_by: 'INTERMEDIATE_MISSING' });
      expect(JSON.stringify(d)).not.toContain('TRUST_ANCHOR_UNKNOWN');
    }
  });

  it('doctor without --client-id names the near misses, field by field, in text and in --json', async () => {
    const cert = await s.pki.client({ subject: [{ C: ['US'] }, { O: ['Acme'] }, { CN: ['reversed'] }], san: san('san-cliemt.example.com') });
    const certFile = path.join(dir, `near-${++fileNo}.pem`);
    writeFileSync(certFile, cert.pem + s.pki.intermediate.pem);
    const run = async (...extra: string[]) => {
      const out: string[] = [];
      const code = await runCli(
        ['doctor', '--cert', certFile, ...extra],
        { CERTBOUND_DATABASE_URL: s.database.url, CERTBOUND_DATA_DIR: dir },
        { out: (t) => out.push(t), err: () => {} },
      );
      return { code, out: out.join('\n') };
    };
    const json = await run('--json');
    expect(json.code).toBe(1);
    const d = JSON.parse(json.out);
    expect(d.code).toBe('NO_MATCHING_CLIENT');
    expect(d.near_misses.map((n: { client_id: string; similarity: string }) => [n.client_id, n.similarity])).toEqual([
      ['reversed', 'reversed_dn'],
      ['san-client', 'similar_value'],
    ]);
    const text = await run();
    expect(text.code).toBe(1);
    expect(text.out).toContain('nearest registered clients:');
    expect(text.out).toMatch(
      / {2}reversed: SUBJECT_DN_ORDER_REVERSED \(the subject DN in reverse order\)\n.*registered.*presented\n +subject_dn +C=US,O=Acme,CN=reversed +CN=reversed,O=Acme,C=US +✗/,
    );
    expect(text.out).toMatch(/ {2}san-client: SAN_MISMATCH \(a similar value, 1 edit away\)\n.*\n +san_dns +san-client\.example\.com +san-cliemt\.example\.com +✗/);
  });

  it('UNTRUSTED_ROOT', async () => {
    const cert = await issueLeaf(unknown.issuing, { subject: [{ CN: ['x'] }], san: san('san-client.example.com') });
    await expectCode('UNTRUSTED_ROOT', cert, [unknown.issuing], 'san-client');
  });

  it('MAPPING_NOT_YET_VALID and MAPPING_EXPIRED', async () => {
    await expectCode('MAPPING_NOT_YET_VALID', await s.pki.client({ subject: [{ CN: ['f'] }], san: san('future.example.com') }), intermediate(), 'future');
    await expectCode('MAPPING_EXPIRED', await s.pki.client({ subject: [{ CN: ['p'] }], san: san('past.example.com') }), intermediate(), 'past');
  });

  it('CERT_EXPIRED and CERT_NOT_YET_VALID', async () => {
    const expired = await s.pki.client({
      subject: [{ CN: ['x'] }],
      san: san('san-client.example.com'),
      notBefore: new Date(Date.now() - 10 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    await expectCode('CERT_EXPIRED', expired, intermediate(), 'san-client');
    const early = await s.pki.client({
      subject: [{ CN: ['x'] }],
      san: san('san-client.example.com'),
      notBefore: new Date(Date.now() + DAY),
      notAfter: new Date(Date.now() + 10 * DAY),
    });
    await expectCode('CERT_NOT_YET_VALID', early, intermediate(), 'san-client');
  });

  it('EKU_NOT_CLIENT_AUTH', async () => {
    const serverOnly = await s.pki.client({ subject: [{ CN: ['x'] }], san: san('san-client.example.com'), eku: [EKU_SERVER_AUTH] });
    await expectCode('EKU_NOT_CLIENT_AUTH', serverOnly, intermediate(), 'san-client');
  });

  it('SELF_SIGNED_NOT_REGISTERED', async () => {
    const registered = await selfSigned({ subject: [{ CN: ['device-9'] }] });
    await s.admin.addClient({ clientId: 'device-9', selfSignedCertPem: registered.pem, scopes: ['read'], defaultResource: API }, 'test');
    const other = await selfSigned({ subject: [{ CN: ['device-9'] }] });
    const { cli } = await expectCode('SELF_SIGNED_NOT_REGISTERED', other, 'none', 'device-9');
    expect(cli.client.registered_certificates).toHaveLength(1);
    // the registered one authenticates
    expect((await doctor(registered, 'none', 'device-9')).code).toBe(0);
    await expectIssuedToken(s, await s.token(registered, { grant_type: 'client_credentials', client_id: 'device-9' }, { chain: registered.pem }), {
      clientId: 'device-9',
      presented: registered,
      chain: registered.pem,
      scopes: ['read'],
      aud: API,
    });
  });

  it('a refusal on a resumed TLS session (no chain in the session) is diagnosed with the chain of the full handshake', async () => {
    const cert = await s.pki.client({ subject: [{ CN: ['x'] }], san: san('san-client.example.com') });
    const agent = new HttpsAgent({ keepAlive: false, maxCachedSessions: 10, ca: s.pki.root.pem, cert: s.pki.chainOf(cert), key: cert.keyPem, servername: 'localhost' });
    const post = (clientId: string) =>
      new Promise<{ status: number; reused: boolean; body: Record<string, unknown> }>((resolve, reject) => {
        const url = new URL(`${s.handle.mtlsUrl}/token`);
        const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId }).toString();
        const req = httpsRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          (res) => {
            let text = '';
            res.on('data', (c) => {
              text += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: (req.socket as TLSSocket).isSessionReused(), body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      await expectIssuedToken(s, await post('san-client'), { clientId: 'san-client', presented: cert, scopes: ['read'], aud: API });
      let refused = await post('old-cn');
      for (let i = 0; i < 3 && !refused.reused; i++) refused = await post('old-cn');
      expect(refused).toMatchObject({ status: 401, reused: true });
      const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(refused.body.error_description))?.[1];
      expect(s.logs.find((l) => l.ref === ref)).toMatchObject({ reason: 'SUBJECT_DN_MISMATCH', diagnosis: { code: 'SUBJECT_DN_MISMATCH', chain: { status: 'complete' } } });
    } finally {
      agent.destroy();
    }
  });
});
