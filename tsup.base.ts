import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';
import { emitDeclarations } from './scripts/emit-declarations';

// tsup runs in the package's own folder: its package.json is the one being built.
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/**
 * Shared build: ESM + CJS from esbuild, then `.d.ts` + `.d.cts` from the TypeScript compiler
 * (scripts/emit-declarations.ts). tsup's own `dts` rolls the types up per package through a second
 * full compile, which dominated the build; the compiler's per-module output is the same API.
 */
export const baseConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  // Error brands compare class names across package copies: keep them exact in the bundle.
  keepNames: true,
  // The released version, so code never carries a hand-kept copy that `changeset version` would leave behind.
  define: { __ASYNCNET_VERSION__: JSON.stringify(version) },
  async onSuccess() {
    const started = Date.now();
    const files = emitDeclarations();
    console.log(`DTS ${files} declaration files in ${Date.now() - started}ms`);
  },
};
