/**
 * What the bundle scripts (build-server.mjs, build-cli.mjs) share: reading their arguments, and the
 * output directory they empty before writing, which must hold nothing but an earlier bundle.
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
