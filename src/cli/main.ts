import { runCli } from './index.js';

const code = await runCli(process.argv.slice(2), process.env, {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
});
// `serve` resolves only after SIGINT/SIGTERM; any other command ends here.
process.exitCode = code;
