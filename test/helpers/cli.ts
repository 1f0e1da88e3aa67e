import { runCli } from '../../src/cli/index.js';

/** Runs the certbound CLI in-process with `env`, capturing its output and exit code. */
export async function runCliCaptured(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, env, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
