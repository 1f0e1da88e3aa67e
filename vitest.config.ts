import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import { processTestGlobs } from './test/process-tests.js';

const common = {
  setupFiles: ['test/helpers/setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // Suites share one PostgreSQL server; each file gets its own database (see test/helpers/db.ts).
  fileParallelism: true,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    // Once per run, by the root project (a project that extended it would run it again); the projects take what it provides.
    globalSetup: ['test/helpers/global-setup.ts'],
    // `quick` is the inner loop (`npm run test:quick`); `processes` holds the tests that start other
    // processes (test/process-tests.ts). `npm test` runs both, on both databases.
    projects: [
      {
        test: {
          ...common,
          name: 'quick',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...processTestGlobs()],
          // vitest's default (cores − 1) is one file at a time on 2 cores, while these files wait on TLS,
          // the database and timers more than they compute: at least two at a time.
          maxWorkers: Math.max(2, availableParallelism() - 1),
        },
      },
      // After `quick`, with vitest's default: each of these starts processes of its own, and some assert how soon something happens.
      { test: { ...common, name: 'processes', include: processTestGlobs(), sequence: { groupOrder: 1 } } },
    ],
  },
});
