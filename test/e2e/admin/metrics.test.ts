/**
 * /metrics (Prometheus text format, main listener): issuance and refusal counters move with real token
 * requests, with their labels; latency histograms by route; switched off with CERTBOUND_METRICS=false.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminCaller } from '../../helpers/admin.js';
import { expectIssuedToken } from '../../helpers/bound-token.js';
import { httpsJson } from '../../helpers/net.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const API = 'https://api.example.com';
const OPAQUE = 'https://opaque.example.com';
let s: TestServer;
/** notAfter (seconds) of every certificate billing got a token with in this file: the last-seen gauge shows one of them. */
const billingNotAfters = new Set<number>();

/** Requests a token as billing with `cert` (for `resource`) and checks it was issued to billing, bound to `cert`. */
async function expectBillingToken(cert: Issued, resource: string = API): Promise<void> {
  const res = await s.token(cert, { grant_type: 'client_credentials', client_id: 'billing', ...(resource === API ? {} : { resource }) });
  await expectIssuedToken(s, res, { clientId: 'billing', presented: cert, scopes: ['read'], aud: resource });
  billingNotAfters.add(Math.floor(cert.cert.notAfter.getTime() / 1000));
}

async function scrape(server: TestServer = s): Promise<{ status: number; text: string; contentType: unknown }> {
  const res = await httpsJson(`${server.handle.mainUrl}/metrics`, { agent: server.agent() });
  return { status: res.status, text: res.text, contentType: res.headers['content-type'] };
}

/** The value of one series, 0 when absent. Labels are matched as given (order as prom-client prints them). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

beforeAll(async () => {
  s = await startTestServer();
  await s.admin.addResourceServer({ identifier: API, scopes: ['read'] }, 'test');
  await s.admin.addResourceServer({ identifier: OPAQUE, scopes: ['read'], tokenFormat: 'opaque' }, 'test');
  await s.admin.addClient({ clientId: 'billing', mapping: { kind: 'subject_dn', value: 'CN=billing,O=Acme' }, scopes: ['read'], defaultResource: API }, 'test');
});
afterAll(() => s?.close());

describe('/metrics', () => {
  it('is served on the main listener in the Prometheus text format, without authentication', async () => {
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(String(res.contentType)).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'certbound_token_issued_total',
      'certbound_client_auth_refused_total',
      'http_request_duration_seconds',
      'certbound_client_certificate_not_after_seconds',
      'process_cpu_user_seconds_total',
    ]) {
      expect(res.text).toContain(`# TYPE ${name}`);
    }
  });

  it('certbound_token_issued_total moves with an issuance, by client_id and format (jwt, opaque)', async () => {
    const cert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing'] }] });
    const jwt = 'certbound_token_issued_total{client_id="billing",format="jwt"}';
    const opaque = 'certbound_token_issued_total{client_id="billing",format="opaque"}';
    const before = await scrape();
    await expectBillingToken(cert);
    await expectBillingToken(cert);
    await expectBillingToken(cert, OPAQUE);
    const after = await scrape();
    expect(value(after.text, jwt) - value(before.text, jwt)).toBe(2);
    expect(value(after.text, opaque) - value(before.text, opaque)).toBe(1);
  });

  it('certbound_client_auth_refused_total moves with a refusal, labelled with the reason code', async () => {
    const wrong = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing-old'] }] });
    const mismatch = 'certbound_client_auth_refused_total{reason="SUBJECT_DN_MISMATCH"}';
    const missing = 'certbound_client_auth_refused_total{reason="CERT_NOT_PRESENTED"}';
    const unknown = 'certbound_client_auth_refused_total{reason="CLIENT_INVALID"}';
    const issued = 'certbound_token_issued_total{client_id="billing",format="jwt"}';
    const before = await scrape();
    expect((await s.token(wrong, { grant_type: 'client_credentials', client_id: 'billing' })).status).toBe(401);
    expect((await s.token(undefined, { grant_type: 'client_credentials', client_id: 'billing' })).status).toBe(401);
    expect((await s.token(wrong, { grant_type: 'client_credentials', client_id: 'nobody' })).status).toBe(401);
    const after = await scrape();
    expect(value(after.text, mismatch) - value(before.text, mismatch)).toBe(1);
    expect(value(after.text, missing) - value(before.text, missing)).toBe(1);
    expect(value(after.text, unknown) - value(before.text, unknown)).toBe(1);
    expect(value(after.text, issued)).toBe(value(before.text, issued));
  });

  it('http_request_duration_seconds by listener, method, route template and status; unknown paths fold into "other"', async () => {
    const ops = await createAdminCaller(s, ['certbound:admin']);
    const billing = await ops.call('GET', '/admin/clients/billing');
    expect(billing.status).toBe(200);
    expect(billing.body).toMatchObject({ client_id: 'billing', scope: 'read', default_resource: API });
    expect((await ops.call('GET', '/admin/clients/nope')).status).toBe(404);
    await httpsJson(`${s.handle.mainUrl}/random-${Date.now()}`, { agent: s.agent() });
    const { text } = await scrape();
    expect(value(text, 'http_request_duration_seconds_count{listener="mtls",method="POST",route="/token",status_code="200"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'http_request_duration_seconds_count{listener="mtls",method="GET",route="/admin/clients/{client_id}",status_code="200"}')).toBe(1);
    expect(value(text, 'http_request_duration_seconds_count{listener="mtls",method="GET",route="/admin/clients/{client_id}",status_code="404"}')).toBe(1);
    expect(value(text, 'http_request_duration_seconds_count{listener="main",method="GET",route="other",status_code="404"}')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('random-');
    expect(text).not.toContain('/admin/clients/billing');
  });

  it("certbound_client_certificate_not_after_seconds: each client's last-seen certificate notAfter (recorded off the request path)", async () => {
    const cert = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing'] }], notAfter: new Date('2031-03-04T05:06:07Z') });
    await expectBillingToken(cert);
    const series = 'certbound_client_certificate_not_after_seconds{client_id="billing"}';
    let seen = 0;
    for (let i = 0; i < 50 && !seen; i++) {
      seen = value((await scrape()).text, series);
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    // billing's earlier certificates were recorded less than a minute ago (at most once per client per minute)
    expect([...billingNotAfters]).toContain(seen);
    expect(seen).toBeGreaterThan(Date.now() / 1000);
  });

  it('is not served on the mTLS listener', async () => {
    const res = await httpsJson(`${s.handle.mtlsUrl}/metrics`, { agent: s.agent() });
    expect(res.status).toBe(404);
  });
});

describe('CERTBOUND_METRICS=false', () => {
  it('turns /metrics off', async () => {
    const off = await startTestServer({ configOverrides: { metrics: false } });
    try {
      expect((await scrape(off)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
