import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL server; each file gets its own schema/database (see test/helpers/db.ts).
    fileParallelism: true,
    pool: 'forks',
  },
});
