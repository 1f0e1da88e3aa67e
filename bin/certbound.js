#!/usr/bin/env node
// certbound's command: the bundle scripts/build-cli.mjs writes to dist/cli/ (built by `npm ci` via the prepare
// script, or `npm run build`).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `error: certbound needs Node.js 22 or newer; this is Node.js ${process.versions.node}.\n` +
      '  → Run it through npm (npm start, npx certbound …), which uses the Node 22 that `npm ci` installed into node_modules/.bin.\n',
  );
  process.exit(1);
}
// Node's on-disk cache of compiled modules (os.tmpdir()/node-compile-cache): a command spends most of its
// time loading modules, and every run after the first skips compiling them again. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
try {
  await import('../dist/cli/main.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('error: certbound is not built.\n  → Run `npm ci` (or `npm run build`) in the project directory.\n');
    process.exit(1);
  }
  throw err;
}
