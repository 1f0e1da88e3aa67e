import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { setupFiles: ['test/helpers/setup.ts'], pool: 'forks', experimental: { importDurations: { print: true, limit: 25 } } } });
