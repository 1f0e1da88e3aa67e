/**
 * `certbound serve`: the long-running command. `certbound serve` with no other argument comes here
 * straight from cli/main.ts, without loading the rest of the CLI (the other commands and their
 * libraries), and its configuration is validated in a short-lived child process (config/isolated.ts), so the
 * server process holds only what serving needs.
 */
import { loadConfigIsolated } from '../config/isolated.js';
import type { Config } from '../config/schema.js';
import { createLogger, serve } from '../main.js';
import { assertSupportedRuntime } from '../runtime.js';
import { reportCliError } from './error-output.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Serves with `cfg` until SIGINT or SIGTERM, then closes the listeners and the database. */
export async function serveUntilStopped(cfg: Config, io: Io): Promise<void> {
  const running = await serve(cfg, createLogger(cfg), io.out);
  await new Promise<void>((resolve) => {
    const stop = () => {
      running.close().finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** `certbound serve` on its own; the exit code (2: bad configuration, 1: any other failure), as runCli. */
export async function runServe(env: Readonly<Record<string, string | undefined>>, io: Io): Promise<number> {
  try {
    assertSupportedRuntime();
    await serveUntilStopped(await loadConfigIsolated({ env }), io);
    return 0;
  } catch (err) {
    return reportCliError(err, io);
  }
}
