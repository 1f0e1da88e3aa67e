/**
 * `certbound serve` loads its configuration in a short-lived child process: the validation library
 * (zod, about 3 MB of heap with its locales) and the config-file parsers are loaded there; the child
 * validates, sends back the plain result and exits. The server process never holds them, nor the native
 * memory their loading allocated (a worker thread would leave 3 to 7 MB of it in the server's
 * malloc arenas for good, raising peak memory). Same rules, same errors as loadConfig, which the CLI
 * commands and tests use directly.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors/index.js';
import type { LoadConfigOptions } from './load.js';
import type { Config } from './schema.js';

type ChildAnswer =
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
  // Running from the TypeScript sources (tsx, tests), the child needs the same loader.
  const fromSources = import.meta.url.endsWith('.ts');
  const child = fork(fileURLToPath(new URL(fromSources ? './isolated-worker.ts' : './isolated-worker.js', import.meta.url)), [], {
    execArgv: fromSources ? ['--import', 'tsx'] : [],
    // Structured clone (a Buffer stays binary), as between threads.
    serialization: 'advanced',
    // Only the configuration crosses; anything the child prints is the caller's.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const answer = await new Promise<ChildAnswer>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ChildAnswer));
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the configuration process exited (${signal ?? `code ${code}`}) without an answer`)));
    child.send({ env: { ...options.env }, ...(options.overrides ? { overrides: options.overrides } : {}) });
  });
  await exited;
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
