// The workspace's packages, read from pnpm-workspace.yaml and each package.json, so no script keeps
// its own list. Supports the glob forms the workspace file uses: `dir/*`, an exact `dir`, and `!dir`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in `<root>/scripts`). */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** The `packages:` globs of pnpm-workspace.yaml, in order. */
export function workspaceGlobs() {
  const text = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [];
  let inPackages = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inPackages = /^packages:\s*$/.test(line);
    else if (inPackages) {
      const m = /^\s+-\s+['"]?([^'"#\s]+)['"]?/.exec(line);
      if (m) globs.push(m[1]);
    }
  }
  if (globs.length === 0) throw new Error('pnpm-workspace.yaml lists no packages');
  return globs;
}

function expand(glob) {
  if (/\*\*|[?[{]/.test(glob) || glob.slice(0, -1).includes('*')) {
    throw new Error(`scripts/workspace.mjs understands only 'dir/*' and 'dir' globs, not '${glob}'`);
  }
  if (!glob.endsWith('/*')) return [glob];
  const dir = glob.slice(0, -2);
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}`)
    .sort();
}

/**
 * Every workspace package (not the root): `{ name, dir, path, private, manifest }`, where `dir` is
 * relative to the root (`packages/streams`) and `path` absolute.
 */
export function workspacePackages() {
  const dirs = new Set();
  for (const glob of workspaceGlobs()) {
    if (glob.startsWith('!')) for (const d of expand(glob.slice(1))) dirs.delete(d);
    else for (const d of expand(glob)) dirs.add(d);
  }
  return [...dirs]
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      return {
        name: manifest.name,
        dir,
        path: join(root, dir),
        private: manifest.private === true,
        manifest,
      };
    });
}

/** The packages that are published (no `"private": true`). */
export function publicPackages() {
  return workspacePackages().filter((p) => !p.private);
}

/** The export condition that points an entry point at its TypeScript source. */
export const SOURCE_CONDITION = '@asyncnet/source';

/** A package's entry points: `[subpath, absolute src file]` from each `exports` entry's source condition. */
export function sourceEntries(pkg) {
  return Object.entries(pkg.manifest.exports ?? {})
    .filter(([, target]) => typeof target === 'object' && target?.[SOURCE_CONDITION])
    .map(([subpath, target]) => [subpath, join(pkg.path, target[SOURCE_CONDITION])]);
}

/**
 * The environment for a child npm/pnpm without the `npm_config_*` variables pnpm sets for its
 * scripts: npm warns about every one it does not know ("Unknown env config").
 */
export function cleanNpmEnv(env = process.env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_config_/i.test(k)));
}

/**
 * How to run pnpm: the pnpm running this script when there is one (no npx round trip), else the
 * version pinned in the root package.json through npx. Returns `[command, leadingArgs]`.
 */
export function pnpmCommand() {
  const self = process.env.npm_execpath;
  if (self && /pnpm/.test(self) && existsSync(self)) return [process.execPath, [self]];
  return ['npx', ['-y', `pnpm@${pinnedPnpm()}`]];
}

/** Runs pnpm with `args` (see `pnpmCommand`), output captured; returns stdout. */
export function pnpm(args, options = {}) {
  const [cmd, pre] = pnpmCommand();
  return execFileSync(cmd, [...pre, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    env: cleanNpmEnv(options.env),
  });
}

function pinnedPnpm() {
  const pm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager ?? '';
  const m = /^pnpm@(.+)$/.exec(pm);
  if (!m) throw new Error(`root package.json packageManager is not pnpm@<version>: '${pm}'`);
  return m[1];
}
