// Streams benchmarks: echo servers in separate processes (ours, raw node:net, Python asyncio),
// driven by one raw node:net load generator, side by side and alternating, on loopback.
// Usage: node bench/run.mjs [--rounds 3] [--bulk-mib 128] [--lines 100000] [--idle 10000]
// (or BENCH_ROUNDS, BENCH_BULK_MIB, BENCH_LINES, BENCH_IDLE)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { cell, footer, median, option, printTable, ratio, runRounds } from '@asyncnet-internal/bench-harness';
import { openConnection, startServer } from '../dist/index.js';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const ROUNDS = option('rounds', 3);
const BULK_MIB = option('bulk-mib', 128);
const BULK_BYTES = BULK_MIB * 1024 * 1024;
const LINES = option('lines', 100_000);
const IDLE = option('idle', 10_000);
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

const began = Date.now();
const order = ['ours', 'raw', 'python'];
const rounds = await runRounds(
  ROUNDS,
  order,
  async (peer) => {
    const secs = await withServer(peer, 'bulk', (port) =>
      timeIt(() => Promise.all(Array.from({ length: CONNS }, () => bulkClient(port, BULK_BYTES)))),
    );
    const lsecs = await withServer(peer, 'lines', (port) =>
      timeIt(() => Promise.all(Array.from({ length: CONNS }, () => linesClient(port, LINES)))),
    );
    return { bulk: (CONNS * BULK_BYTES) / secs / 1e6, lines: (CONNS * LINES) / lsecs };
  },
  { onRound: (round) => process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`) },
);
const idle = {};
for (const peer of ['ours', 'raw']) idle[peer] = await withServer(peer, 'idle', idleMemory);
const stuck = await stuckReaderBytes(65536);

const fmt = (unit) => (v) =>
  unit === 'MB/s'
    ? `${v.toFixed(0)} MB/s`
    : unit === 'lines/s'
      ? `${(v / 1000).toFixed(0)}k lines/s`
      : `${(v / 1024).toFixed(1)} KiB`;
const series = (peer, key) => rounds[peer].map((r) => r[key]);
const row = (label, key, unit) => {
  const [o, n, p] = order.map((peer) => median(series(peer, key)));
  return [label, ...order.map((peer) => cell(series(peer, key), fmt(unit))), ratio(o, n), ratio(o, p)];
};
printTable(
  `@asyncnet/streams benchmarks — median of ${ROUNDS} rounds (range), node ${process.version}`,
  ['workload', 'ours', 'raw node:net', 'Python asyncio', 'ours/raw', 'ours/python'],
  [
    row(`bulk echo, ${CONNS} conns x ${BULK_MIB} MiB`, 'bulk', 'MB/s'),
    row(`lines echo, ${CONNS} conns x ${LINES / 1000}k x 64 B, 256 in flight`, 'lines', 'lines/s'),
    [
      `RSS per idle connection (${IDLE} conns)`,
      fmt('KiB')(idle.ours),
      fmt('KiB')(idle.raw),
      '–',
      ratio(idle.ours, idle.raw),
      '–',
    ],
    [
      'reader that never reads (limit 64 KiB): bytes held',
      `${(stuck.held / 1024).toFixed(0)} KiB of ${(stuck.written / 1024 / 1024).toFixed(1)} MiB sent`,
      '–',
      '–',
      `${(stuck.held / 65536).toFixed(2)} x limit`,
      '–',
    ],
  ],
);
footer(began);
