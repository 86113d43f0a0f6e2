import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli, runCli } from './__fixtures__/run-cli.js';

beforeAll(requireBuiltCli);

describe('asyncnet-demo tour', () => {
  it('runs every section, mentions every package and exits 0', { timeout: 60_000 }, async () => {
    const r = await runCli(['tour'], { timeoutMs: 55_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const pkg of ['streams', 'protocol', 'http-lite', 'chat']) {
      expect(r.stdout).toContain(`@asyncnet/${pkg}, code in packages/${pkg}/src`);
    }
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).toMatch(/✓ tour finished in \d+ ms/);
    // Real traffic: echoed lines, a TLS cipher, HTTP statuses, chat lines seen by other clients.
    expect(r.stdout).toContain('← readLine()       "hello, asyncnet\\n"');
    expect(r.stdout).toMatch(/verified localhost with TLSv1\.[23]/);
    expect(r.stdout).toContain('← read() "300000 bytes, sha256');
    expect(r.stdout).toContain('the server saw transfer-encoding: chunked and 4194304 bytes');
    expect(r.stdout).toContain('new connections for 200 requests: 0');
    expect(r.stdout).toContain('← carol gets "<alice> hi all');
    expect(r.stdout).toContain('← alice gets "<bob> hello from IRC!"');
    expect(r.stdout).toMatch(/then it disconnected him \(sendq (stuck|exceeded): 1\)/);
    // One measured number per section at least.
    expect(r.stdout.match(/⏱ measured: /g)?.length ?? 0).toBeGreaterThanOrEqual(4);
  });

  it('is also the default command', { timeout: 60_000 }, async () => {
    const r = await runCli([], { timeoutMs: 55_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ tour finished/);
  });
});
