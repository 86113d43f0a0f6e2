import { defineConfig } from 'vitest/config';

/** `pnpm test` at the root runs every package's suite in one vitest run, with one summary. */
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    maxWorkers: 2,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
