// `check:pkg` for one package (run from its folder): packs it with pnpm, exactly as it would be
// published (the .pnpmfile.cjs hook drops the `@asyncnet/source` condition), then lints that
// tarball with `publint --strict` and `attw --profile node16`. Quiet when both pass.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanNpmEnv, pnpm, root } from './workspace.mjs';

const { name } = JSON.parse(readFileSync('package.json', 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'asyncnet-check-pkg-'));
const bin = (tool) => join(root, 'node_modules/.bin', tool);

function run(label, cmd, args) {
  try {
    execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: cleanNpmEnv() });
  } catch (err) {
    process.stderr.write(`${name}: ${label} failed\n${err.stdout ?? ''}${err.stderr ?? ''}\n`);
    process.exitCode = 1;
  }
}

try {
  pnpm(['pack', '--pack-destination', work]);
  const [tarball] = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${name}`);
  const file = join(work, tarball);
  run('publint --strict', bin('publint'), ['run', file, '--strict']);
  run('attw', bin('attw'), [file, '--profile', 'node16']);
  if (!process.exitCode) console.log(`${name}: publint --strict and attw (node16) clean on ${tarball}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
