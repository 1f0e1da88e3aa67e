/**
 * The test files that start other processes (a folder ends with `/`): vitest.config.ts runs them as the
 * `processes` project, apart from the `quick` one (`npm run test:quick`); test/process-tests.test.ts
 * keeps this list equal to the files that do. Each says which processes it starts.
 */
export const PROCESS_TESTS: readonly string[] = [
  'test/faults/', // a private PostgreSQL to freeze or stop, servers killed with SIGKILL
  'test/e2e/proxy/', // a real nginx in front
  'test/e2e/replicas/', // `certbound migrate` and `certbound serve` as OS processes
  'test/e2e/server/serve-bundle.test.ts', // the esbuild bundle, built and run as `certbound serve` runs it
  'test/e2e/client/token-command.test.ts', // `certbound token` as a process
  'test/cli/loading.test.ts', // each command in a process of its own, recording what it loads
  'test/cli/secret-stdin.test.ts', // `certbound upstream set` with the secret on its standard input
  'test/config/isolated.test.ts', // the configuration validated in a child process
  'test/package.test.ts', // `import 'certbound'` and bin/certbound.js, from the built dist/
  'test/console/bundle-size.test.ts', // esbuild builds the console bundle
  'test/e2e/console/', // headless Chromium (Debian's) driven by playwright-core
];

/** The list as vitest include globs. */
export const processTestGlobs = (): string[] => PROCESS_TESTS.map((p) => (p.endsWith('/') ? `${p}**/*.test.ts` : p));

/** Whether `file` (relative to the project, `/`-separated) is one of the process tests. */
export const isProcessTest = (file: string): boolean => PROCESS_TESTS.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));
