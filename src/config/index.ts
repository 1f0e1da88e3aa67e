export { type LoadConfigOptions, loadConfig } from './load.js';
export {
  type Config,
  type ConfigInput,
  configSchema,
  ENV_VARS,
  PROXY_CHAIN_VALIDATION_MODES,
  PROXY_HEADER_FORMATS,
  type ProxyConfig,
  type ProxyHeaderFormat,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from './schema.js';
