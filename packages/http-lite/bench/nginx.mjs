// Starts a private nginx (one worker) on a loopback port with a temp prefix dir; used by the bench.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitPort } from '../src/__fixtures__/ports.mjs';

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
  await waitPort(port, child, 'nginx');
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
