/**
 * package.json tells the truth: the runtime dependencies are exactly the packages src/, bin/ and
 * migrations/ import (the console's browser code, src/console/ui, is bundled at build time, so what it
 * imports is a development dependency and never a runtime one), `import 'certbound'` gives the server factory and the `bin` entry runs (both from
 * the built dist/, in processes of their own).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const BUNDLED = path.join(ROOT, 'src/console/ui');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The package each bare import specifier names (`@scope/name/sub` → `@scope/name`). */
function importedPackages(bundled = false): Set<string> {
  const found = new Set<string>();
  const files = bundled ? sources('src/console/ui') : [...sources('src'), ...sources('bin'), ...sources('migrations')].filter((f) => !f.startsWith(BUNDLED + path.sep));
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'([^'.][^']*)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (name !== pkg.name) found.add(name);
    }
  }
  return found;
}

describe('package.json', () => {
  it('declares exactly the packages the shipped code imports', () => {
    expect([...importedPackages()].sort()).toEqual(Object.keys(pkg.dependencies).sort());
  });

  it('the packages the console bundles are development dependencies only', () => {
    const bundled = [...importedPackages(true)];
    expect(bundled).toContain('uplot');
    for (const name of bundled) {
      expect(pkg.devDependencies, name).toHaveProperty([name]);
      expect(pkg.dependencies, name).not.toHaveProperty([name]);
    }
  });

  it("import 'certbound' gives the server factory and configuration loader (dist/ built by npm ci)", () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('certbound'); console.log(JSON.stringify(Object.keys(m).sort()))"], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const names = JSON.parse(out) as string[];
    for (const name of ['serve', 'loadConfig', 'createLogger', 'CertboundError']) expect(names).toContain(name);
  });

  it('the installed bin runs: certbound --help lists the commands', () => {
    const stdout = execFileSync(process.execPath, ['bin/certbound.js', '--help'], { cwd: ROOT, encoding: 'utf8' });
    for (const c of ['serve', 'migrate', 'dev-pki', 'trust', 'resource', 'client', 'keys']) expect(stdout).toContain(c);
  });

  it("import 'certbound/client' gives the client library alone: no knex, oidc-provider or koa loaded", () => {
    const probe = [
      "const m = await import('certbound/client');",
      "const { createRequire } = await import('node:module');",
      'const loaded = Object.keys(createRequire(import.meta.url).cache);',
      'console.log(JSON.stringify({ names: Object.keys(m).sort(), heavy: loaded.filter((f) => /node_modules\\/(knex|oidc-provider|koa)\\//.test(f)) }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ names: ['CertboundClientError', 'createTokenClient'], heavy: [] });
  });
});
