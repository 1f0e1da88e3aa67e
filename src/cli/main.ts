const args = process.argv.slice(2);
const io = {
  out: (t: string) => process.stdout.write(`${t}\n`),
  err: (t: string) => process.stderr.write(`${t}\n`),
};
/**
 * The server's code. From the sources, serve.ts itself; from the CLI bundle (dist/cli/, which
 * bin/certbound.js runs), scripts/build-cli.mjs points this import at the server's own bundle,
 * dist/server/serve.js (fewer, smaller modules, so a smaller heap).
 */
async function loadServe(): Promise<typeof import('./serve.js')> {
  try {
    return await import('./serve.js');
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('server/serve.js')) {
      io.err('error: the server bundle (dist/server/serve.js) is missing.\n  → Run `npm run build` (or `npm ci`) in the project directory.');
      process.exit(1);
    }
    throw err;
  }
}

// `certbound serve` alone skips the rest of the CLI, so the server process loads only what it serves
// with (see serve.ts); `serve --help` and every other command go through the full CLI.
const code = args.length === 1 && args[0] === 'serve' ? await (await loadServe()).runServe(process.env, io) : await (await import('./index.js')).runCli(args, process.env, io);
// `serve` resolves only after SIGINT/SIGTERM; any other command ends here.
process.exitCode = code;
