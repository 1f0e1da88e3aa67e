/**
 * `certbound serve` loads its configuration in a worker thread: the validation library (zod, about
 * 3 MB of heap with its locales) and the config-file parsers are loaded by the worker, which validates,
 * sends back the plain result and exits, taking its heap with it. The server's own heap never holds
 * them (issue 6, peak memory). Same rules, same errors as loadConfig, which the CLI commands and tests
 * use directly.
 */
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors/index.js';
import type { LoadConfigOptions } from './load.js';
import type { Config } from './schema.js';

type WorkerAnswer =
  | { config: Config }
  | { error: { certbound: true; code: string; message: string; hint?: string; details?: Record<string, unknown> } | { certbound: false; message: string } };

/** Freezes what the structured clone gave back (loadConfig's result is frozen at every level). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export async function loadConfigIsolated(options: LoadConfigOptions): Promise<Config> {
  // Running from the TypeScript sources (tsx, tests), the worker needs the same loader.
  const fromSources = import.meta.url.endsWith('.ts');
  const worker = new Worker(new URL(fromSources ? './isolated-worker.ts' : './isolated-worker.js', import.meta.url), {
    workerData: { env: { ...options.env }, ...(options.overrides ? { overrides: options.overrides } : {}) },
    ...(fromSources ? { execArgv: ['--import', 'tsx'] } : {}),
    // Only the configuration crosses; the worker's output is the caller's.
    stdout: false,
    stderr: false,
  });
  const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the configuration worker exited (code ${code}) without an answer`)));
  });
  await worker.terminate();
  if ('error' in answer) {
    const e = answer.error;
    if (e.certbound) throw new ConfigError(e.message, { hint: e.hint, details: e.details });
    throw new Error(`loading the configuration failed: ${e.message}`);
  }
  const config = answer.config as Config & { keyEncryptionKey: Buffer | Uint8Array | undefined };
  // A Buffer arrives as a Uint8Array.
  const keyEncryptionKey = config.keyEncryptionKey ? Buffer.from(config.keyEncryptionKey) : undefined;
  return deepFreeze({ ...config, keyEncryptionKey }) as Config;
}
