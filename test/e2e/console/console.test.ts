/**
 * The admin console end to end in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
 * .ci/run), driven headless by playwright-core, against a real server (real TLS, a real database) and
 * certificates made now by the test PKI.
 *
 * How the browser presents a client certificate headless: Playwright's `clientCertificates` option of a
 * browser context. Playwright then carries that context's connections to the given origin through its
 * own TLS client, which presents the certificate chain and key given here (the server sees an ordinary
 * mTLS handshake, chain included); Chromium itself never has to pick a certificate, so no NSS database
 * or AutoSelectCertificateForUrls policy is needed. Each context is a separate browser profile
 * (launch() creates a fresh --user-data-dir), so a context is one person with one certificate.
 *
 * Screenshots of each page are taken on every run; `npm run docs:console` writes them to docs/console/
 * (linked from docs/console.md). axe-core runs on every page and must find no serious or critical violation.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrlService } from '../../../src/app/crls.js';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { createAdminCaller } from '../../helpers/admin.js';
import { createCrl } from '../../helpers/crl.js';
import { freePort } from '../../helpers/net.js';
import { createTestPki, type Issued, selfSigned, type TestPki } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '../../..');
// The screenshots: every run takes them; `npm run docs:console` writes them to docs/console/.
const SHOTS = resolve(ROOT, process.env.CERTBOUND_CONSOLE_SCREENSHOTS ?? join(tmpdir(), 'certbound-console-screenshots'));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CERTBOUND_CHROMIUM ?? '/usr/bin/chromium';

let s: TestServer;
let staging: TestPki;
let browser: Browser;
let origin: string;
let attacker: Server;
let attackerUrl: string;
let ops: Issued;
let reader: Issued;
let plain: Issued;
let billing: Issued;
let stagingBilling: Issued;
const contexts: BrowserContext[] = [];

async function contextFor(cert: Issued | undefined): Promise<BrowserContext> {
  const context = await browser.newContext({
    // The server's certificate is issued by the test root, which the browser does not know.
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
    ...(cert ? { clientCertificates: [{ origin, cert: Buffer.from(s.pki.chainOf(cert)), key: Buffer.from(cert.keyPem) }] } : {}),
  });
  contexts.push(context);
  return context;
}

/** axe-core in the page: no serious or critical violation. */
async function expectAccessible(page: Page, what: string): Promise<void> {
  // page.evaluate runs through the DevTools protocol, outside the page's CSP (which forbids inline script).
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (
      window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }
    ).axe.run(document, {
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  expect(
    violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    `${what}: ${JSON.stringify(violations)}`,
  ).toEqual([]);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Navigates within the console and waits for the page (the previous one stays until the next is drawn). */
async function go(page: Page, hash: string, title: string): Promise<void> {
  await page.goto(`${origin}/admin/console/#/${hash}`);
  await expect.poll(() => page.locator('main h1').textContent()).toBe(title);
}

async function rows(page: Page, selector = 'main table tbody tr'): Promise<number> {
  return page.locator(selector).count();
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it), or set CERTBOUND_CHROMIUM`);
  // The console the server serves is the one built from this source now (dist/console).
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-console.mjs')], { cwd: ROOT });
  mkdirSync(SHOTS, { recursive: true });
  s = await startTestServer();
  origin = `https://localhost:${s.handle.mtlsPort}`;
  staging = await createTestPki('Staging');
  await s.admin.addTrustAnchor({ name: 'staging-root', pem: staging.root.pem, environment: 'staging' }, 'test');
  await s.admin.addResourceServer({ identifier: 'https://orders.example.com', scopes: ['orders.read'] }, 'test');
  ops = (await createAdminCaller(s, ['certbound:admin'], { clientId: 'ops' })).client;
  reader = (await createAdminCaller(s, ['certbound:admin:read'], { clientId: 'auditor' })).client;
  plain = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['reports'] }] });
  await s.admin.addClient({ clientId: 'reports', mapping: { kind: 'subject_dn', value: 'CN=reports,O=Acme' }, scopes: ['orders.read'] }, 'test');
  billing = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.acme.test' }] });
  stagingBilling = await staging.client({ subject: [{ O: ['Acme'] }, { CN: ['billing'] }], san: [{ type: 'dns', value: 'billing.acme.test' }] });
  // The server's trust store is reloaded on its interval: wait until the staging anchor is in it.
  await s.handle.reload();

  attacker = createServer((_req, res) => {
    // Another site: a page that posts to the admin API as soon as it loads (no CSP here: it is the attacker's).
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        `<!doctype html><title>free prizes</title><form id="f" method="POST" action="${origin}/admin/keys/rotate" enctype="text/plain"><input name='{"alg":"ES256","x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`,
      );
  });
  const port = await freePort();
  await new Promise<void>((done) => attacker.listen(port, '127.0.0.1', done));
  attackerUrl = `http://127.0.0.1:${port}/`;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await new Promise((done) => attacker?.close(done));
  await s?.close();
});

describe('admin console in Chromium', () => {
  let page: Page;
  let context: BrowserContext;

  it('signs in with the administrator certificate; the pages carry a strict CSP; assets are hashed and long-cached', async () => {
    context = await contextFor(ops);
    page = await context.newPage();
    const res = await page.goto(`${origin}/admin/console/`);
    expect(res?.status()).toBe(200);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const cookie = (await context.cookies()).find((c) => c.name === '__Secure-certbound-console');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/admin' });
    await expect.poll(() => page.locator('header .who').textContent()).toContain('Signed in as ops');
    await expect.poll(() => rows(page)).toBeGreaterThanOrEqual(3);
    const script = await page.locator('script[src]').getAttribute('src');
    expect(script).toMatch(/^\/admin\/console\/assets\/app-[A-Z0-9]+\.js$/);
    const asset = await context.request.get(`${origin}${script}`);
    expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    await expectAccessible(page, 'clients');
    await shot(page, 'clients');
  });

  it('registers a client from a pasted PEM, pinned to the prod anchor; its page shows the mapping and its window', async () => {
    await page.getByLabel('Client ID').fill('billing');
    await page.getByLabel('Client certificate (PEM)').fill(billing.pem);
    await page.getByLabel('Match on').selectOption('subject-dn');
    await page.getByLabel('Pinned trust anchor').selectOption('test-root');
    await page.getByLabel('Scopes (space-separated)').fill('orders.read');
    await page.getByRole('button', { name: 'Register client' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Client billing');
    const mapping = page.locator('main table').first();
    await expect.poll(() => mapping.textContent()).toContain('CN=billing,O=Acme');
    expect(await mapping.textContent()).toContain('test-root (prod)');
    expect(await mapping.textContent()).toContain('valid now');
    expect((await s.admin.showClient('billing')).mappings[0]).toMatchObject({ kind: 'subject_dn', value: 'CN=billing,O=Acme' });
    await expectAccessible(page, 'client');
    await shot(page, 'client');
  });

  it('registers a self-signed client from its certificate; a PEM that is not one is refused next to the field', async () => {
    await go(page, 'clients', 'Clients');
    await page.getByLabel('Client ID').fill('device-1');
    await page.getByLabel('Authenticates with').selectOption('self-signed');
    expect(await page.getByLabel('Match on').isVisible()).toBe(false);
    await page.getByLabel('Client certificate (PEM)').fill('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    await page.getByRole('button', { name: 'Register client' }).click();
    const error = page.locator('[data-field~="certificate"] .field-error');
    await expect.poll(() => error.textContent()).toContain('Refused: self_signed_certificate');
    const device = await selfSigned({ subject: [{ CN: ['device-1'] }] });
    await page.getByLabel('Client certificate (PEM)').fill(device.pem);
    await page.getByRole('button', { name: 'Register client' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Client device-1');
    expect(await page.locator('main dl.facts').textContent()).toContain('self_signed_tls_client_auth');
  });

  it('a mapping that overlaps another client is refused, in words, next to the certificate field', async () => {
    await s.admin.addClient({ clientId: 'billing-2', mapping: { kind: 'san_dns', value: 'billing-2.acme.test' }, scopes: [] }, 'test');
    await go(page, 'clients/billing-2', 'Client billing-2');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Client billing-2');
    await page.getByLabel('Client certificate (PEM)').fill(billing.pem);
    await page.getByLabel('Match on').selectOption('subject-dn');
    await page.getByRole('button', { name: 'Add mapping' }).click();
    const error = page.locator('[data-field~="certificate"] .field-error');
    await expect.poll(() => error.textContent()).toContain('ERR_MAPPING_OVERLAP');
    expect(await error.textContent()).toMatch(/Refused: .*billing/);
    expect(await page.getByLabel('Client certificate (PEM)').getAttribute('aria-invalid')).toBe('true');
    expect((await s.admin.showClient('billing-2')).mappings).toHaveLength(1);
    await shot(page, 'mapping-overlap');
  });

  it("edits a mapping's validity window: its end set to a date, then open-ended again", async () => {
    const end = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('End of mapping billing-2.acme.test').fill(end);
    await page.getByRole('button', { name: 'Set end' }).click();
    await expect.poll(async () => (await s.admin.showClient('billing-2')).mappings[0]!.notAfter?.toISOString()).toBe(`${end}T23:59:59.000Z`);
    await expect.poll(() => page.locator('main table').first().textContent()).toContain(`${end} 23:59:59 UTC`);
    await page.getByLabel('End of mapping billing-2.acme.test').fill('');
    await page.getByRole('button', { name: 'Set end' }).click();
    await expect.poll(async () => (await s.admin.showClient('billing-2')).mappings[0]!.notAfter).toBeNull();
  });

  it('diagnoses a staging certificate against the prod-pinned client: WRONG_TRUST_ANCHOR, the anchors side by side, and the fix', async () => {
    await go(page, 'diagnose', 'Diagnose');
    await page.getByLabel('Certificate or chain (PEM)').fill(staging.chainOf(stagingBilling));
    await page.getByLabel('Client ID (optional)').fill('billing');
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const verdict = page.locator('.verdict');
    await expect.poll(() => verdict.textContent()).toContain('WRONG_TRUST_ANCHOR');
    expect(await verdict.textContent()).toContain('Would be refused');
    expect(await verdict.locator('.fix').textContent()).toMatch(/^Fix: .+/);
    const anchorRow = page.locator('table.fields tr.mismatch', { hasText: 'Trust anchor' });
    expect(await anchorRow.locator('mark').allTextContents()).toEqual(['test-root (prod)', 'staging-root (staging)']);
    expect(await anchorRow.textContent()).toContain('✗ mismatch');
    await expectAccessible(page, 'diagnose');
    await shot(page, 'diagnose');
  });

  it('without a client id, a certificate no client maps names the nearest registered clients, each mapping field by field with the difference marked', async () => {
    const typo = await s.pki.client({ subject: [{ O: ['Acme'] }, { CN: ['biling'] }] });
    await go(page, 'diagnose', 'Diagnose');
    await page.getByLabel('Certificate or chain (PEM)').fill(s.pki.chainOf(typo));
    await page.getByLabel('Client ID (optional)').fill('');
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const verdict = page.locator('.verdict');
    await expect.poll(() => verdict.textContent()).toContain('NO_MATCHING_CLIENT');
    expect(await verdict.textContent()).toContain('Nearest registered: billing (SUBJECT_DN_MISMATCH');
    const near = page.getByRole('region', { name: 'Near miss billing' });
    expect(await near.locator('h3').textContent()).toBe('billing — a similar value, 1 edit away');
    const identityRow = near.locator('table.fields tr.mismatch', { hasText: 'subject_dn' });
    // the registered value with the letter the certificate lacks marked, the certificate's with ∅ where it is missing
    expect(await identityRow.locator('td code').allTextContents()).toEqual(['CN=billing,O=Acme', 'CN=bil∅ing,O=Acme', 'SUBJECT_DN_MISMATCH']);
    expect(await identityRow.locator('mark').allTextContents()).toEqual(['l', '∅']);
    expect(await near.locator('table.fields tr', { hasText: 'Trust anchor' }).textContent()).toContain('✓ matches');
    expect(await near.getByRole('link', { name: 'billing' }).getAttribute('href')).toBe('#/diagnose/billing');
    await expectAccessible(page, 'diagnose near misses');
  });

  it('looks up a refusal by the ref the client was given; an unknown ref is said to be unknown, and why', async () => {
    const refused = await s.token(stagingBilling, { grant_type: 'client_credentials', client_id: 'billing' }, { chain: staging.chainOf(stagingBilling) });
    expect(refused.status).toBe(401);
    const ref = /\(ref ([0-9a-f]{8})\)/.exec(String(refused.body.error_description))?.[1];
    expect(ref, String(refused.body.error_description)).toBeDefined();
    await go(page, 'diagnose', 'Diagnose');
    await page.getByLabel('Refusal ref').fill('0badc0de');
    await page.getByRole('button', { name: 'Look up' }).click();
    const error = page.locator('[data-field~="ref"] .field-error');
    await expect.poll(() => error.textContent()).toContain('ERR_REFUSAL_UNKNOWN');
    expect(await error.textContent()).toMatch(/keeps the last \d+ refusals.*another replica.*restarted/);
    await page.getByLabel('Refusal ref').fill(`(ref ${ref})`);
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect.poll(async () => [...(await page.locator('main h2').allTextContents()), await error.textContent()]).toContain(`Refusal ${ref}`);
    expect(await page.locator('main .reason').first().textContent()).toBe('WRONG_TRUST_ANCHOR');
    await shot(page, 'refusal');
  });

  it('rotates the signing key, and finds the audit row of it filtered by actor and action', async () => {
    await go(page, 'keys', 'Signing keys');
    await expect.poll(() => rows(page)).toBe(1);
    await page.getByRole('button', { name: 'Rotate: add a new active key' }).click();
    await expect.poll(() => rows(page)).toBe(2);
    expect(await page.locator('main table tbody tr').first().textContent()).toContain('active');
    await expectAccessible(page, 'keys');
    await shot(page, 'keys');

    await go(page, 'audit', 'Audit log');
    await expect.poll(() => rows(page)).toBeGreaterThan(1);
    await page.getByLabel('Actor').fill('admin:ops:');
    await page.getByLabel('Action').fill('keys.');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rows(page)).toBe(1);
    const row = await page.locator('main table tbody tr').first().textContent();
    expect(row).toContain('keys.rotate');
    expect(row).toContain(`admin:ops:${x5tS256(ops.der)}`);
    await expectAccessible(page, 'audit');
    await shot(page, 'audit');
  });

  it('trust anchors by environment with the lock-out guard in words; expiry on a timeline with a table', async () => {
    const crlDir = mkdtempSync(join(tmpdir(), 'certbound-console-crl-'));
    writeFileSync(join(crlDir, 'staging.crl'), (await createCrl(staging.root)).der);
    await createCrlService({ db: s.database.db }).addCrl({ anchor: 'staging-root', file: join(crlDir, 'staging.crl') }, 'test');
    rmSync(crlDir, { recursive: true, force: true });
    await go(page, 'trust', 'Trust anchors');
    await expect.poll(() => page.locator('main h2').allTextContents()).toContain('Environment: staging');
    expect(await page.locator('main table').last().textContent()).toContain('CN=Staging Root CA,O=Staging PKI');
    await page.getByRole('button', { name: 'Remove test-root' }).click();
    await page.getByRole('button', { name: 'Really stop trusting test-root?' }).click();
    await expect.poll(() => page.locator('section', { hasText: 'Environment: prod' }).locator('.form-error').textContent()).toContain('ERR_ADMIN_LOCKOUT');
    await expectAccessible(page, 'trust anchors');
    await shot(page, 'trust-anchors');
    // A CRL on any anchor makes the server check revocation for every chain: removed again from the console.
    await page.getByRole('button', { name: 'Remove CRL of staging-root' }).click();
    await page.getByRole('button', { name: 'Really stop checking it?' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('No CRLs.');
    expect(await createCrlService({ db: s.database.db }).listCrls()).toEqual([]);

    for (const [clientId, days] of [
      ['legacy', 5],
      ['ledger', 12],
      ['payroll', 26],
    ] as const) {
      await s.admin.addClient({ clientId, mapping: { kind: 'san_dns', value: `${clientId}.acme.test`, notAfter: new Date(Date.now() + days * 86_400_000) }, scopes: [] }, 'test');
    }
    // The chart library must live within the strict CSP: Chromium reports any refused inline style or script.
    const refused: string[] = [];
    const onConsole = (m: { text(): string }) => {
      if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
    };
    page.on('console', onConsole);
    await go(page, 'expiry', 'Expiry');
    await expect.poll(() => page.locator('main table tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('main table').textContent()).toContain('within 7 days');
    expect(await page.locator('figure.chart figcaption').textContent()).toContain('expiry');
    expect(await page.locator('figure.chart canvas').count()).toBeGreaterThan(0);
    // Keyboard: the chart takes focus and the arrow keys read each mark out in words, soonest first.
    await page.locator('.chart-plot').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('.chart-readout').textContent()).toMatch(/^legacy: mapping \(san_dns\), [45] days \(within 7 days\)/);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('.chart-readout').textContent()).toContain('ledger');
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('.chart-readout').textContent()).toContain('payroll');
    page.off('console', onConsole);
    expect(refused).toEqual([]);
    await expectAccessible(page, 'expiry');
    await shot(page, 'expiry');
  });

  it('a read-only administrator sees everything and cannot write: controls disabled with the reason, and the API refuses', async () => {
    const ro = await (await contextFor(reader)).newPage();
    await ro.goto(`${origin}/admin/console/`);
    await expect.poll(() => ro.locator('.banner').textContent()).toContain('Read-only');
    await expect.poll(() => rows(ro)).toBeGreaterThan(3);
    const register = ro.getByRole('button', { name: 'Register client' });
    expect(await register.isDisabled()).toBe(true);
    expect(await register.getAttribute('title')).toContain('certbound:admin:read');
    const status = await ro.evaluate(async () => {
      const session = (await (await fetch('/admin/console/session')).json()) as { csrf_header: string; csrf_token: string };
      const res = await fetch('/admin/keys/rotate', { method: 'POST', headers: { [session.csrf_header]: session.csrf_token } });
      return { status: res.status, body: await res.json() };
    });
    expect(status).toMatchObject({ status: 403, body: { code: 'ERR_ADMIN_FORBIDDEN' } });
    await expectAccessible(ro, 'read-only');
    await shot(ro, 'read-only');
  });

  it('a non-admin certificate and no certificate get the explanation page: who was seen and what to run', async () => {
    const other = await (await contextFor(plain)).newPage();
    const res = await other.goto(`${origin}/admin/console/`);
    expect(res?.status()).toBe(403);
    const text = await other.locator('main').textContent();
    expect(text).toContain('CN=reports,O=Acme');
    expect(text).toContain('certbound client update reports --scope "orders.read certbound:admin"');
    expect(text).toContain(x5tS256(plain.der));
    await expectAccessible(other, 'not an administrator');
    await shot(other, 'not-admin');

    const none = await (await contextFor(undefined)).newPage();
    const res2 = await none.goto(`${origin}/admin/console/`);
    expect(res2?.status()).toBe(401);
    expect(await none.locator('h1').textContent()).toBe('No client certificate');
    expect(await none.locator('main').textContent()).toContain('certbound client add --id ops --from-cert');
    await expectAccessible(none, 'no certificate');
    await shot(none, 'no-certificate');
  });

  it('a forged cross-site POST is refused (no cookie cross-site), and a same-site write without the anti-CSRF token is refused', async () => {
    const before = (await s.admin.listKeys()).length;
    const forged = await context.newPage();
    const answer = forged.waitForResponse((r) => r.url().endsWith('/admin/keys/rotate'));
    await forged.goto(attackerUrl);
    const res = await answer;
    expect(res.status()).toBe(401);
    expect(await res.text()).toContain('ERR_ADMIN_UNAUTHENTICATED');
    const noToken = await page.evaluate(async () => {
      const r = await fetch('/admin/keys/rotate', { method: 'POST' });
      return { status: r.status, body: await r.json() };
    });
    expect(noToken).toMatchObject({ status: 403, body: { code: 'ERR_CONSOLE_CSRF' } });
    expect((await s.admin.listKeys()).length).toBe(before);
  });

  it('the session used from a connection with another certificate is refused and ended; removing an admin, or taking its certificate out of service, ends its session', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === '__Secure-certbound-console')!;
    const thief = await contextFor(plain);
    await thief.addCookies([cookie]);
    const stolen = await thief.request.get(`${origin}/admin/clients`);
    expect(stolen.status()).toBe(401);
    expect((await stolen.json()).code).toBe('ERR_CONSOLE_CERTIFICATE_MISMATCH');
    // … and the session is over for its owner too (it may have leaked).
    const owner = await context.request.get(`${origin}/admin/clients`);
    expect((await owner.json()).code).toBe('ERR_CONSOLE_SESSION_ENDED');

    const temp = (await createAdminCaller(s, ['certbound:admin'], { clientId: 'temp-admin' })).client;
    const tc = await contextFor(temp);
    const tp = await tc.newPage();
    await tp.goto(`${origin}/admin/console/`);
    await expect.poll(() => tp.locator('header .who').textContent()).toContain('temp-admin');
    await s.admin.removeClient('temp-admin', 'test');
    const after = await tc.request.get(`${origin}/admin/clients`);
    expect(after.status()).toBe(401);
    expect((await after.json()).code).toBe('ERR_CONSOLE_SESSION_ENDED');

    // Its certificate taken out of service: the mapping that matches it ended (another one stays valid).
    const rotating = (await createAdminCaller(s, ['certbound:admin'], { clientId: 'rotating-admin' })).client;
    const [matching] = (await s.admin.showClient('rotating-admin')).mappings;
    await s.admin.addMapping('rotating-admin', { kind: 'san_dns', value: 'rotating-admin.acme.test' }, 'test');
    const rc = await contextFor(rotating);
    const rp = await rc.newPage();
    await rp.goto(`${origin}/admin/console/`);
    await expect.poll(() => rp.locator('header .who').textContent()).toContain('rotating-admin');
    await s.admin.updateMapping('rotating-admin', matching!.id, { notAfter: new Date(Date.now() - 1000) }, 'test');
    const outOfService = await rc.request.get(`${origin}/admin/clients`);
    expect(outOfService.status()).toBe(401);
    expect(await outOfService.json()).toMatchObject({ code: 'ERR_CONSOLE_SESSION_ENDED', message: expect.stringContaining('no longer authenticates rotating-admin') });
  });

  it('signing out ends the session on the server', async () => {
    const c = await contextFor(ops);
    const p = await c.newPage();
    await p.goto(`${origin}/admin/console/`);
    await expect.poll(() => p.locator('header .who').textContent()).toContain('ops');
    const cookie = (await c.cookies()).find((k) => k.name === '__Secure-certbound-console')!;
    await p.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => p.locator('h1').textContent()).toBe('Signed out');
    const replay = await c.request.get(`${origin}/admin/clients`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    expect((await replay.json()).code).toBe('ERR_CONSOLE_SESSION_ENDED');
  });
});
