import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  // Each command is its own chunk, loaded on demand: the entry settles the colour variables
  // before node:http loads (see settleColourEnv), and `--help` loads no network code.
  splitting: true,
  banner: { js: '#!/usr/bin/env node' },
});
