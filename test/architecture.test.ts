/**
 * Layering rules, checked by reading import statements (STYLE: "a small architecture test that reads
 * the imports and fails on an upward arrow"). Append a row to RULES for a new layer rule.
 *
 * Files are followed transitively through relative value imports within src/ (what Node will load at run
 * time); every import of every reached file is checked. `import type` is erased at run time: it is allowed
 * for entries listed in `typeOnlyAllowed`, and otherwise checked like a value import. A rule marked
 * `direct` checks only the imports written in the files under `from` (what that folder may name itself).
 *
 * Below the rules: no import cycles, and the server's lazy loading and per-instance state.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

interface LayerRule {
  /** Repo-relative directory (or file) whose files (and what they load) the rule constrains. */
  from: string;
  /** Package names, or repo-relative path prefixes under src/, that must not be reached. */
  forbidden: string[];
  /** Of the forbidden entries, those allowed as `import type` (no run-time load). */
  typeOnlyAllowed?: string[];
  /** If set, bare (package) imports must be node builtins or one of these. */
  allowedPackages?: string[];
  /** If set, internal imports must resolve under one of these path prefixes. */
  allowedInternal?: string[];
  /** Files under a forbidden prefix that may still be imported (value or type). */
  exceptions?: string[];
  /** Internal path prefixes (keys) that only the listed files (values) under `from` may import, type imports included. */
  onlyThrough?: Record<string, string[]>;
  /** Check the layer's own imports only, not what they load in turn (a rule about a layer's direct reach). */
  direct?: boolean;
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

/**
 * What the token path needs at run time (the guarded fetch and the jwks_uri cache, JWKS validation, the
 * stored CRLs): below the server and the admin use cases, so the server does not reach into src/app for it.
 */
const RUNTIME_LAYER: Omit<LayerRule, 'from'> = {
  forbidden: ['koa', 'oidc-provider', 'src/server', 'src/app', 'src/admin-api', 'src/cli'],
};
/** Of those, the ones that need no database either. */
const RUNTIME_PURE_LAYER: Omit<LayerRule, 'from'> = {
  forbidden: [...RUNTIME_LAYER.forbidden, 'knex', 'better-sqlite3', 'pg', 'src/store'],
};

const RULES: LayerRule[] = [
  { from: 'src/verifier', ...LIGHT_LAYER },
  { from: 'src/forwarded', ...LIGHT_LAYER },
  { from: 'src/client', ...CLIENT_LAYER },
  // pki reads the mapping kinds (their GeneralName tags, labels, members) from their one definition, which imports nothing.
  { from: 'src/pki', ...PURE_LAYER, allowedInternal: ['src/errors', 'src/pki', 'src/mapping/kinds.ts'] },
  { from: 'src/mapping/kinds.ts', forbidden: [], allowedPackages: [], allowedInternal: [] },
  { from: 'src/mapping', ...PURE_LAYER },
  { from: 'src/diagnose', ...PURE_LAYER },
  { from: 'src/errors', ...PURE_LAYER, forbidden: [...PURE_LAYER.forbidden, 'src/config', 'src/pki'] },
  // The store knows no HTTP framework and no oidc-provider (the adapter is plain data in and out).
  { from: 'src/store', forbidden: ['koa', 'oidc-provider', 'src/server', 'src/app', 'src/admin-api', 'src/cli'] },
  // The admin API is transport over the admin service: what it needs from the server (keys, certificate
  // source, diagnosis inputs) is injected, so it never reaches into the server, the CLI or oidc-provider.
  { from: 'src/admin-api', forbidden: ['oidc-provider', 'src/server', 'src/cli'] },
  // ... and it reaches records through the use cases: of the store it names types only.
  { from: 'src/admin-api', forbidden: ['src/store', 'knex'], typeOnlyAllowed: ['src/store'], direct: true },
  // The use cases know no transport: no HTTP framework or server, no oidc-provider, nor the surfaces above them.
  { from: 'src/app', forbidden: ['koa', 'oidc-provider', 'node:http', 'node:https', 'node:http2', 'src/server', 'src/admin-api', 'src/cli', 'src/main.ts'] },
  // The CLI changes records through the use cases, never with SQL of its own: of the store it opens the
  // database (knex.ts: migrate, open), reads listings through the drivers (driver.ts, schema-version.ts)
  // and explains a failing database (storage-errors.ts); anything else of the store it names as types only.
  {
    from: 'src/cli',
    forbidden: ['src/store', 'knex', 'better-sqlite3', 'pg'],
    typeOnlyAllowed: ['src/store'],
    exceptions: ['src/store/knex.ts', 'src/store/driver.ts', 'src/store/schema-version.ts', 'src/store/storage-errors.ts'],
    direct: true,
  },
  // Configuration is pure: parsed and validated, then passed down; it knows no storage, server or surface.
  { from: 'src/config', forbidden: ['knex', 'oidc-provider', 'koa', 'better-sqlite3', 'pg', 'src/store', 'src/server', 'src/app', 'src/admin-api', 'src/cli', 'src/main.ts'] },
  { from: 'src/outbound', ...RUNTIME_PURE_LAYER },
  { from: 'src/jwks', ...RUNTIME_PURE_LAYER },
  { from: 'src/revocation', ...RUNTIME_LAYER },
  // The token server never loads the CLI, whatever it reaches.
  { from: 'src/server', forbidden: ['src/cli'] },
  // What the server names itself: the layers below it, and the admin API only through its wiring (and
  // the loader table that loads it on first use).
  {
    from: 'src/server',
    direct: true,
    forbidden: [],
    allowedInternal: [
      'src/server',
      'src/app',
      'src/store',
      'src/pki',
      'src/mapping',
      'src/diagnose',
      'src/forwarded',
      'src/config',
      'src/errors',
      'src/admin-api',
      'src/outbound',
      'src/jwks',
      'src/revocation',
    ],
    onlyThrough: { 'src/admin-api': ['src/server/admin-wiring.ts', 'src/server/loaders.ts', 'src/server/recent-refusals.ts'] },
  },
  // The console sits on the admin API: it reads and writes through its routes (and the session check uses
  // the same use-case rules), never the store's SQL, the server or the CLI.
  { from: 'src/console', forbidden: ['knex', 'oidc-provider', 'better-sqlite3', 'pg', 'src/store', 'src/server', 'src/cli'], typeOnlyAllowed: ['src/store'] },
];

/** SQL text and knex query building: the store's alone. */
const SQL_OUTSIDE_STORE = [
  /\b(?:trx|db|knex|tx)\(\s*['"`][a-z_]+['"`]\s*\)/,
  /\bsqlOf\([^)]*\)\.(?:all|run)\(/,
  /['"`]\s*(?:select\s[\s\S]*?\sfrom|insert\s+into|delete\s+from|update\s+\w+\s+set)\s/i,
];

/**
 * The modules of src/app the server may import (directly): the admin wiring only, i.e. the use cases the
 * admin API calls, the diagnosis read from the store (refusal log lines, POST /admin/diagnose) and what
 * development mode registers. Anything the token path needs lives below src/app (RUNTIME_LAYER).
 */
const SERVER_APP_IMPORTS = ['src/app/dev-demo.ts', 'src/app/dev-pki.ts', 'src/app/diagnosis.ts', 'src/app/registrations.ts', 'src/app/service.ts'];

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
    const allTypes =
      !!braces &&
      braces[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '));
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

/** The .ts files under `dir`, or `dir` itself when it is a file. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (statSync(dir).isFile()) return [dir];
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
        const hit = rule.exceptions?.includes(targetRel) ? undefined : rule.forbidden.find((f) => matchesPrefix(targetRel, f));
        if (hit && !typeOk(hit)) violations.push(`${rel}: ${ref.specifier} (reaches ${hit})`);
        if (rule.allowedInternal && !rule.allowedInternal.some((a) => matchesPrefix(targetRel, a))) {
          violations.push(`${rel}: ${ref.specifier} (${targetRel} is outside the allowed internal modules)`);
        }
        for (const [prefix, through] of Object.entries(rule.onlyThrough ?? {})) {
          if (matchesPrefix(targetRel, prefix) && !through.includes(rel)) violations.push(`${rel}: ${ref.specifier} (${prefix} only through ${through.join(', ')})`);
        }
        if (!rule.direct && !ref.typeOnly && !seen.has(target)) {
          seen.add(target);
          queue.push(target);
        }
        continue;
      }
      if (isBuiltin(ref.specifier)) {
        const builtin = ref.specifier.startsWith('node:') ? ref.specifier : `node:${ref.specifier}`;
        if (rule.forbidden.includes(builtin) && !typeOk(builtin)) violations.push(`${rel}: ${ref.specifier} (forbidden builtin)`);
        continue;
      }
      const name = packageName(ref.specifier);
      const hit = rule.forbidden.find((f) => f === name);
      if (hit && !typeOk(hit)) violations.push(`${rel}: ${ref.specifier} (forbidden package${ref.typeOnly ? '' : ', value import'})`);
      if (rule.allowedPackages && !rule.allowedPackages.includes(name)) violations.push(`${rel}: ${ref.specifier} (package not allowed in ${rule.from})`);
    }
  }
  return violations;
}

describe('architecture: layer rules', () => {
  it.each(RULES.map((rule) => [`${rule.from}${rule.direct ? ' (its own imports)' : ''}`, rule] as const))('%s imports only what its layer allows', (_name, rule) => {
    expect(filesUnder(join(ROOT, rule.from)).length, `${rule.from} has no files`).toBeGreaterThan(0);
    expect(checkRule(rule)).toEqual([]);
  });

  it.each(['src/app', 'src/admin-api', 'src/cli', 'src/config'])('%s holds no SQL text and builds no knex query (src/store does)', (dir) => {
    const found = filesUnder(join(ROOT, dir)).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (SQL_OUTSIDE_STORE.some((re) => re.test(line)) && !/^\s*(\*|\/\/)/.test(line) ? [`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  it('zod is imported as a namespace (import * as z), so the bundles keep only the parts of zod certbound calls (its locales stay out)', () => {
    const named = filesUnder(join(ROOT, 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/^import\s+(?!type\b)(?!\*\s+as\b)[^;]*from\s+'zod(?:\/[^']*)?';/gm)].map((m) => `${relative(ROOT, file)}: ${m[0]}`),
    );
    expect(named).toEqual([]);
  });

  it('the SQL finder sees a knex query, a driver query and SQL text', () => {
    for (const line of [
      "await trx('signing_keys').where({ status: 'active' })",
      "await sqlOf(db).all('select 1')",
      "const q = 'select client_id from clients where x = ?';",
      "run('delete from oidc_payloads where id = ?')",
    ]) {
      expect(
        SQL_OUTSIDE_STORE.some((re) => re.test(line)),
        line,
      ).toBe(true);
    }
    expect(SQL_OUTSIDE_STORE.some((re) => re.test("io.out('select one of the keys listed')"))).toBe(false);
  });

  it('src/server imports src/app only for the admin wiring (admin use cases, diagnosis from the store, development mode) and the registration endpoint', () => {
    const reached = filesUnder(join(ROOT, 'src/server')).flatMap((file) =>
      readImports(readFileSync(file, 'utf8'))
        .filter((ref) => ref.specifier.startsWith('.'))
        .map((ref) => ({ file: relative(ROOT, file), target: relative(ROOT, resolveRelative(file, ref.specifier) ?? ref.specifier) })),
    );
    const outside = reached.filter(({ target }) => matchesPrefix(target, 'src/app') && !SERVER_APP_IMPORTS.includes(target)).map(({ file, target }) => `${file}: ${target}`);
    expect(outside).toEqual([]);
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

/** Every relative import of every file under src/, resolved: file → [target, type-only]. */
function importGraph(): Map<string, { target: string; typeOnly: boolean }[]> {
  const graph = new Map<string, { target: string; typeOnly: boolean }[]>();
  for (const file of filesUnder(join(ROOT, 'src'))) {
    const edges: { target: string; typeOnly: boolean }[] = [];
    for (const ref of readImports(readFileSync(file, 'utf8'))) {
      if (!ref.specifier.startsWith('.')) continue;
      const target = resolveRelative(file, ref.specifier);
      if (target) edges.push({ target, typeOnly: ref.typeOnly });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** The import cycles of a graph (Tarjan's strongly connected components of more than one file, or a file importing itself), as repo-relative paths. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(relative(ROOT, w));
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('architecture: import cycles', () => {
  const graph = importGraph();
  const edges = (keep: (file: string, edge: { typeOnly: boolean }) => boolean) =>
    new Map([...graph].map(([file, out]) => [file, out.filter((e) => keep(file, e)).map((e) => e.target)]));

  it('no file under src/ reaches itself through value imports (static or dynamic)', () => {
    expect(cyclesOf(edges((_, e) => !e.typeOnly))).toEqual([]);
  });

  it('src/server has no cycle even through type imports: shared shapes live in modules of their own', () => {
    const inServer = (f: string) => matchesPrefix(relative(ROOT, f), 'src/server');
    const serverOnly = new Map([...edges(() => true)].filter(([f]) => inServer(f)).map(([f, out]) => [f, out.filter(inServer)]));
    expect(cyclesOf(serverOnly)).toEqual([]);
  });

  it('the cycle finder finds a cycle through three files and a file that imports itself', () => {
    expect(
      cyclesOf(
        new Map([
          ['/a', ['/b']],
          ['/b', ['/c']],
          ['/c', ['/a']],
          ['/d', ['/d']],
          ['/e', ['/a']],
        ]),
      ).map((c) => c.length),
    ).toEqual([3, 1]);
  });
});

describe('architecture: the server', () => {
  const serverFiles = filesUnder(join(ROOT, 'src/server'));

  it('decides what it loads on first use in src/server/loaders.ts: no other file of the server (nor main.ts) has a dynamic import()', () => {
    const code = (f: string) =>
      readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    const onDemand = [...serverFiles, join(ROOT, 'src/main.ts')]
      .filter((f) => relative(ROOT, f) !== 'src/server/loaders.ts')
      .flatMap((f) =>
        code(f)
          .split('\n')
          .flatMap((line, i) => (/\bimport\s*\(/.test(line) && !/typeof import\(/.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(onDemand).toEqual([]);
    expect(readFileSync(join(ROOT, 'src/server/loaders.ts'), 'utf8')).toMatch(/import\('\.\.\/admin-api\/index\.js'\)/);
  });

  /**
   * Module-level Maps, WeakMaps, WeakSets and `let`s would be shared by every server in the process
   * (tests start several): caches belong to the server instance, created in the composition. (Sets made
   * once from constants are constants.) Allowed, with the reason:
   */
  const SHARED_ON_PURPOSE: Record<string, string> = {
    // keyed by the provider instance: oidc-provider's route modules, where the JWT introspection is
    // installed, are one per process
    'src/server/introspection.ts: jwtIntrospections': 'keyed by provider',
  };

  it('keeps no state at module level: caches belong to a server instance', () => {
    const found = serverFiles.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/^(?:export\s+)?(?:(let)\s+(\w+)|const\s+(\w+)\s*(?::[^=]+)?=\s*new\s+(?:Map|WeakMap|WeakSet)\b)/gm)].map(
        (m) => `${relative(ROOT, f)}: ${m[2] ?? m[3]}`,
      ),
    );
    expect(found.filter((f) => !(f in SHARED_ON_PURPOSE))).toEqual([]);
  });
});
