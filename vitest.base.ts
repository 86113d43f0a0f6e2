import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * Sibling packages (and @asyncnet-internal/test-support) resolve through their package.json
 * `exports`, with the `@asyncnet/source` condition first: tests run against `src`, the same files
 * `tsc` sees through `customConditions` in tsconfig.base.json, so a stale `dist` can never make a
 * test pass. The condition is set for the client and the server (ssr) resolver; vitest also hands
 * the ssr conditions to its workers as `--conditions`.
 */
const conditions = ['@asyncnet/source'];

const base = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});

export default base;

/**
 * For suites that spawn the built package in child processes: the same config plus a globalSetup
 * that builds the package and its dependencies first (through turbo, so a no-op when current).
 */
export const withDist = mergeConfig(base, {
  test: {
    globalSetup: [fileURLToPath(new URL('./scripts/vitest-build-dist.mjs', import.meta.url))],
  },
});
