export { type LoadConfigOptions, loadConfig } from './load.js';
export { type Config, type ConfigInput, configSchema, ENV_VARS, SIGNING_ALGORITHMS, type SigningAlgorithm } from './schema.js';
