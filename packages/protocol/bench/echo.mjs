// Bulk-echo workload: one raw node:net load generator, CONNS connections each sending BYTES and
// reading every byte back. Servers run in their own processes (see servers/).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export const echoPeers = {
  ours: ['node', [here('./servers/ours.mjs')]],
  'node pipe': ['node', [here('./servers/node-pipe.mjs')]],
  'node write-back': ['node', [here('./servers/node-write.mjs')]],
  'python asyncio': ['python3', [here('./servers/asyncio_echo.py')]],
};

/** Starts a peer's echo server process; resolves with { port, stop }. */
export function startEchoServer(name) {
  const [cmd, args] = echoPeers[name];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} server did not start`)), 15_000);
    child.once('error', reject);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          pid: child.pid,
          stop: () =>
            new Promise((r) => {
              child.once('exit', r);
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

function oneConnection(port, bytes, chunk) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let received = 0;
    let sent = 0;
    socket.on('error', reject);
    socket.on('data', (d) => {
      received += d.length;
      if (received >= bytes) {
        socket.destroy();
        resolve();
      }
    });
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.once('connect', pump);
  });
}

/** Runs the workload against `port`; returns MB/s (10^6 bytes) of echoed payload. */
export async function runEcho(port, { conns, bytes }) {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: conns }, () => oneConnection(port, bytes, chunk)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return (conns * bytes) / seconds / 1e6;
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where there is no /proc. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
