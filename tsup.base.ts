import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';

// tsup runs in the package's own folder: its package.json is the one being built.
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/**
 * Shared build: ESM + CJS from esbuild. Declarations (`.d.ts` + `.d.cts`) come from one compiler
 * run over every package (scripts/emit-declarations.mjs, turbo's `//#build:types`), which costs
 * less than a type rollup per package; `clean` therefore leaves them in place.
 */
export const baseConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  sourcemap: true,
  clean: ['!**/*.d.ts', '!**/*.d.cts'],
  target: 'node20',
  platform: 'node',
  splitting: false,
  // esbuild's own tree shaking only: tsup's `treeshake` re-bundles each output through Rollup,
  // which cost ~1 s of CPU per package for ~1% smaller files.
  treeshake: false,
  // No keepNames: it wraps every per-connection closure in `__name()` (+2 KiB heap per idle
  // connection, and CPU on hot paths). Error classes never name themselves in their own body, so
  // esbuild keeps their names without it (see brandError in packages/streams/src/error-brand.ts).
  // The released version, so code never carries a hand-kept copy that `changeset version` would leave behind.
  define: { __ASYNCNET_VERSION__: JSON.stringify(version) },
};
