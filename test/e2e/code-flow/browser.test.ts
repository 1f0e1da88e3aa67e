/**
 * The authorization code flow's browser part in a real browser: Debian's Chromium (/usr/bin/chromium,
 * installed by .ci/run) driven headless by playwright-core. The HTTP user agent of the other code-flow
 * tests follows redirects and posts forms, but it enforces neither the pages' Content-Security-Policy
 * (form-action, style-src) nor SameSite cookies; a browser does both, across the real redirect chain
 * certbound → upstream provider (another site) → certbound → the client's redirect URI.
 *
 * The client's side is this test: PAR and the code exchange over mTLS at certbound; the browser only
 * carries the end user. The client's redirect URI (https://app.example.com/cb) is answered by the
 * browser context's request interception, so the test sees exactly where the browser was sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x5tS256 } from '../../../src/pki/thumbprint.js';
import { consents, upstreamProviders } from '../../../src/store/index.js';
import type { Issued } from '../../helpers/pki.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startUpstreamOp, type UpstreamOp } from '../../support/upstream-op.js';

const CHROMIUM = process.env.CERTBOUND_CHROMIUM ?? '/usr/bin/chromium';
const API = 'https://api.example.com';
const REDIRECT = 'https://app.example.com/cb';

let s: TestServer;
let op: UpstreamOp | undefined;
let browser: Browser;
let web: Issued;

beforeAll(async () => {
  s = await startTestServer({ serverOptions: { upstreamFetch: (...args) => op!.fetch(...args) } });
  op = await startUpstreamOp({ redirectUris: [`${s.issuer}/interaction/callback`] });
  await upstreamProviders.put(s.database.db, op.providerRow('client_secret_basic'), undefined);
  await s.admin.addResourceServer({ identifier: API, scopes: ['read', 'write'] }, 'test');
  await s.admin.addClient(
    {
      clientId: 'web',
      mapping: { kind: 'san_dns', value: 'web.example.com' },
      scopes: ['read', 'write'],
      defaultResource: API,
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
      requirePar: true,
    },
    'test',
  );
  web = await s.pki.client({ subject: [{ CN: ['web'] }], san: [{ type: 'dns', value: 'web.example.com' }] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await op?.stop();
  await s?.close();
});

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** PAR at the mTLS alias (the client's part), then the authorization URL the browser opens. */
async function pushedAuthorization(state: string) {
  const { verifier, challenge } = pkce();
  const res = await s.token(
    web,
    { client_id: 'web', response_type: 'code', redirect_uri: REDIRECT, scope: 'read', resource: API, code_challenge: challenge, code_challenge_method: 'S256', state },
    { url: `${s.mtlsUrl}/request` },
  );
  expect(res.status, res.text).toBe(201);
  return { verifier, url: `${s.issuer}/auth?client_id=web&request_uri=${encodeURIComponent(String(res.body.request_uri))}` };
}

interface Browsing {
  context: BrowserContext;
  page: Page;
  /** The URL the browser was finally sent to at the client's redirect URI (resolves when it gets there). */
  arrived: Promise<URL>;
  /** Content-Security-Policy violations Chromium reported on certbound's pages. */
  violations: string[];
}

async function browse(): Promise<Browsing> {
  // The test PKIs are not in the browser's trust store; TLS is still real (certbound's and the upstream's own certificates).
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  let arrive!: (url: URL) => void;
  const arrived = new Promise<URL>((resolve) => {
    arrive = resolve;
  });
  await context.route(`${new URL(REDIRECT).origin}/**`, async (route) => {
    arrive(new URL(route.request().url()));
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>client</title><p>back at the client</p>' });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return { context, page, arrived, violations };
}

/** The upstream provider's login form, filled as a person would. */
async function signInUpstream(page: Page): Promise<void> {
  await page.waitForURL((u) => u.origin === op!.issuer);
  await page.fill('input[name="login"]', 'alice');
  await page.fill('input[name="password"]', 'wonderland');
  await Promise.all([page.waitForURL((u) => u.origin !== op!.issuer), page.locator('form button[type="submit"], form input[type="submit"]').first().click()]);
}

describe('authorization code flow in Chromium (real CSP, real SameSite cookies)', () => {
  // Before the consent page allowed the redirect URI's origin in form-action, Chromium blocked the
  // redirect that follows the consent form (the HTTP user agent of code-flow.test.ts does not enforce CSP).
  it('PAR, sign-in at the upstream provider, consent, and back at the redirect URI with code, state and iss; the code gives a bound token (BT-1)', async () => {
    const { verifier, url } = await pushedAuthorization('browser-1');
    const b = await browse();
    const consentCsp = new Promise<string>((resolve) => {
      b.page.on('response', (r) => {
        if (r.url().startsWith(`${s.issuer}/interaction/`) && r.request().method() === 'GET' && r.status() === 200) resolve(r.headers()['content-security-policy'] ?? '');
      });
    });
    try {
      await b.page.goto(url);
      await signInUpstream(b.page).catch(async (err) => {
        throw new Error(`${(err as Error).message}\nat ${b.page.url()}:\n${(await b.page.content()).slice(0, 3000)}`);
      });
      // certbound's consent page, after the cross-site return from the upstream provider.
      await b.page.waitForURL((u) => u.origin === s.issuer);
      const consentPage = b.page;
      await expect.poll(() => consentPage.locator('button[name="decision"][value="allow"]').count()).toBe(1);
      const body = (await consentPage.locator('body').textContent()) ?? '';
      expect(body).toContain('web');
      expect(body).toContain(API);
      expect(body).toContain('read');
      // The page's own style sheet is allowed by its CSP hash: the layout rule applies.
      expect(await consentPage.locator('form').evaluate((f) => getComputedStyle(f).display)).toBe('flex');
      // Browsers check form-action on the redirect that follows the form (to the client): its origin is allowed, nothing else.
      expect(await consentCsp).toMatch(/form-action 'self' https:\/\/app\.example\.com;/);
      await consentPage.locator('button[name="decision"][value="allow"]').click();
      const back = await b.arrived;
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get('state')).toBe('browser-1');
      expect(back.searchParams.get('iss')).toBe(s.issuer);
      const code = back.searchParams.get('code');
      expect(code).toBeTruthy();
      expect(b.violations).toEqual([]);

      const tokens = await s.token(web, { grant_type: 'authorization_code', client_id: 'web', code: code!, redirect_uri: REDIRECT, code_verifier: verifier });
      expect(tokens.status, tokens.text).toBe(200);
      const claims = JSON.parse(Buffer.from(String(tokens.body.access_token).split('.')[1]!, 'base64url').toString());
      expect(claims).toMatchObject({ sub: 'alice', client_id: 'web', aud: API, scope: 'read', cnf: { 'x5t#S256': x5tS256(web.der) } });
      expect(await consents.find(s.database.db, 'alice', 'web')).toMatchObject({ scopes: ['read'] });
    } finally {
      await b.context.close();
    }
  }, 60_000);

  it('a denied consent sends the browser back with error=access_denied and the state, and issues nothing', async () => {
    await consents.remove(s.database.db, 'alice', 'web');
    const { url } = await pushedAuthorization('browser-2');
    const b = await browse();
    try {
      await b.page.goto(url);
      await signInUpstream(b.page);
      await b.page.waitForURL((u) => u.origin === s.issuer);
      await b.page.locator('button[name="decision"][value="deny"]').click();
      const back = await b.arrived;
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('state')).toBe('browser-2');
      expect(back.searchParams.get('code')).toBeNull();
      expect(b.violations).toEqual([]);
      expect(await consents.find(s.database.db, 'alice', 'web')).toBeUndefined();
    } finally {
      await b.context.close();
    }
  }, 60_000);

  it('a redirect_uri that is not registered gets an error page at certbound: the browser is never sent to it', async () => {
    const { challenge } = pkce();
    const b = await browse();
    try {
      const res = await b.page.goto(
        `${s.issuer}/auth?client_id=web&response_type=code&scope=read&resource=${encodeURIComponent(API)}&code_challenge=${challenge}&code_challenge_method=S256&redirect_uri=${encodeURIComponent('https://app.example.com/other')}`,
      );
      expect(res?.status()).toBeGreaterThanOrEqual(400);
      expect(new URL(b.page.url()).origin).toBe(s.issuer);
      expect(await b.page.locator('h1').textContent()).not.toBe('');
      const csp = res?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'none'");
      const settled = await Promise.race([b.arrived.then(() => 'redirected'), new Promise((r) => setTimeout(() => r('stayed'), 500))]);
      expect(settled).toBe('stayed');
    } finally {
      await b.context.close();
    }
  }, 60_000);
});
