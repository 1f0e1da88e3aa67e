/**
 * certbound as a library: load and validate a configuration, then start the authorization server in
 * this process (what `certbound serve` does after its own checks). The resource-server library is
 * `certbound/verifier`.
 *
 * @example
 * import { loadConfig, serve } from 'certbound';
 * const config = loadConfig({ env: process.env });
 * const running = await serve(config);
 * // … later
 * await running.close();
 */
export {
  type Config,
  type ConfigInput,
  configSchema,
  ENV_VARS,
  type LoadConfigOptions,
  loadConfig,
  type ProxyConfig,
  type ProxyHeaderFormat,
  type SigningAlgorithm,
} from './config/index.js';
export { CertboundError, ConfigError, ConflictError, InvalidInputError, NotFoundError, RuntimeError } from './errors/index.js';
export { createLogger, type RunningServer, serve } from './main.js';
export type { ServerHandle } from './server/index.js';
