import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTypeScript } from '@asyncnet-internal/examples/run';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryBlocks } from './code-blocks.js';
import { compilerOptions, typecheck, writeBlocks } from './typecheck.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Inside this package, so the blocks' `@asyncnet/*` imports resolve through its dependencies; one
// directory per run, so two runs in one working tree do not delete each other's files.
const parent = fileURLToPath(new URL('../.blocks/', import.meta.url));
mkdirSync(parent, { recursive: true });
const dir = mkdtempSync(join(parent, 'run-'));
afterAll(() => {
  if (process.env.KEEP_BLOCKS === undefined) rmSync(dir, { recursive: true, force: true });
});

const blocks = repositoryBlocks(root);
const files = writeBlocks(
  blocks.filter((b) => b.mode !== 'skip'),
  dir,
);

describe('code blocks in the READMEs and docs/', () => {
  it('finds the package READMEs’ examples', () => {
    const documented = new Set(blocks.map((b) => b.file));
    for (const pkg of ['streams', 'protocol', 'http-lite', 'chat']) {
      expect(documented, `packages/${pkg}/README.md has no TypeScript block`).toContain(
        `packages/${pkg}/README.md`,
      );
    }
  });

  it('typechecks every block under strict, module nodenext', () => {
    const errors = typecheck(files, compilerOptions(root, dir));
    expect(errors, `\n${errors.join('\n')}\n`).toEqual([]);
  }, 120_000);

  const runnable = files.filter((f) => f.block.mode === 'run');
  it.each(runnable.map((f) => ({ where: `${f.block.file}:${f.block.line}`, path: f.path })))(
    'runs $where',
    async ({ where, path }) => {
      const result = await runTypeScript(path, { timeoutMs: 15_000 });
      const output = `\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
      expect(result.timedOut, `${where} did not end within 15 s (does it close its servers?)${output}`).toBe(
        false,
      );
      expect(result.code, `${where} failed${output}`).toBe(0);
      expect(result.stderr, `${where} wrote to stderr${output}`).toBe('');
    },
  );
});
