// vitest globalSetup for the suites that run built code in child processes (the demo CLI, chat's
// Redis nodes): the one way tests get a `dist` (vitest.base.ts `withDist`). Before any test
// starts, turbo builds the suite's package and everything it depends on. Turbo's cache makes this
// a no-op (~0.1 s, files untouched) when nothing changed and a rebuild when a source did, so a
// child process never runs a stale build. Projects' global setups run one after another.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pnpm, root } from './workspace.mjs';

/** @param {import('vitest/node').TestProject} project */
export default function setup(project) {
  const { name } = JSON.parse(readFileSync(join(project.config.root, 'package.json'), 'utf8'));
  try {
    pnpm(['exec', 'turbo', 'run', 'build', `--filter=${name}...`, '--output-logs=errors-only'], {
      cwd: root,
    });
  } catch (err) {
    throw new Error(
      `building ${name} for its child-process tests failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
  }
}
