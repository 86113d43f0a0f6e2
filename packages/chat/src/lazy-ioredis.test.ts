import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureBuilt } from './__fixtures__/redis.js';

const block = fileURLToPath(new URL('./__fixtures__/block-ioredis.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/** Runs `code` in a child Node where ioredis cannot be resolved; returns its stdout. */
function run(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, ['--import', block, `--input-type=${type}`, '-e', code], {
    cwd: dist,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const body = `
  const server = createChatServer({ log: () => {} });
  await server.listen();
  await server.close({ timeout: 100 });
  const err = await createChatServer({ bus: redisBus({ url: 'redis://127.0.0.1:1' }), log: () => {} })
    .listen().catch((e) => e);
  console.log(JSON.stringify({ memory: 'ok', redis: err.message }));`;

describe('ioredis is loaded only when redisBus is used', () => {
  ensureBuilt();
  it('the ESM entry loads and runs a memory-bus server without ioredis', () => {
    const out = run(`import { createChatServer, redisBus } from './index.js';${body}`, 'module');
    // The block works (redisBus fails to load it), so the memory-bus line proves the lazy load.
    expect(JSON.parse(out)).toEqual({ memory: 'ok', redis: expect.stringMatching(/blocked ioredis/) });
  });

  it('the CJS entry loads and runs a memory-bus server without ioredis', () => {
    const out = run(
      `const { createChatServer, redisBus } = require('./index.cjs'); (async () => {${body}})();`,
      'commonjs',
    );
    expect(JSON.parse(out)).toEqual({ memory: 'ok', redis: expect.stringMatching(/blocked ioredis/) });
  });
});
