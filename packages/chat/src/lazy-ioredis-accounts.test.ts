import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureBuilt } from './__fixtures__/redis.js';

const block = fileURLToPath(new URL('./__fixtures__/block-ioredis.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

describe('ioredis is loaded only when a Redis account store is used', () => {
  ensureBuilt();
  it('accounts on a memory bus need no ioredis; redisAccountStore loads it when its server listens', () => {
    const code = `import { createChatServer, redisAccountStore } from './index.js';
      const server = createChatServer({ accounts: { registration: true }, log: () => {} });
      await server.listen();
      await server.close({ timeout: 100 });
      // Creating the store does not load ioredis; listening with it does (and fails here).
      const store = redisAccountStore({ url: 'redis://127.0.0.1:1' });
      const err = await createChatServer({ accounts: { store }, log: () => {} }).listen().catch((e) => e);
      console.log(JSON.stringify({ memory: 'ok', redis: err.message }));`;
    const out = execFileSync(process.execPath, ['--import', block, '--input-type=module', '-e', code], {
      cwd: dist,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(JSON.parse(out)).toEqual({ memory: 'ok', redis: expect.stringMatching(/blocked ioredis/) });
  });
});
