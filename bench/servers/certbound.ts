/**
 * certbound itself, started the way `certbound serve` starts it (cli/serve.ts): configuration from
 * CERTBOUND_* environment variables (set by the harness), validated in a short-lived child process, then `serve()`
 * from the composition root. The database
 * was prepared by the harness (migrations, signing key, trust anchor, resource server, clients).
 */
import { loadConfigIsolated } from '../../src/config/isolated.js';
import { createLogger, serve } from '../../src/main.js';
import { serveAsChild } from '../lib/child.js';

const config = await loadConfigIsolated({ env: process.env });
const running = await serve(config, createLogger(config), () => {});
serveAsChild({ main: running.handle.mainPort, mtls: running.handle.mtlsPort }, () => running.close());
