// `pnpm check`: every gate CI runs, one line per step that passed and the full log only for a
// step that failed. Steps run in order with their output captured. A failed step does not stop
// the others (one run shows every problem), except that the package checks are skipped when the
// build failed. The output always ends with vitest's summary line, which CI reads.
import { spawn } from 'node:child_process';
import { pnpmCommand, root } from './workspace.mjs';

/** Each step is a root package.json script; `needs` names steps that must have passed. */
const steps = [
  { script: 'typecheck' },
  { script: 'lint' },
  { script: 'check:deps' },
  { script: 'build' },
  { script: 'check:pkg', needs: ['build'] },
  { script: 'check:tarballs', needs: ['build'] },
  { script: 'docs' },
  { script: 'test' },
];

const SUMMARY = /^vitest: \d+ passed, \d+ failed, \d+ skipped$/m;
const tty = process.stdout.isTTY;

/** Runs `pnpm run <script>` with stdout and stderr captured together; resolves { code, log }. */
function run(script) {
  const [cmd, pre] = pnpmCommand();
  return new Promise((resolve) => {
    const child = spawn(cmd, [...pre, 'run', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv,
    });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('error', (err) => chunks.push(Buffer.from(String(err))));
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 1, signal, log: Buffer.concat(chunks).toString() }),
    );
  });
}

// Logs are replayed as text: no colour codes. Only NO_COLOR, never both it and FORCE_COLOR
// (Node 24 warns on stderr when both are set).
const { FORCE_COLOR: _, ...inherited } = process.env;
const childEnv = { ...inherited, NO_COLOR: '1' };

const passed = new Set();
let failures = 0;
let summary = null;
const began = Date.now();

for (const { script, needs = [] } of steps) {
  const blocked = needs.filter((n) => !passed.has(n));
  if (blocked.length > 0) {
    console.log(`- ${script} (skipped: ${blocked.join(', ')} failed)`);
    continue;
  }
  if (tty) process.stdout.write(`… ${script}`);
  const started = Date.now();
  const { code, signal, log } = await run(script);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (tty) process.stdout.write('\r\x1b[K');
  if (script === 'test') summary = SUMMARY.exec(log)?.[0] ?? null;
  if (code === 0) {
    passed.add(script);
    console.log(`✓ ${script} (${secs} s)`);
  } else {
    failures++;
    console.log(`✗ ${script} (${secs} s, ${signal ?? `exit code ${code}`})\n`);
    // The summary line is printed last, below, so drop it from the replayed log.
    console.log(`${(summary ? log.replace(SUMMARY, '') : log).trimEnd()}\n`);
  }
}

console.log(
  `\n${failures === 0 ? 'all checks passed' : `${failures} of ${steps.length} checks failed`} in ${((Date.now() - began) / 1000).toFixed(1)} s`,
);
console.log(summary ?? 'vitest: no summary (the test step did not finish)');
process.exitCode = failures === 0 ? 0 : 1;
