// What run.mjs and routes.mjs share: a bench server in its own process, and the closed-loop driver.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { percentile } from '@asyncnet-internal/bench-harness';

/** Starts `script` (relative to bench/) with `args`; resolves with the first line it prints and a stop(). */
export async function spawnServer(script, args = []) {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(child.stdout, 'data');
  return {
    value: String(line).trim(),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/**
 * Runs `conc` workers calling `client.get()` (resolving with the bytes received) for `warm` ms, then
 * records for `ms` ms; closes the client. Returns null with `warmOnly`, else
 * `{ rps, mbps, p50, p99, cpu }` (latency only at conc=1, CPU in us per request).
 */
export async function measure(client, conc, { warm, ms, warmOnly = false }) {
  try {
    const lat = [];
    let count = 0;
    let bytes = 0;
    let recording = false;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const t0 = process.hrtime.bigint();
        const n = await client.get();
        if (recording) {
          count++;
          bytes += n;
          if (conc === 1) lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
        }
      }
    };
    const workers = Array.from({ length: conc }, worker);
    await new Promise((r) => setTimeout(r, warm));
    if (warmOnly) {
      stop = true;
      await Promise.all(workers);
      return null;
    }
    recording = true;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, ms));
    recording = false;
    const cpu = process.cpuUsage(cpu0);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    stop = true;
    await Promise.all(workers);
    lat.sort((a, b) => a - b);
    return {
      rps: count / secs,
      mbps: bytes / secs / 1e6,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      cpu: (cpu.user + cpu.system) / count,
    };
  } finally {
    await client.close();
  }
}
