/**
 * The end user's pages (src/server/interactions/pages.ts): every value escaped, one style sheet allowed
 * by its hash and nothing else, the consent form as the contract says (one POST form, allow/deny, a
 * hidden anti-CSRF field).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consentPage, errorPage, PAGE_CSP, PAGE_HEADERS, pageCsp } from '../../src/server/interactions/pages.js';

describe('interaction pages', () => {
  it('escape what a client or a request chose (client_name, resource, scope, error text)', () => {
    const html = consentPage({
      clientName: '<script>alert(1)</script>',
      clientId: 'c"1',
      resources: [{ identifier: 'https://api.example/<x>', scopes: ['read', '"><img src=x>'] }],
      action: '/interaction/u"id/consent',
      csrf: 'abc',
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('action="/interaction/u&#34;id/consent"');
    const error = errorPage('Bad <b>', 'redirect_uri "https://evil/<script>" is not registered', '<ref>');
    expect(error).not.toMatch(/<b>|<script>|<ref>/);
  });

  it('the consent form: one POST form with the anti-CSRF field and the allow and deny buttons', () => {
    const html = consentPage({
      clientName: 'Shop',
      clientId: 'shop',
      resources: [{ identifier: 'https://api.example', scopes: ['read'] }],
      action: '/interaction/u/consent',
      csrf: 'tok',
    });
    expect(html.match(/<form /g)).toHaveLength(1);
    expect(html).toContain('<form method="post" action="/interaction/u/consent">');
    expect(html).toContain('<input type="hidden" name="csrf" value="tok">');
    expect(html).toContain('<button type="submit" name="decision" value="allow">');
    expect(html).toContain('<button type="submit" name="decision" value="deny">');
  });

  it('the CSP allows the inline style sheet by its hash and nothing else: no script, no external asset, no framing', () => {
    const html = errorPage('x', 'y');
    const style = /<style>([^<]*)<\/style>/.exec(html)![1]!;
    expect(PAGE_CSP).toBe(
      `default-src 'none'; style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(html).not.toMatch(/<script|<link|src=|https?:/);
    expect(PAGE_HEADERS).toMatchObject({ 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
  });

  it("a page whose form answer redirects elsewhere (consent → the client's redirect URI) allows that origin in form-action, and only an origin: nothing that could end the directive", () => {
    expect(pageCsp(['https://app.example.com'])).toBe(PAGE_CSP.replace("form-action 'self'", "form-action 'self' https://app.example.com"));
    expect(pageCsp(['http://127.0.0.1:8080', 'https://[::1]:9443'])).toContain("form-action 'self' http://127.0.0.1:8080 https://[::1]:9443;");
    expect(pageCsp(["https://a.example.com; script-src 'unsafe-inline'", 'https://b.example.com/path', 'javascript:alert(1)'])).toBe(PAGE_CSP);
  });
});
