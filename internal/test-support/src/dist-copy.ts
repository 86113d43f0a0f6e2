import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Loads a second, independent copy of a package's built CommonJS entry (`dist/index.cjs`), with its
 * `@asyncnet/*` dependencies (subpaths too) and the files its entries share (`./all.cjs`) loaded
 * from their own `dist` as well. Tests run with the source export condition, under which a plain
 * `require()` of a sibling would reach its TypeScript source.
 *
 * @param name - the package folder under `packages/`, e.g. `'chat'`
 * @returns the copy's exports
 */
export function requireDistCopy<T = Record<string, unknown>>(name: string): T {
  const cache = new Map<string, { exports: Record<string, unknown> }>();
  const load = (file: string): unknown => {
    const cached = cache.get(file);
    if (cached !== undefined) return cached.exports;
    const module = { exports: {} as Record<string, unknown> };
    cache.set(file, module);
    const fallback = createRequire(file);
    const req = (id: string): unknown => {
      const sibling = /^@asyncnet\/([a-z-]+)(?:\/([a-z-]+))?$/.exec(id);
      if (sibling !== null) return load(distFile(sibling[1]!, sibling[2] ?? 'index'));
      if (id.startsWith('./')) return load(join(dirname(file), id));
      return fallback(id);
    };
    const code = readFileSync(file, 'utf8');
    new Function('require', 'module', 'exports', '__filename', '__dirname', code)(
      req,
      module,
      module.exports,
      file,
      dirname(file),
    );
    return module.exports;
  };
  return load(distFile(name, 'index')) as T;
}

function distFile(pkg: string, entry: string): string {
  return join(root, 'packages', pkg, 'dist', `${entry}.cjs`);
}
