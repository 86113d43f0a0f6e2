// The fan-out workload both load generators run (load.mjs over TCP, ws-load.mjs over WebSocket):
// N members join in waves, `senders` of them send as fast as the server takes them, everyone else
// counts, and the run ends when all arrived, deliveries stall, or the deadline passes.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile } from '@asyncnet-internal/bench-harness';

/** Resolves once `socket` drained or closed: the sender's back-pressure wait. */
export function drained(socket) {
  return new Promise((r) => {
    socket.once('drain', r);
    socket.once('close', r);
  });
}

/** Starts a never-reading member (Python, 4 KiB receive buffer); resolves once it prints that it joined. */
export function startStuckClient(script, args, label) {
  const proc = spawn('python3', [fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', () => resolve(proc));
    proc.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
  });
}

/**
 * Runs one workload against a server on `port` with members from `client`:
 * `{ wave, openMember(port, nick, probe), startStuck(port), sendAll(member, idx, lines, pad) }`;
 * a member is `{ socket, count, latencies, closed }` (latencies only on probes).
 * @returns { deliveries, expected, ratio, seconds, rate, p50, p99, outcome }
 */
export async function runWorkload(
  client,
  { port, members, senders = 10, lines = 2000, pad = 0, stuck = false, deadlineMs = 30_000, stallMs = 3_000 },
) {
  const all = [];
  const probes = 10;
  for (let k = 0; k < members; k += client.wave) {
    const wave = [];
    for (let j = k; j < Math.min(members, k + client.wave); j++)
      wave.push(client.openMember(port, `u${j}`, j >= senders && j < senders + probes));
    all.push(...(await Promise.all(wave)));
  }
  const stuckProc = stuck ? await client.startStuck(port) : null;
  // Let join notices settle before measuring.
  await new Promise((r) => setTimeout(r, 300 + members));
  for (const m of all) {
    m.count = 0;
    if (m.latencies) m.latencies.length = 0;
  }
  const expected = senders * lines * (members - 1);
  const total = () => {
    let n = 0;
    for (const m of all) n += m.count;
    return n;
  };
  const start = performance.now();
  let last = 0;
  let lastChange = start;
  let lastAt = start;
  const sending = all.slice(0, senders).map((m, i) => client.sendAll(m, i, lines, pad));
  let outcome = 'complete';
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const n = total();
    const now = performance.now();
    if (n !== last) {
      last = n;
      lastChange = now;
      lastAt = now;
    }
    if (n >= expected) break;
    if (now - lastChange > stallMs) {
      outcome = 'stalled';
      break;
    }
    if (now - start > deadlineMs) {
      outcome = 'deadline';
      break;
    }
  }
  const deliveries = total();
  const seconds = (lastAt - start) / 1000;
  const lat = [];
  for (const m of all) if (m.latencies) for (const x of m.latencies) lat.push(x);
  lat.sort((a, b) => a - b);
  for (const m of all) m.socket.destroy();
  stuckProc?.kill('SIGKILL');
  await Promise.race([Promise.all(sending), new Promise((r) => setTimeout(r, 1000))]);
  return {
    deliveries,
    expected,
    ratio: deliveries / expected,
    seconds,
    rate: deliveries / seconds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    outcome,
  };
}
