/**
 * Builds dist/server/: `certbound serve`'s code (src/cli/serve.ts and everything it loads) bundled by
 * esbuild into a few chunks, comments and whitespace removed. The server keeps the source text of
 * every module it loads in its heap for as long as it runs, and V8 grows the old generation to a
 * multiple of the live heap under load, so shipping fewer, smaller modules lowers peak memory.
 * Lazily loaded parts (admin API, pkijs, CRL fetching) stay lazy: `import()` becomes a separate chunk.
 *
 * Kept out of the bundle (loaded from node_modules as usual):
 * - oidc-provider and the libraries it shares with certbound (koa, jose), so there is one copy of each;
 * - native or optional drivers (better-sqlite3; pg, which only PostgreSQL deployments load; knex's
 *   other dialects, which certbound never configures);
 * - undici, which only the verifier's metadata fetch loads.
 * Source maps are written next to the chunks: run with `NODE_OPTIONS=--enable-source-maps` to see
 * src/ positions in stack traces.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleArgs, emptyOutdir, nodeBundleOptions } from './bundle-setup.mjs';

const usage = `usage: node scripts/build-server.mjs [--outdir DIR] [--entry FILE …] [--metafile FILE]
  --outdir DIR     where the bundle goes (default dist/server; emptied first)
  --entry FILE     one more entry point bundled with the server (the benchmark's certbound process)
  --metafile FILE  esbuild's metafile (which module went into which chunk, sizes)`;
const args = bundleArgs(usage, { outdir: { type: 'string' }, entry: { type: 'string', multiple: true }, metafile: { type: 'string' } });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.resolve(root, args.outdir ?? 'dist/server');

/** knex's dialect table requires every dialect; only better-sqlite3 (with sqlite3, its base) and postgres are bundled. */
const knexDialects = {
  name: 'knex-dialects',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z0-9]+$/ }, (args) => {
      if (!args.importer.endsWith(path.join('knex', 'lib', 'dialects', 'index.js'))) return undefined;
      const dialect = args.path.slice(2);
      if (['better-sqlite3', 'sqlite3', 'postgres'].includes(dialect)) return undefined;
      return { path: `knex/lib/dialects/${dialect}/index.js`, external: true };
    });
  },
};

/**
 * prom-client requires @opentelemetry/api at load time (processCpuTotal), but reads a span from it only
 * when exemplars are enabled, which certbound never does (src/server/metrics.ts). The bundle gets a stub
 * with the two functions that code calls, instead of 95 KB of OpenTelemetry kept in the heap of every
 * server (peak memory). If certbound ever enables exemplars, remove this plugin.
 */
const noOpenTelemetry = {
  name: 'no-opentelemetry',
  setup(b) {
    b.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) => ({ path: args.path, namespace: 'no-opentelemetry' }));
    b.onLoad({ filter: /.*/, namespace: 'no-opentelemetry' }, () => ({
      contents: 'module.exports = { trace: { getSpan: () => undefined }, context: { active: () => undefined } };',
      loader: 'js',
    }));
  },
};

// The directory is emptied first: refused when it holds anything but an earlier bundle (or is the project).
emptyOutdir(outdir, root);
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/serve.ts', 'src/config/isolated-worker.ts', ...(args.entry ?? []).map((e) => path.resolve(e))],
  ...nodeBundleOptions(outdir),
  external: [
    'oidc-provider',
    'koa',
    'jose',
    'better-sqlite3',
    'pg',
    'undici', // drivers knex requires only when configured:
    'sqlite3',
    'pg-native',
    'pg-query-stream',
    'mysql',
    'mysql2',
    'mariadb',
    'tedious',
    'oracledb',
  ],
  plugins: [knexDialects, noOpenTelemetry],
  // Bundled CommonJS code (knex, pino, prom-client …) calls require().
  banner: { js: "import { createRequire as __certboundCreateRequire } from 'node:module'; const require = __certboundCreateRequire(import.meta.url);" },
});
if (args.metafile) writeFileSync(path.resolve(args.metafile), JSON.stringify(result.metafile));
