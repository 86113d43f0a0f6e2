// Streams benchmarks: echo servers in separate processes (ours, raw node:net, Python asyncio),
// driven by one raw node:net load generator, side by side and alternating, on loopback.
// Usage: node bench/run.mjs [--rounds 3] [--bulk-mib 128] [--lines 100000] [--idle 10000]
//   [--idle-big 100000] [--only bulk,lines,idle,stuck]
// (or BENCH_ROUNDS, BENCH_BULK_MIB, BENCH_LINES, BENCH_IDLE, BENCH_IDLE_BIG, BENCH_ONLY; BENCH_DIST below)
// Ratios are taken per round (peers alternate inside a round, so both sides of a ratio saw the same
// load) and shown as median (range); server CPU per op comes from /proc and is less load-sensitive.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cell, footer, median, option, printTable, ratio, runRounds } from '@asyncnet-internal/bench-harness';

// BENCH_DIST=/path/to/index.js benchmarks another build (e.g. a baseline) instead of ../dist.
const { openConnection, startServer } = await import(process.env.BENCH_DIST ?? '../dist/index.js');

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const ROUNDS = option('rounds', 3);
const BULK_MIB = option('bulk-mib', 128);
const BULK_BYTES = BULK_MIB * 1024 * 1024;
const LINES = option('lines', 100_000);
const IDLE = option('idle', 10_000);
const IDLE_BIG = option('idle-big', 100_000);
const ONLY = new Set(String(option('only', 'bulk,lines,idle,stuck')).split(','));
const CONNS = 4;

const peers = {
  ours: (mode) => ['node', [here('./servers/ours.mjs'), mode]],
  raw: (mode) => ['node', [here('./servers/raw.mjs'), mode]],
  python: (mode) => ['python3', [here('./servers/asyncio_echo.py'), mode]],
};

async function withServer(peer, mode, fn) {
  const [cmd, args] = peers[peer](mode);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', (code) => reject(new Error(`${peer} server exited with ${code}`)));
    });
    return await fn(port, child.pid);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  }
}

function bulkClient(port, total) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const chunk = Buffer.alloc(65536, 97);
    let sent = 0;
    let received = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return;
      }
    };
    socket.on('drain', pump);
    socket.on('connect', pump);
    socket.on('data', (d) => {
      received += d.length;
      if (received >= total) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
  });
}

function linesClient(port, lines) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const line = Buffer.from(`${'x'.repeat(63)}\n`);
    const WINDOW = 256;
    const batch = Buffer.concat(Array.from({ length: WINDOW }, () => line));
    let sent = 0;
    let receivedBytes = 0;
    const pump = () => {
      const inflight = sent - Math.floor(receivedBytes / 64);
      const n = Math.min(WINDOW - inflight, lines - sent);
      if (n <= 0) return;
      sent += n;
      socket.write(batch.subarray(0, n * 64));
    };
    socket.on('connect', pump);
    socket.on('data', (d) => {
      receivedBytes += d.length;
      if (receivedBytes >= lines * 64) {
        socket.destroy();
        resolve();
        return;
      }
      pump();
    });
    socket.on('error', reject);
  });
}

async function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** User + system CPU seconds of a process so far. */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const idleMemory = (IDLE) => async (port, pid) => {
  await sleep(300);
  const before = rss(pid);
  const sockets = [];
  for (let i = 0; i < IDLE; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(IDLE, i + 500); j++) {
      batch.push(
        new Promise((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
          s.on('error', reject);
        }),
      );
    }
    sockets.push(...(await Promise.all(batch)));
  }
  await sleep(1000);
  const after = rss(pid);
  for (const s of sockets) s.destroy();
  return (after - before) / IDLE;
};

async function stuckReaderBytes(limit) {
  let serverReader;
  const server = await startServer(
    (reader) => {
      serverReader = reader;
    },
    '127.0.0.1',
    0,
    { limit },
  );
  const [, writer] = await openConnection('127.0.0.1', server.address().port);
  const chunk = Buffer.alloc(65536);
  let written = 0;
  for (let i = 0; i < 1024; i++) {
    writer.write(chunk);
    written += chunk.length;
    const ok = await Promise.race([writer.drain().then(() => true), sleep(300).then(() => false)]);
    if (!ok) break;
  }
  const held = serverReader.bufferedSize;
  server.close();
  server.abortClients();
  writer.transport.abort();
  return { held, written };
}

const began = Date.now();
const loadAtStart = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const order = ['ours', 'raw', 'python'];
const rounds = await runRounds(
  ROUNDS,
  order,
  async (peer) => {
    const out = {};
    const measure = async (mode, client, ops) => {
      const [secs, cpu] = await withServer(peer, mode, async (port, pid) => {
        const cpu0 = cpuSeconds(pid);
        const secs = await timeIt(() => Promise.all(Array.from({ length: CONNS }, () => client(port))));
        return [secs, cpuSeconds(pid) - cpu0];
      });
      out[mode] = ops / secs;
      out[`${mode}Cpu`] = cpu / ops;
    };
    if (ONLY.has('bulk'))
      await measure('bulk', (port) => bulkClient(port, BULK_BYTES), (CONNS * BULK_BYTES) / 1e6);
    if (ONLY.has('lines')) await measure('lines', (port) => linesClient(port, LINES), CONNS * LINES);
    return out;
  },
  { onRound: (round) => process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`) },
);
const idle = {};
if (ONLY.has('idle'))
  for (const peer of ['ours', 'raw']) idle[peer] = await withServer(peer, 'idle', idleMemory(IDLE));
// One process holds every server-side socket and the bench process every client socket, each
// needing one descriptor per connection (and loopback one ephemeral port per connection).
const fdLimit = (() => {
  try {
    return Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
})();
const [portLo, portHi] = (() => {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return [0, 65535];
  }
})();
let idleBigSkipped = null;
if (ONLY.has('idle') && IDLE_BIG > 0) {
  if (fdLimit < IDLE_BIG + 1000) idleBigSkipped = `open-file limit ${fdLimit} (ulimit -n) < ${IDLE_BIG}`;
  else if (portHi - portLo + 1 < IDLE_BIG)
    idleBigSkipped = `${portHi - portLo + 1} ephemeral ports (ip_local_port_range) < ${IDLE_BIG}`;
  else {
    const big = {};
    for (const peer of ['ours', 'raw']) big[peer] = await withServer(peer, 'idle', idleMemory(IDLE_BIG));
    idle.big = big;
  }
}
const stuck = ONLY.has('stuck') ? await stuckReaderBytes(65536) : null;

const fmt = (unit) => (v) =>
  unit === 'MB/s'
    ? `${v.toFixed(0)} MB/s`
    : unit === 'lines/s'
      ? `${(v / 1000).toFixed(0)}k lines/s`
      : `${(v / 1024).toFixed(1)} KiB`;
const series = (peer, key) => rounds[peer].map((r) => r[key]);
const x = (v) => `${v.toFixed(2)}x`;
/** ours/peer in each round: median (range). */
const roundRatio = (peer, key) => {
  const rs = series('ours', key).map((o, i) => o / series(peer, key)[i]);
  return cell(rs, x);
};
const cpuCell = (key, unit) =>
  order
    .map((peer) => `${(median(series(peer, `${key}Cpu`)) * 1e6).toFixed(unit === 'MB' ? 0 : 2)}`)
    .join(' / ');
const row = (label, key, unit, cpuUnit) => [
  label,
  ...order.map((peer) => cell(series(peer, key), fmt(unit))),
  roundRatio('raw', key),
  roundRatio('python', key),
  `${cpuCell(key, cpuUnit)} µs/${cpuUnit}`,
];
const rows = [];
if (ONLY.has('bulk')) rows.push(row(`bulk echo, ${CONNS} conns x ${BULK_MIB} MiB`, 'bulk', 'MB/s', 'MB'));
if (ONLY.has('lines'))
  rows.push(
    row(`lines echo, ${CONNS} conns x ${LINES / 1000}k x 64 B, 256 in flight`, 'lines', 'lines/s', 'line'),
  );
const idleRow = (label, v) => [
  label,
  fmt('KiB')(v.ours),
  fmt('KiB')(v.raw),
  '–',
  ratio(v.ours, v.raw),
  '–',
  '–',
];
if (ONLY.has('idle')) {
  rows.push(idleRow(`RSS per idle connection (${IDLE} conns)`, idle));
  if (idle.big !== undefined) rows.push(idleRow(`RSS per idle connection (${IDLE_BIG} conns)`, idle.big));
  else if (idleBigSkipped !== null)
    rows.push([
      `RSS per idle connection (${IDLE_BIG} conns)`,
      `not run: ${idleBigSkipped}`,
      '–',
      '–',
      '–',
      '–',
      '–',
    ]);
}
if (stuck !== null)
  rows.push([
    'reader that never reads (limit 64 KiB): bytes held',
    `${(stuck.held / 1024).toFixed(0)} KiB of ${(stuck.written / 1024 / 1024).toFixed(1)} MiB sent`,
    '–',
    '–',
    `${(stuck.held / 65536).toFixed(2)} x limit`,
    '–',
    '–',
  ]);
printTable(
  `@asyncnet/streams benchmarks — median of ${ROUNDS} rounds (range), node ${process.version}, load average ${loadAtStart} at start`,
  [
    'workload',
    'ours',
    'raw node:net',
    'Python asyncio',
    'ours/raw',
    'ours/python',
    'server CPU ours / raw / python',
  ],
  rows,
);
footer(
  began,
  `Load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}.`,
);
