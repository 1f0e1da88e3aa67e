/**
 * Builds dist/console/: the admin console's script and stylesheet (src/console/ui), bundled and minified
 * by esbuild with content-hashed names, and manifest.json naming them for the server
 * (src/console/assets.ts). Hashed names let the server cache them for a year.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const { values: args } = parseArgs({ options: { outdir: { type: 'string' } } });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.resolve(root, args.outdir ?? 'dist/console');
rmSync(outdir, { recursive: true, force: true });
mkdirSync(path.join(outdir, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: path.join(root, 'src/console/ui/main.ts'), style: path.join(root, 'src/console/ui/console.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir: path.join(outdir, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const manifest = { js: outputs.find((f) => f.startsWith('app-') && f.endsWith('.js')), css: outputs.find((f) => f.startsWith('style-') && f.endsWith('.css')) };
if (!manifest.js || !manifest.css) throw new Error(`build-console: unexpected outputs ${outputs.join(', ')}`);
writeFileSync(path.join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
