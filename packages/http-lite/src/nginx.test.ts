import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNginx, type RunningNginx, startNginx } from './__fixtures__/nginx.js';
import { Agent, get, request } from './index.js';

const bin = findNginx();
if (bin === null) {
  // Visible in the test output: CI (.ci/run) installs nginx, so this only happens on bare dev machines.
  console.warn('[http-lite] nginx not found: skipping the nginx tests (apt-get install nginx)');
}

const text = 'the quick brown fox jumps over the lazy dog\n'.repeat(2000);
const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);

describe.skipIf(bin === null)('against nginx', () => {
  let nginx: RunningNginx;
  const agent = new Agent();
  beforeAll(async () => {
    nginx = await startNginx({ 'small.txt': 'hello world\n', 'big.bin': big, 'gz/text.txt': text });
  });
  afterAll(async () => {
    agent.destroy();
    await nginx?.stop();
  });

  it('serves static files over one keep-alive connection', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await get(`${nginx.origin}/small.txt`, { agent });
      expect(res.status).toBe(200);
      expect(res.headers.get('server')).toMatch(/nginx/);
      expect(await res.body.text()).toBe('hello world\n');
    }
    const res = await get(`${nginx.origin}/big.bin`, { agent });
    expect(Number(res.headers.get('content-length'))).toBe(big.length);
    expect((await res.body.bytes()).equals(big)).toBe(true);
    expect(agent.stats().get(`http://127.0.0.1:${nginx.port}`)?.open).toBe(1);
  });

  it('decodes gzip + chunked responses', async () => {
    const res = await get(`${nginx.origin}/gz/text.txt`, { agent, decompress: true });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(await res.body.text()).toBe(text);
  });

  it('follows redirects and answers HEAD without a body', async () => {
    const res = await get(`${nginx.origin}/redirect-chain`, { agent, maxRedirects: 2 });
    expect(res.url).toBe(`${nginx.origin}/small.txt`);
    expect(await res.body.text()).toBe('hello world\n');
    const head = await request(`${nginx.origin}/big.bin`, { agent, method: 'HEAD' });
    expect(Number(head.headers.get('content-length'))).toBe(big.length);
    expect((await head.body.bytes()).length).toBe(0);
    const notFound = await get(`${nginx.origin}/missing`, { agent });
    expect(notFound.status).toBe(404);
    await notFound.body.dump();
    expect(agent.stats().get(`http://127.0.0.1:${nginx.port}`)?.open).toBe(1);
  });
});
