import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

export default defineConfig([
  {
    ...baseConfig,
    // The bundled web client's folder (dist/web/, next to dist/index.*), found from import.meta.url;
    // shims give CommonJS an import.meta.url. Cleaning leaves dist/web/ to the second build.
    shims: true,
    clean: [...(baseConfig.clean as string[]), '!web/**'],
    define: { ...baseConfig.define, __CHAT_WEB_DIR__: JSON.stringify('./web/') },
  },
  {
    // The web client served at `/`: one browser script, with index.html, app.css and the icon
    // copied from web/public.
    entry: { app: 'web/src/app.ts' },
    outDir: 'dist/web',
    format: ['iife'],
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    outExtension: () => ({ js: '.js' }),
    publicDir: 'web/public',
    minify: true,
    sourcemap: false,
    clean: true,
    splitting: false,
    tsconfig: 'web/tsconfig.json',
  },
]);
