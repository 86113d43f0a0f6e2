import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

/** Tests import siblings from their `src`, so a stale `dist` can never make a test pass. */
export default defineConfig({
  resolve: {
    alias: {
      '@asyncnet/streams': pkg('streams'),
      '@asyncnet/protocol': pkg('protocol'),
      '@asyncnet/http-lite': pkg('http-lite'),
      '@asyncnet/chat': pkg('chat'),
      '@asyncnet-internal/test-support': fileURLToPath(
        new URL('./scripts/test-support/index.ts', import.meta.url),
      ),
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
