import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';

// tsup runs in the package's own folder: its package.json is the one being built.
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** Shared build: ESM + CJS + declarations for every publishable package. */
export const baseConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  // The released version, so code never carries a hand-kept copy that `changeset version` would leave behind.
  define: { __ASYNCNET_VERSION__: JSON.stringify(version) },
};
