import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, waitPort } from './ports.mjs';

/** Path of the nginx binary, or null when it is not installed. */
export function findNginx(): string | null {
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

export interface RunningNginx {
  port: number;
  origin: string;
  stop(): Promise<void>;
}

/** Starts nginx (one worker) with `nginx.conf` from this folder on a free loopback port and a temp prefix. */
export async function startNginx(files: Record<string, string | Buffer>): Promise<RunningNginx> {
  const bin = findNginx();
  if (bin === null) throw new Error('nginx not installed');
  const prefix = mkdtempSync(join(tmpdir(), 'http-lite-nginx-'));
  for (const d of ['www', 'tmp', 'logs']) mkdirSync(join(prefix, d), { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    const path = join(prefix, 'www', name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  }
  const port = await freePort();
  const template = readFileSync(new URL('./nginx.conf', import.meta.url), 'utf8');
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
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  try {
    await waitPort(port, child, 'nginx');
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
