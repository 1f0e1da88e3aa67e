/**
 * What the bundle scripts (build-server.mjs, build-cli.mjs) share: reading their arguments, the output
 * directory they empty before writing (it must hold nothing but an earlier bundle), and esbuild's
 * settings for a Node 22 ESM bundle.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** The script's options (`--help` prints `usage`; a wrong option prints it with the error and exits 2). */
export function bundleArgs(usage, options) {
  let args;
  try {
    args = parseArgs({ options: { ...options, help: { type: 'boolean' } } }).values;
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n${usage}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return args;
}

/** Empties `outdir`; refuses (exit 2) one that holds anything but an earlier bundle, or is (or contains) the project. */
export function emptyOutdir(outdir, root) {
  const strayFiles = existsSync(outdir) ? readdirSync(outdir).filter((f) => !/\.(?:js|js\.map|json)$/.test(f)) : [];
  if (!path.relative(outdir, root).startsWith('..') || strayFiles.length) {
    process.stderr.write(
      `error: --outdir ${outdir} ${strayFiles.length ? `holds files that are not a bundle (${strayFiles.slice(0, 3).join(', ')})` : 'is the project directory or contains it'}; it would be emptied.\n  → Give a new directory or one an earlier build wrote.\n`,
    );
    process.exit(2);
  }
  rmSync(outdir, { recursive: true, force: true });
}

/** esbuild's settings for both bundles: code-split ESM for Node 22, comments and whitespace out, names kept. */
export function nodeBundleOptions(outdir) {
  return {
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // ESM builds first where a package has one (zod, the @peculiar ASN.1 packages, asn1js, tslib): esbuild
    // can then leave out what certbound never imports.
    mainFields: ['module', 'main'],
    target: 'node22',
    // Identifiers keep their names, so stack traces still name the functions.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true,
  };
}
