import { RuntimeError } from './errors/index.js';

export const MIN_NODE_MAJOR = 22;

/** certbound runs on Node 22 LTS or newer; started any other way it says what to do. */
export function assertSupportedRuntime(version = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (!(major >= MIN_NODE_MAJOR)) {
    throw new RuntimeError(`certbound needs Node.js ${MIN_NODE_MAJOR} or newer; this is Node.js ${version}.`, {
      hint: 'Run it through npm (npm start, npx certbound …), which uses the Node 22 that `npm ci` installed into node_modules/.bin, or put node_modules/.bin first on PATH.',
    });
  }
}
