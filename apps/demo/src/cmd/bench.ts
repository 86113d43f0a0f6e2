import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParsedArgs } from '../args.js';
import { runtimeError, usageError } from '../errors.js';

const PACKAGES = ['streams', 'protocol', 'http-lite', 'chat'];

/** Finds the asyncnet repository root above `start` (the folder holding pnpm-workspace.yaml and packages/streams). */
export function findRepoRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, 'packages', 'streams')))
      return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** `asyncnet-demo bench`: runs each package's `bench/run.mjs` in turn and passes its tables through. */
export async function benchCommand(args: ParsedArgs): Promise<number> {
  for (const p of args.positionals) {
    if (!PACKAGES.includes(p))
      throw usageError(`unknown package ${JSON.stringify(p)}: choose from ${PACKAGES.join(', ')}`);
  }
  const wanted = args.positionals.length > 0 ? args.positionals : PACKAGES;
  const root = findRepoRoot(process.cwd()) ?? findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  if (root === null) {
    throw runtimeError(
      'bench needs a checkout of the asyncnet repository: run it from inside the repo (the benchmarks and their peer scripts are not installed with the demo)',
    );
  }
  process.stdout.write(`running benchmarks from ${root} (numbers are noisy on a shared machine)\n`);
  const failed: string[] = [];
  for (const name of wanted) {
    const pkgDir = join(root, 'packages', name);
    const script = join(pkgDir, 'bench', 'run.mjs');
    process.stdout.write(`\n=== @asyncnet/${name} (packages/${name}/bench/run.mjs) ===\n`);
    if (!existsSync(script)) {
      process.stdout.write(`no benchmark yet: packages/${name}/bench/run.mjs does not exist\n`);
      failed.push(name);
      continue;
    }
    if (!existsSync(join(pkgDir, 'dist', 'index.js'))) {
      process.stdout.write(`packages/${name}/dist is missing: run \`npx -y pnpm@10.33.4 build\` first\n`);
      failed.push(name);
      continue;
    }
    const code = await new Promise<number>((done) => {
      const child = spawn(process.execPath, ['bench/run.mjs'], { cwd: pkgDir, stdio: 'inherit' });
      child.on('error', () => done(1));
      child.on('close', (c) => done(c ?? 1));
    });
    if (code !== 0) {
      process.stdout.write(`@asyncnet/${name} bench exited with code ${code}\n`);
      failed.push(name);
    }
  }
  if (failed.length > 0) {
    process.stderr.write(`asyncnet-demo: error: benchmarks failed or missing for ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}
