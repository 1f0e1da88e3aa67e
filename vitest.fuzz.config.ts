import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:fuzz`: only the property suites, each property scaled up by FUZZ_SCALE (see test/fuzz/fuzz.ts).
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['test/fuzz/**/*.fuzz.test.ts'],
      testTimeout: 600_000,
    },
  }),
);
