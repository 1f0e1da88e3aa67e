/**
 * Worker side of loadConfigIsolated (isolated.ts): validates the configuration and posts the plain
 * result (or the error) back. The validator's modules live and die with this worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CertboundError } from '../errors/index.js';
import { type LoadConfigOptions, loadConfig } from './load.js';

try {
  parentPort?.postMessage({ config: loadConfig(workerData as LoadConfigOptions) });
} catch (err) {
  parentPort?.postMessage({
    error:
      err instanceof CertboundError
        ? { certbound: true, code: err.code, message: err.message, hint: err.hint, details: err.details }
        : { certbound: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) },
  });
}
