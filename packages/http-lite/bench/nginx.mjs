// Starts a private nginx (one worker) on a loopback port with a temp prefix dir; used by the bench.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function findNginx() {
  for (const p of [
    '/usr/sbin/nginx',
    '/usr/local/sbin/nginx',
    '/usr/bin/nginx',
    '/usr/local/nginx/sbin/nginx',
  ]) {
    if (existsSync(p)) return p;
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nginx did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** @param files {Record<string, Buffer|string>} paths under www/ */
export async function startNginx(files) {
  const bin = findNginx();
  if (bin === null) return null;
  const prefix = mkdtempSync(join(tmpdir(), 'http-lite-nginx-'));
  for (const d of ['www', 'tmp', 'logs']) mkdirSync(join(prefix, d), { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(prefix, 'www', name, '..'), { recursive: true });
    writeFileSync(join(prefix, 'www', name), data);
  }
  const port = await freePort();
  const template = readFileSync(new URL('../src/__fixtures__/nginx.conf', import.meta.url), 'utf8');
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  const conf = template
    .replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{PORT}}', String(port))
    .replaceAll('{{USER}}', user);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child = spawn(
    bin,
    ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'logs', 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await waitPort(port);
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
