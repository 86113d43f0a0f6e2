import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { workspacePackages } from './scripts/workspace.mjs';

/**
 * `pnpm test` at the root runs every package's suite in one vitest run, with one summary: each
 * workspace package (from pnpm-workspace.yaml) that has a vitest.config.ts is a project.
 */
export default defineConfig({
  test: {
    projects: workspacePackages()
      .filter((p) => existsSync(join(p.path, 'vitest.config.ts')))
      .map((p) => p.dir),
    maxWorkers: 2,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
