/**
 * POST /admin/diagnose: the diagnosis engine of `certbound doctor` over HTTP, with the same JSON, behind
 * the same admin authentication (read scope suffices).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnoseFromStore } from '../../../src/app/diagnosis.js';
import { DiagnosisSchema } from '../../../src/admin-api/schemas.js';
import { type AdminCaller, createAdminCaller } from '../../helpers/admin.js';
import { type Issued, selfSigned } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
let s: TestServer;
let reader: AdminCaller;
let billing: Issued;

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await s.admin.addClient(
    { clientId: 'billing', mapping: { kind: 'san_dns', value: 'billing.example.com', trustAnchor: 'test-root' }, scopes: ['read'], defaultResource: API },
    'test',
  );
  reader = await createAdminCaller(s, ['certbound:admin:read']);
  billing = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.example.com' }] });
});
afterAll(() => s?.close());

describe('POST /admin/diagnose', () => {
  it('a good certificate with its chain would authenticate as the client; the answer is the engine output, as doctor --json', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const res = await reader.call('POST', '/admin/diagnose', { body: { certificate: billing.pem, chain: s.pki.intermediate.pem, client_id: 'billing', at } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ diagnosis_version: 1, would_authenticate: true, code: null, now: at });
    expect(DiagnosisSchema.safeParse(res.body).success).toBe(true);
    const direct = await diagnoseFromStore(s.database.db, { leaf: billing.der, chain: [s.pki.intermediate.der], clientId: 'billing', now: new Date(at) });
    expect(res.body).toEqual(JSON.parse(JSON.stringify(direct)));
  });

  it('the chain may follow the leaf in "certificate"', async () => {
    const res = await reader.call('POST', '/admin/diagnose', { body: { certificate: s.pki.chainOf(billing), client_id: 'billing' } });
    expect(res.body).toMatchObject({ would_authenticate: true, chain: { status: 'complete' } });
  });

  it('without the intermediate → INTERMEDIATE_MISSING, naming the missing issuer; one cause gets one reason code: the pinned mapping\'s anchor is "not checked", not TRUST_ANCHOR_UNKNOWN', async () => {
    const res = await reader.call('POST', '/admin/diagnose', { body: { certificate: billing.pem, client_id: 'billing' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      would_authenticate: false,
      code: 'INTERMEDIATE_MISSING',
      chain: { status: 'INTERMEDIATE_MISSING', missing_issuer: { subject: 'CN=Test Issuing CA,O=Test PKI' } },
    });
    expect((res.body as { client: { mappings: unknown[] } }).client.mappings[0]).toMatchObject({
      matches: false,
      code: null,
      fields: { trust_anchor: { status: 'not_checked', code: null, blocked_by: 'INTERMEDIATE_MISSING', pinned: { name: 'test-root' } } },
    });
    expect(JSON.stringify(res.body)).not.toContain('TRUST_ANCHOR_UNKNOWN');
    expect(DiagnosisSchema.safeParse(res.body).success).toBe(true);
  });

  it('a certificate with the right CN but no SAN → CN_MATCHES_BUT_SAN_EXPECTED for the client', async () => {
    const cnOnly = await s.pki.client({ subject: [{ CN: ['billing.example.com'] }] });
    const res = await reader.call('POST', '/admin/diagnose', { body: { certificate: s.pki.chainOf(cnOnly), client_id: 'billing' } });
    expect(res.body).toMatchObject({ would_authenticate: false, code: 'CN_MATCHES_BUT_SAN_EXPECTED' });
    expect(DiagnosisSchema.safeParse(res.body).success).toBe(true);
  });

  it('a self-signed certificate nobody registered → UNTRUSTED_ROOT or SELF_SIGNED_NOT_REGISTERED', async () => {
    const stray = await selfSigned({ subject: [{ CN: ['stray'] }] });
    const res = await reader.call('POST', '/admin/diagnose', { body: { certificate: stray.pem } });
    expect(res.status).toBe(200);
    expect(res.body.would_authenticate).toBe(false);
    expect(['UNTRUSTED_ROOT', 'SELF_SIGNED_NOT_REGISTERED']).toContain(res.body.code);
  });

  it('without client_id, a certificate no client maps names the nearest registered clients (near misses), field by field; the OpenAPI document describes them', async () => {
    const typo = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['biling'] }], san: [{ type: 'dns', value: 'biling.example.com' }] });
    const res = await reader.call('POST', '/admin/diagnose', { body: { certificate: s.pki.chainOf(typo) } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      would_authenticate: false,
      code: 'NO_MATCHING_CLIENT',
      message: expect.stringContaining('Nearest registered: billing (SAN_MISMATCH: san_dns registered billing.example.com, presented biling.example.com)'),
    });
    expect(res.body.near_misses).toEqual([
      expect.objectContaining({
        client_id: 'billing',
        similarity: 'similar_value',
        distance: 1,
        differs: ['identity'],
        mapping: expect.objectContaining({
          code: 'SAN_MISMATCH',
          fields: expect.objectContaining({
            identity: expect.objectContaining({ status: 'mismatch', registered: 'billing.example.com', certificate: ['biling.example.com'] }),
            trust_anchor: expect.objectContaining({ status: 'match' }),
          }),
        }),
      }),
    ]);
    expect(DiagnosisSchema.safeParse(res.body).success).toBe(true);
    // with a client id, that client is diagnosed instead
    expect((await reader.call('POST', '/admin/diagnose', { body: { certificate: s.pki.chainOf(typo), client_id: 'billing' } })).body).toMatchObject({
      code: 'SAN_MISMATCH',
      near_misses: [],
    });
    const doc = (await reader.call('GET', '/admin/openapi.json', { token: null, cert: null })).body as {
      components: { schemas: { Diagnosis: { properties: Record<string, { items?: { properties: Record<string, unknown> } }> } } };
    };
    expect(Object.keys(doc.components.schemas.Diagnosis.properties.near_misses?.items?.properties ?? {})).toEqual(['client_id', 'similarity', 'distance', 'differs', 'mapping']);
  });

  it('bad input names the field; no token → 401', async () => {
    const bad = await reader.call('POST', '/admin/diagnose', { body: { certificate: 'not a certificate' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'ERR_CERT_PARSE', message: expect.stringMatching(/^certificate: /), details: { field: 'certificate' } });
    const badChain = await reader.call('POST', '/admin/diagnose', { body: { certificate: billing.pem, chain: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } });
    expect(badChain.status).toBe(400);
    expect(badChain.body.message).toMatch(/^chain: /);
    const noClient = await reader.call('POST', '/admin/diagnose', { body: { certificate: billing.pem, client_id: 'has space' } });
    expect(noClient.body.message).toMatch(/^client_id: /);
    expect((await reader.call('POST', '/admin/diagnose', { token: null, body: { certificate: billing.pem } })).status).toBe(401);
  });
});
