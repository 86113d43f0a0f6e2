// vitest globalSetup for the suites that run built code in child processes (the demo CLI, chat's
// Redis nodes): the one way tests get a `dist`. It asks turbo to build the suite's package and
// everything it depends on, once per run, before any test starts. Turbo's cache makes this a
// no-op (~0.1 s, files untouched) when nothing changed, and a rebuild when a source did, so a
// child process never runs a stale build.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** pnpm itself when the tests run under a pnpm script, else the pinned pnpm through npx. */
function pnpmCommand(): [string, string[]] {
  const self = process.env.npm_execpath;
  if (self && /pnpm/.test(self) && existsSync(self)) return [process.execPath, [self]];
  const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    packageManager: string;
  };
  return ['npx', ['-y', packageManager]];
}

export default function setup(project: TestProject): void {
  const { name } = JSON.parse(readFileSync(join(project.config.root, 'package.json'), 'utf8')) as {
    name: string;
  };
  const [cmd, pre] = pnpmCommand();
  const args = [...pre, 'exec', 'turbo', 'run', 'build', `--filter=${name}...`, '--output-logs=errors-only'];
  try {
    execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`building ${name} for its child-process tests failed:\n${stdout}${stderr}`);
  }
}
