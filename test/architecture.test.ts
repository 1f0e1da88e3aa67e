/**
 * Layering rules, checked by reading import statements (STYLE: "a small architecture test that reads
 * the imports and fails on an upward arrow"). Append a row to RULES for a new layer rule.
 *
 * Files are followed transitively through relative value imports within src/ (what Node will load at run
 * time); every import of every reached file is checked. `import type` is erased at run time: it is allowed
 * for entries listed in `typeOnlyAllowed`, and otherwise checked like a value import.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

interface LayerRule {
  /** Repo-relative directory whose files (and what they load) the rule constrains. */
  from: string;
  /** Package names, or repo-relative path prefixes under src/, that must not be reached. */
  forbidden: string[];
  /** Of the forbidden entries, those allowed as `import type` (no run-time load). */
  typeOnlyAllowed?: string[];
  /** If set, bare (package) imports must be node builtins or one of these. */
  allowedPackages?: string[];
  /** If set, internal imports must resolve under one of these path prefixes. */
  allowedInternal?: string[];
}

const LIGHT_LAYER: Omit<LayerRule, 'from'> = {
  forbidden: ['knex', 'oidc-provider', 'koa', 'better-sqlite3', 'pg', 'src/store', 'src/server', 'src/app', 'src/admin-api', 'src/cli'],
  typeOnlyAllowed: ['koa'],
  allowedPackages: ['jose', 'undici', 'koa'],
  allowedInternal: ['src/errors', 'src/pki/thumbprint.ts', 'src/forwarded', 'src/verifier'],
};

/** The client-app library (`certbound/client`): undici and jose, the error base and the thumbprint only. */
const CLIENT_LAYER: Omit<LayerRule, 'from'> = {
  forbidden: ['knex', 'oidc-provider', 'koa', 'better-sqlite3', 'pg', 'pino', 'src/store', 'src/server', 'src/app', 'src/admin-api', 'src/cli', 'src/verifier', 'src/config'],
  allowedPackages: ['jose', 'undici'],
  allowedInternal: ['src/errors', 'src/pki/thumbprint.ts', 'src/client'],
};

/** Pure layers: errors ← config ← pki ← mapping ← diagnose know nothing of transports or storage. */
const PURE_LAYER: Omit<LayerRule, 'from'> = {
  forbidden: ['knex', 'oidc-provider', 'koa', 'better-sqlite3', 'pg', 'pino', 'src/store', 'src/server', 'src/app', 'src/admin-api', 'src/cli', 'src/verifier'],
};

const RULES: LayerRule[] = [
  { from: 'src/verifier', ...LIGHT_LAYER },
  { from: 'src/forwarded', ...LIGHT_LAYER },
  { from: 'src/client', ...CLIENT_LAYER },
  { from: 'src/pki', ...PURE_LAYER },
  { from: 'src/mapping', ...PURE_LAYER },
  { from: 'src/diagnose', ...PURE_LAYER },
  { from: 'src/errors', ...PURE_LAYER, forbidden: [...PURE_LAYER.forbidden, 'src/config', 'src/pki'] },
  // The store knows no HTTP framework and no oidc-provider (the adapter is plain data in and out).
  { from: 'src/store', forbidden: ['koa', 'oidc-provider', 'src/server', 'src/app', 'src/admin-api', 'src/cli'] },
  // The admin API is transport over the admin service: what it needs from the server (keys, certificate
  // source, diagnosis inputs) is injected, so it never reaches into the server, the CLI or oidc-provider.
  { from: 'src/admin-api', forbidden: ['oidc-provider', 'src/server', 'src/cli'] },
  // The console sits on the admin API: it reads and writes through its routes (and the session check uses
  // the same use-case rules), never the store's SQL, the server or the CLI.
  { from: 'src/console', forbidden: ['knex', 'oidc-provider', 'better-sqlite3', 'pg', 'src/store', 'src/server', 'src/cli'], typeOnlyAllowed: ['src/store'] },
];

const ROOT = resolve(import.meta.dirname, '..');

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

/** The module specifiers of a TypeScript source, marking type-only ones. */
function readImports(source: string): ImportRef[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const refs: ImportRef[] = [];
  const statement = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([\s\S]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(statement)) {
    const clause = m[3] ?? '';
    const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
    const allTypes = !!braces && braces[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '));
    refs.push({ specifier: m[4]!, typeOnly: !!m[2] || allTypes });
  }
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g)) refs.push({ specifier: m[1]!, typeOnly: false });
  for (const m of code.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) refs.push({ specifier: m[1]!, typeOnly: false });
  return refs;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
}

function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => f.endsWith('.ts') && statSync(f).isFile());
}

const matchesPrefix = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** Violations of one rule, as human-readable lines `file: specifier (why)`. */
function checkRule(rule: LayerRule): string[] {
  const violations: string[] = [];
  const queue = filesUnder(join(ROOT, rule.from));
  const seen = new Set(queue);
  while (queue.length > 0) {
    const file = queue.shift()!;
    const rel = relative(ROOT, file);
    for (const ref of readImports(readFileSync(file, 'utf8'))) {
      const typeOk = (entry: string) => ref.typeOnly && (rule.typeOnlyAllowed ?? []).includes(entry);
      if (ref.specifier.startsWith('.')) {
        const target = resolveRelative(file, ref.specifier);
        if (!target) {
          violations.push(`${rel}: ${ref.specifier} (unresolved)`);
          continue;
        }
        const targetRel = relative(ROOT, target);
        const hit = rule.forbidden.find((f) => matchesPrefix(targetRel, f));
        if (hit && !typeOk(hit)) violations.push(`${rel}: ${ref.specifier} (reaches ${hit})`);
        if (rule.allowedInternal && !rule.allowedInternal.some((a) => matchesPrefix(targetRel, a))) {
          violations.push(`${rel}: ${ref.specifier} (${targetRel} is outside the allowed internal modules)`);
        }
        if (!ref.typeOnly && !seen.has(target)) {
          seen.add(target);
          queue.push(target);
        }
        continue;
      }
      if (isBuiltin(ref.specifier)) continue;
      const name = packageName(ref.specifier);
      const hit = rule.forbidden.find((f) => f === name);
      if (hit && !typeOk(hit)) violations.push(`${rel}: ${ref.specifier} (forbidden package${ref.typeOnly ? '' : ', value import'})`);
      if (rule.allowedPackages && !rule.allowedPackages.includes(name)) violations.push(`${rel}: ${ref.specifier} (package not allowed in ${rule.from})`);
    }
  }
  return violations;
}

describe('architecture: layer rules', () => {
  it.each(RULES.map((rule) => [rule.from, rule] as const))('%s imports only what its layer allows', (from, rule) => {
    expect(filesUnder(join(ROOT, from)).length, `${from} has no files`).toBeGreaterThan(0);
    expect(checkRule(rule)).toEqual([]);
  });

  it('the import reader sees value, type-only, side-effect, re-export and dynamic imports', () => {
    const source = [
      "import knex from 'knex';",
      "import type { Middleware } from 'koa';",
      "import { type Context, type Next } from 'koa';",
      "import Koa, { type Context as C } from 'koa';",
      "import {\n  a,\n  type B,\n} from '../store/index.js';",
      "export * from '../server/app.js';",
      "export type { X } from '../admin/types.js';",
      "import 'reflect-metadata';",
      "const pg = await import('pg');",
      "// import x from 'oidc-provider';",
      "/* import y from 'better-sqlite3'; */",
    ].join('\n');
    expect(readImports(source)).toEqual([
      { specifier: 'knex', typeOnly: false },
      { specifier: 'koa', typeOnly: true },
      { specifier: 'koa', typeOnly: true },
      { specifier: 'koa', typeOnly: false },
      { specifier: '../store/index.js', typeOnly: false },
      { specifier: '../server/app.js', typeOnly: false },
      { specifier: '../admin/types.js', typeOnly: true },
      { specifier: 'reflect-metadata', typeOnly: false },
      { specifier: 'pg', typeOnly: false },
    ]);
  });
});
