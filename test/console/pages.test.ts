/** The console's server-rendered pages and its asset loading. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, loadConsoleAssets } from '../../src/console/assets.js';
import { explanationPage, shellPage } from '../../src/console/pages.js';

const dir = mkdtempSync(join(tmpdir(), 'certbound-console-assets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('console pages', () => {
  it('escapes everything it shows: a certificate subject cannot inject markup', () => {
    const html = explanationPage(
      {
        status: 403,
        title: 'Not <yours>',
        paragraphs: ['a & b'],
        seen: { subject: 'CN=<script>alert(1)</script>', thumbprint: 't"x', clients: ['c<1>'] },
        commands: ["certbound client update x --scope 'a'"],
      },
      undefined,
    );
    expect(html).not.toContain('<script>');
    expect(html).toContain('CN=&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('t&quot;x');
    expect(html).toContain('c&lt;1&gt;');
    expect(html).toContain('Not &lt;yours&gt;');
    expect(html).toContain('--scope &#39;a&#39;');
  });

  it('the shell loads the hashed script as a module and the stylesheet, and nothing inline', () => {
    const html = shellPage({ js: 'app-ABCDEFGH.js', css: 'style-ABCDEFGH.css' });
    expect(html).toContain('<script type="module" src="/admin/console/assets/app-ABCDEFGH.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/admin/console/assets/style-ABCDEFGH.css">');
    expect(html).not.toMatch(/<script>|<style|style="/);
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
  });

  it('serves only the files its manifest names; an unbuilt console is undefined', () => {
    expect(loadConsoleAssets(join(dir, 'missing'))).toBeUndefined();
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ js: 'app-1.js', css: 'style-1.css' }));
    writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
    writeFileSync(join(dir, 'assets', 'style-1.css'), 'body{}');
    writeFileSync(join(dir, 'secret.txt'), 'no');
    const assets = loadConsoleAssets(dir)!;
    expect(assets.file('app-1.js')).toEqual({ body: Buffer.from('console.log(1)'), contentType: 'text/javascript; charset=utf-8' });
    expect(assets.file('style-1.css')?.contentType).toBe('text/css; charset=utf-8');
    expect(assets.file('../secret.txt')).toBeUndefined();
    expect(assets.file('manifest.json')).toBeUndefined();
  });
});
