import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// Two entry points, one copy of the code: `dist/all.*` bundles everything (src/all.ts), and the
// built `.` and `./adapter` entries only re-export from it, so a class reached through either is
// the same class, in ESM and CJS alike (tsup's CJS splitting would rewrite classes with sucrase).
const ENTRY = /(^|[\\/])src[\\/](index|adapter)\.ts$/;
const ALL = '\0all';

const shareBundle: Plugin = {
  name: 'share-bundle',
  setup(build) {
    const ext = build.initialOptions.format === 'cjs' ? '.cjs' : '.js';
    // Only as entry points: bundled into all.ts, index.ts and adapter.ts stay ordinary modules.
    build.onResolve({ filter: ENTRY }, (args) =>
      args.kind === 'entry-point' ? { path: args.path, namespace: 'shared-entry' } : undefined,
    );
    build.onResolve({ filter: /^\0all$/ }, () => ({ path: `./all${ext}`, external: true }));
    build.onLoad({ filter: /.*/, namespace: 'shared-entry' }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const contents = source.replace(/(\bfrom\s*)'\.\/[^']+\.js'/g, `$1'${ALL}'`);
      if (/\bimport\b|'\.\//.test(contents.replace(/^\s*(\/\/|\*|\/\*).*$/gm, '')))
        throw new Error(`${args.path}: an entry point may only re-export (export … from './x.js')`);
      return { contents, loader: 'ts', resolveDir: dirname(args.path) };
    });
  },
};

export default defineConfig({
  ...baseConfig,
  entry: ['src/all.ts', 'src/index.ts', 'src/adapter.ts'],
  esbuildPlugins: [shareBundle],
});
