import { defineConfig } from 'vitest/config';

// `npm run test:fuzz`: only the property suites, each property scaled up by FUZZ_SCALE (see test/fuzz/fuzz.ts).
// The normal suite (vitest.config.ts) runs the same files with their base counts.
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
