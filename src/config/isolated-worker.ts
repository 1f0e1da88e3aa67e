/**
 * Child side of loadConfigIsolated (isolated.ts): receives the options over IPC, validates the
 * configuration and sends the plain result (or the error) back, then exits. The validator's modules
 * and everything they allocated live and die with this short-lived process.
 */
import { CertboundError } from '../errors/index.js';
import { type LoadConfigOptions, loadConfig } from './load.js';

function answer(options: LoadConfigOptions): unknown {
  try {
    return { config: loadConfig(options) };
  } catch (err) {
    return {
      error:
        err instanceof CertboundError
          ? { certbound: true, code: err.code, message: err.message, hint: err.hint, details: err.details }
          : { certbound: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) },
    };
  }
}

process.once('message', (options: LoadConfigOptions) => {
  process.send?.(answer(options), () => process.disconnect());
});
// The server went away before asking: nothing to do.
process.once('disconnect', () => process.exit(0));
