import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli, runCli } from './__fixtures__/run-cli.js';

const big = randomBytes(3 * 1024 * 1024 + 17);
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'asyncnet-demo-get-'));
  server = createServer((req, res) => {
    if (req.url === '/hello') {
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.setHeader('x-demo', 'yes');
      res.end('hello, world\n');
    } else if (req.url === '/big') {
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('content-length', String(big.length));
      // Several writes so the body arrives in many chunks.
      for (let i = 0; i < big.length; i += 100_000) res.write(big.subarray(i, i + 100_000));
      res.end();
    } else if (req.url === '/chunked') {
      res.write('one,');
      res.write('two,');
      res.end('three\n');
    } else if (req.url === '/auth') {
      res.end(`authorization: ${req.headers.authorization ?? '(none)'}\n`);
    } else if (req.url === '/headers') {
      res.end(`x-token: ${req.headers['x-token'] ?? '(none)'}\n`);
    } else if (req.url === '/gzip') {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
      res.end(gzipSync('squeezed text\n'));
    } else if (req.url === '/stall') {
      // Never answers: the client's --timeout must end the request.
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: '/hello' }).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page\n');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('asyncnet-demo get', () => {
  it('prints the body to stdout', async () => {
    const r = await runCli(['get', `${base}/hello`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello, world\n');
    expect(r.stderr).toBe('');
  });

  it('prints a chunked body whole', async () => {
    const r = await runCli(['get', `${base}/chunked`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('one,two,three\n');
  });

  it('prints the status line and headers with -I', async () => {
    const r = await runCli(['get', '-I', `${base}/hello`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.stdout).toMatch(/\r\nx-demo: yes\r\n/i);
    expect(r.stdout).toMatch(/\r\ncontent-type: text\/plain; charset=utf-8\r\n/i);
    expect(r.stdout).not.toContain('hello, world');
    expect(r.stdout.endsWith('\r\n\r\n')).toBe(true);
  });

  it('streams the body to a file with -o, byte for byte', async () => {
    const file = join(dir, 'big.bin');
    const r = await runCli(['get', `${base}/big`, '-o', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    // stderr is a pipe here, so no progress bar, just the summary line.
    expect(r.stderr).toBe(`saved ${big.length} bytes to ${file}\n`);
    expect(readFileSync(file).equals(big)).toBe(true);
  });

  it('sends headers given with -H', async () => {
    const r = await runCli(['get', '-H', 'X-Token: s3cret', `${base}/headers`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('x-token: s3cret\n');
  });

  it('follows redirects, and fails past --max-redirects', async () => {
    const ok = await runCli(['get', `${base}/redirect`]);
    expect(ok.stdout).toBe('hello, world\n');
    const none = await runCli(['get', '--max-redirects', '0', '-I', `${base}/redirect`]);
    expect(none.stdout).toMatch(/^HTTP\/1\.1 302 Found\r\n/);
  });

  it('decodes a gzip body with --decompress', async () => {
    const r = await runCli(['get', '--decompress', `${base}/gzip`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('squeezed text\n');
  });

  it('gives up after --timeout with exit 1 and one line', async () => {
    const r = await runCli(['get', '--timeout', '300', `${base}/stall`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^asyncnet-demo: error: get .*\/stall failed: timed out talking to 127\.0\.0\.1:\d+ .*--timeout.*\n$/,
    );
  });

  it('explains an untrusted certificate, and fetches with -k', async () => {
    const { makeSelfSignedCert } = await import('./cert.js');
    const { createServer: createHttps } = await import('node:https');
    const tls = createHttps(makeSelfSignedCert(), (_req, res) => res.end('secret\n'));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
      const refused = await runCli(['get', url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^asyncnet-demo: error: get https:.* failed: self.signed certificate.*-k\/--insecure.*\n$/,
      );
      const ok = await runCli(['get', '-k', url]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe('secret\n');
    } finally {
      tls.closeAllConnections();
      tls.close();
    }
  });

  it('explains https:// to a plain-HTTP port in one line', async () => {
    const r = await runCli(['get', `${base.replace('http:', 'https:')}/hello`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^asyncnet-demo: error: get https:.* failed: TLS handshake with 127\.0\.0\.1:\d+ failed: the server does not speak TLS.*\n$/,
    );
  });

  it('sends user:password from the url as Basic auth and never prints the password', async () => {
    const r = await runCli(['get', `${base.replace('//', '//ann:s%40cret@')}/auth`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`authorization: Basic ${Buffer.from('ann:s@cret').toString('base64')}\n`);
    const failed = await runCli(['get', 'http://ann:s3cret@127.0.0.1:1/']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^asyncnet-demo: error: get http:\/\/127\.0\.0\.1:1\/ failed: /);
    expect(failed.stderr).not.toContain('s3cret');
  });

  it('prints the body of a 404 and exits 1 with one line on stderr', async () => {
    const r = await runCli(['get', `${base}/missing`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('no such page\n');
    expect(r.stderr).toBe(`asyncnet-demo: error: ${base}/missing answered 404 Not Found\n`);
  });

  it('exits 1 with one line when -o names a file it cannot create', async () => {
    const r = await runCli(['get', `${base}/hello`, '-o', join(dir, 'no', 'such', 'dir', 'f')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^asyncnet-demo: error: cannot write .*ENOENT.*\n$/);
  });
});
