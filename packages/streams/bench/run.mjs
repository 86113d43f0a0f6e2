// Streams benchmarks: echo servers in separate processes (ours, raw node:net, Python asyncio),
// driven by one raw node:net load generator, side by side and alternating, on loopback.
// Usage: node bench/run.mjs   (env: BENCH_ROUNDS=3, BENCH_BULK_MIB=128, BENCH_LINES=100000, BENCH_IDLE=10000)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { openConnection, startServer } from '../dist/index.js';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BULK_BYTES = Number(process.env.BENCH_BULK_MIB ?? 128) * 1024 * 1024;
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const IDLE = Number(process.env.BENCH_IDLE ?? 10_000);
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

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function idleMemory(port, pid) {
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
}

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

const results = { bulk: {}, lines: {}, idle: {} };
const push = (w, p, v) => (results[w][p] ??= []).push(v);
const order = ['ours', 'raw', 'python'];

for (let round = 0; round < ROUNDS; round++) {
  const peersThisRound = round % 2 === 0 ? order : [...order].reverse();
  for (const peer of peersThisRound) {
    const secs = await withServer(peer, 'bulk', (port) =>
      timeIt(() => Promise.all(Array.from({ length: CONNS }, () => bulkClient(port, BULK_BYTES)))),
    );
    push('bulk', peer, (CONNS * BULK_BYTES) / secs / 1e6);
    const lsecs = await withServer(peer, 'lines', (port) =>
      timeIt(() => Promise.all(Array.from({ length: CONNS }, () => linesClient(port, LINES)))),
    );
    push('lines', peer, (CONNS * LINES) / lsecs);
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}
for (const peer of ['ours', 'raw']) {
  push('idle', peer, await withServer(peer, 'idle', idleMemory));
}
const stuck = await stuckReaderBytes(65536);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (v, unit) =>
  unit === 'MB/s'
    ? `${v.toFixed(0)} MB/s`
    : unit === 'lines/s'
      ? `${(v / 1000).toFixed(0)}k lines/s`
      : `${(v / 1024).toFixed(1)} KiB`;
const range = (xs, unit) =>
  xs.length > 1 ? ` (${fmt(Math.min(...xs), unit)}–${fmt(Math.max(...xs), unit)})` : '';

const rows = [
  ['bulk echo, 4 conns x 128 MiB', 'bulk', 'MB/s'],
  ['lines echo, 4 conns x 100k x 64 B, 256 in flight', 'lines', 'lines/s'],
];
console.log(`\n@asyncnet/streams benchmarks — median of ${ROUNDS} rounds (range), node ${process.version}\n`);
console.log('| workload | ours | raw node:net | Python asyncio | ours/raw | ours/python |');
console.log('|---|---|---|---|---|---|');
for (const [label, key, unit] of rows) {
  const r = results[key];
  const [o, n, p] = [median(r.ours), median(r.raw), median(r.python)];
  console.log(
    `| ${label} | ${fmt(o, unit)}${range(r.ours, unit)} | ${fmt(n, unit)}${range(r.raw, unit)} | ${fmt(p, unit)}${range(r.python, unit)} | ${(o / n).toFixed(2)}x | ${(o / p).toFixed(2)}x |`,
  );
}
const io = results.idle.ours[0];
const ir = results.idle.raw[0];
console.log(
  `| RSS per idle connection (${IDLE} conns) | ${fmt(io)} | ${fmt(ir)} | – | ${(io / ir).toFixed(2)}x | – |`,
);
console.log(
  `| reader that never reads (limit 64 KiB): bytes held | ${(stuck.held / 1024).toFixed(0)} KiB of ${(stuck.written / 1024 / 1024).toFixed(1)} MiB sent | – | – | ${(stuck.held / 65536).toFixed(2)} x limit | – |`,
);
