/**
 * The console's shipped script and stylesheet stay within a size budget: 120 KB gzipped together. A
 * bundle's size is deterministic (unlike a timing), so a dependency that bloats it fails here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BUDGET_BYTES = 120 * 1024;
const out = mkdtempSync(join(tmpdir(), 'certbound-console-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('console bundle', () => {
  it('builds one hashed script and one hashed stylesheet, named by its manifest, within 120 KB gzipped', () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-console.mjs'), '--outdir', out], { cwd: ROOT });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { js: string; css: string };
    expect(manifest.js).toMatch(/^app-[A-Z0-9]{8}\.js$/);
    expect(manifest.css).toMatch(/^style-[A-Z0-9]{8}\.css$/);
    expect(readdirSync(join(out, 'assets')).sort()).toEqual([manifest.js, manifest.css].sort());
    const gzipped = [manifest.js, manifest.css].reduce((sum, f) => sum + gzipSync(readFileSync(join(out, 'assets', f)), { level: 9 }).length, 0);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
    // No URL of another origin in what ships (no CDN, fonts or scripts from elsewhere).
    for (const f of [manifest.js, manifest.css]) expect(readFileSync(join(out, 'assets', f), 'utf8')).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});
