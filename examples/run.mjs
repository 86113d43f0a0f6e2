#!/usr/bin/env node
// Runs a TypeScript example against the packages' source, with no build and no TypeScript loader:
// esbuild bundles the file, resolving every `@asyncnet/*` import through the `@asyncnet/source`
// export condition to `packages/*/src/index.ts` (the same files tsc and vitest read; one copy of
// each package, so classes keep their identity), leaves Node built-ins and third-party packages as
// imports, and Node runs the bundle.
//
//   node examples/run.mjs tcp-server          # examples/src/01-tcp-server.ts (the number is optional)
//   node examples/run.mjs path/to/file.ts     # any TypeScript file (the README blocks use this)
//   node examples/run.mjs --list              # every example
//
// The docs tests import `runTypeScript` from here, so examples and README blocks run the same way.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');

/** The export condition that points every workspace package at its `src/index.ts`. */
const SOURCE_CONDITION = '@asyncnet/source';

const externalsPlugin = {
  name: 'externals-by-url',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.inner || args.path.startsWith('node:') || args.path.startsWith('@asyncnet/')) {
        return undefined;
      }
      // Third-party packages stay imports (their CJS would not survive an ESM bundle), by absolute
      // URL because the bundle lives in a temp directory with no node_modules around it.
      const found = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: { inner: true },
      });
      if (found.errors.length > 0 || found.external || found.path === '') {
        return { path: args.path, external: true };
      }
      return { path: pathToFileURL(found.path).href, external: true };
    });
  },
};

/**
 * Bundles `file` into `outfile` (an ES module for Node 20).
 * @param {string} file - the TypeScript entry
 * @param {string} outfile - where to write the bundle
 */
export async function bundle(file, outfile) {
  await build({
    entryPoints: [file],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'error',
    conditions: [SOURCE_CONDITION],
    plugins: [externalsPlugin],
  });
}

/**
 * Bundles and runs a TypeScript file in a child Node process.
 * @param {string} file - the TypeScript entry
 * @param {{ stdio?: 'inherit' | 'pipe', timeoutMs?: number, args?: string[] }} [options]
 *   `timeoutMs` kills the child with SIGKILL (default: none)
 * @returns {Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string, timedOut: boolean }>}
 */
export async function runTypeScript(file, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'asyncnet-run-'));
  try {
    const out = join(dir, `${basename(file).replace(/\.[cm]?tsx?$/, '')}.mjs`);
    await bundle(file, out);
    return await new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, ['--enable-source-maps', out, ...(options.args ?? [])], {
        stdio: options.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (s) => (stdout += s));
      child.stderr?.setEncoding('utf8').on('data', (s) => (stderr += s));
      let timedOut = false;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, options.timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolvePromise({ code, signal, stdout, stderr, timedOut });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The examples, in tutorial order: `[{ name: 'tcp-server', file }]`. */
export function examples() {
  return readdirSync(srcDir)
    .filter((f) => /^\d\d-.*\.ts$/.test(f))
    .sort()
    .map((f) => ({ name: f.replace(/^\d\d-/, '').replace(/\.ts$/, ''), file: join(srcDir, f) }));
}

function find(arg) {
  if (/\.[cm]?tsx?$/.test(arg)) return resolve(arg);
  const hit = examples().find((e) => e.name === arg || basename(e.file, '.ts') === arg);
  return hit?.file;
}

async function main(argv) {
  const [arg, ...rest] = argv;
  if (arg === undefined || arg === '--list' || arg === '--help') {
    const out = arg === undefined ? console.error : console.log;
    out('usage: node examples/run.mjs <example | file.ts> [args...]\n\nexamples:');
    for (const e of examples()) out(`  ${e.name}`);
    process.exitCode = arg === undefined ? 2 : 0;
    return;
  }
  const file = find(arg);
  if (file === undefined) {
    console.error(`no example named '${arg}'; try: node examples/run.mjs --list`);
    process.exitCode = 2;
    return;
  }
  const { code, signal } = await runTypeScript(file, { stdio: 'inherit', args: rest });
  process.exitCode = code ?? (signal === null ? 1 : 128);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
