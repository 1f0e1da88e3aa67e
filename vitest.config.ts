import { configDefaults, defineConfig } from 'vitest/config';
import { processTestGlobs } from './test/process-tests.js';

export default defineConfig({
  test: {
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL server; each file gets its own schema/database (see test/helpers/db.ts).
    fileParallelism: true,
    pool: 'forks',
    // `quick` is the inner loop (`npm run test:quick`); `processes` holds the tests that start other
    // processes (test/process-tests.ts). `npm test` runs both, on both databases.
    projects: [
      { extends: true, test: { name: 'quick', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...processTestGlobs()] } },
      { extends: true, test: { name: 'processes', include: processTestGlobs() } },
    ],
  },
});
