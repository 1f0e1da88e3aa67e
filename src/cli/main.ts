const args = process.argv.slice(2);
const io = {
  out: (t: string) => process.stdout.write(`${t}\n`),
  err: (t: string) => process.stderr.write(`${t}\n`),
};
// `certbound serve` alone skips the rest of the CLI, so the server process loads only what it serves
// with (see serve.ts); `serve --help` and every other command go through the full CLI.
const code =
  args.length === 1 && args[0] === 'serve'
    ? await (await import('./serve.js')).runServe(process.env, io)
    : await (await import('./index.js')).runCli(args, process.env, io);
// `serve` resolves only after SIGINT/SIGTERM; any other command ends here.
process.exitCode = code;
