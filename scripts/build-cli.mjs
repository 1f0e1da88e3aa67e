/**
 * Builds dist/cli/: the `certbound` command (src/cli/main.ts and everything its commands load) bundled by
 * esbuild, which bin/certbound.js runs. A command spends most of its time loading modules: unbundled, the
 * ESM loader resolves and links a few hundred files of dist/src and node_modules (zod alone is about a
 * hundred) before `certbound client list` reads a row. Bundled, a listing loads a handful of chunks.
 *
 * Code splitting keeps each command's loads lazy: every `import()` of src/cli/modules.ts becomes a chunk
 * of its own, so `--help` loads the command tree and commander only, and a listing never loads knex,
 * pkijs or the admin use cases that change records. `certbound serve` alone goes on to the server's own
 * bundle (dist/server/, scripts/build-server.mjs), which this one does not contain: main.ts's
 * `import('./serve.js')` points there. `serve` with options, through the command tree, uses serve.ts
 * as bundled here, so that its errors are this bundle's error classes.
 *
 * Kept out of the bundle (loaded from node_modules when a command needs them): the server's and the
 * changes' libraries, which only `serve` with options, `migrate` and the commands that change records
 * load (knex with its dialect table, oidc-provider, koa, jose, undici, pino, prom-client), and the
 * database drivers (native, or loaded only for PostgreSQL).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleArgs, emptyOutdir, nodeBundleOptions } from './bundle-setup.mjs';

const usage = `usage: node scripts/build-cli.mjs [--outdir DIR] [--metafile FILE]
  --outdir DIR     where the bundle goes (default dist/cli; emptied first)
  --metafile FILE  esbuild's metafile (which module went into which chunk, sizes)`;
const args = bundleArgs(usage, { outdir: { type: 'string' }, metafile: { type: 'string' } });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.resolve(root, args.outdir ?? 'dist/cli');

/**
 * `certbound serve` alone (main.ts) runs the server bundle, a sibling of this one: dist/server/serve.js.
 * Only main.ts's import is redirected; modules.ts's loader keeps serve.ts in this bundle.
 */
const serverBundle = {
  name: 'server-bundle',
  setup(b) {
    b.onResolve({ filter: /^\.\/serve\.js$/ }, (args) =>
      args.importer === path.join(root, 'src/cli/main.ts') ? { path: `./${path.relative(outdir, path.join(root, 'dist/server/serve.js'))}`, external: true } : undefined,
    );
  },
};

// The directory is emptied first: refused when it holds anything but an earlier bundle (or is the project).
emptyOutdir(outdir, root);
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  ...nodeBundleOptions(outdir),
  external: ['knex', 'oidc-provider', 'koa', 'jose', 'undici', 'pino', 'prom-client', 'better-sqlite3', 'pg', 'pg-native', 'pg-query-stream'],
  plugins: [serverBundle],
  // Bundled CommonJS code (commander) calls require().
  banner: { js: "import { createRequire as __certboundCreateRequire } from 'node:module'; const require = __certboundCreateRequire(import.meta.url);" },
});
if (args.metafile) writeFileSync(path.resolve(args.metafile), JSON.stringify(result.metafile));
