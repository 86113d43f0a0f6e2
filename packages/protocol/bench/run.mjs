// @asyncnet/protocol benchmarks. Build first (pnpm --filter @asyncnet/protocol build).
//  1. Bulk echo: the seed's EchoProtocol vs raw node:net socket.pipe(socket), raw node:net write-back
//     in 'data' and Python asyncio Protocol, each server in its own process, one raw node:net load
//     generator, on loopback.
//  2. Codec decode throughput: LinesCodec vs node:readline vs a hand-written split loop, and
//     LengthPrefixedCodec vs a hand-written loop, in this process.
// Peers alternate within each round; every cell is "median (min-max)" over the rounds.
// Options (--name value or BENCH_NAME): rounds=3, echo-mib=128 (per connection), conns=4,
// codec-mib=32, codec-reps=5, only=echo|codecs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cell, footer, median, option, printTable, ratio, runRounds } from '@asyncnet-internal/bench-harness';
import { codecWorkloads } from './codecs.mjs';
import { cpuSeconds, runEcho, startEchoServer } from './echo.mjs';

const ROUNDS = option('rounds', 3);
const ECHO_BYTES = option('echo-mib', 128) * 1024 * 1024;
const CONNS = option('conns', 4);
const CODEC_MIB = option('codec-mib', 32);
const CODEC_REPS = option('codec-reps', 5);

const fmt = (xs, unit = '') => cell(xs, (v) => `${v.toFixed(0)}${unit}`);

function hasPython() {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function benchEcho() {
  const names = ['ours', 'node pipe', 'node write-back', ...(hasPython() ? ['python asyncio'] : [])];
  const servers = {};
  for (const n of names) servers[n] = await startEchoServer(n);
  let runs;
  try {
    // One short warm-up per server (JIT, socket buffers), not counted.
    for (const n of names) await runEcho(servers[n].port, { conns: CONNS, bytes: 8 * 1024 * 1024 });
    runs = await runRounds(ROUNDS, names, async (n) => {
      const cpu0 = cpuSeconds(servers[n].pid);
      const mbs = await runEcho(servers[n].port, { conns: CONNS, bytes: ECHO_BYTES });
      // Server CPU per GiB echoed: steadier than throughput on a shared machine.
      return { mbs, cpu: ((cpuSeconds(servers[n].pid) - cpu0) * 1e3) / ((CONNS * ECHO_BYTES) / 2 ** 30) };
    });
  } finally {
    await Promise.all(names.map((n) => servers[n].stop()));
  }
  const results = Object.fromEntries(names.map((n) => [n, runs[n].map((r) => r.mbs)]));
  const cpu = Object.fromEntries(names.map((n) => [n, runs[n].map((r) => r.cpu)]));
  const ours = results.ours;
  const peers = names.filter((n) => n !== 'ours');
  printTable(
    `Bulk echo, ${CONNS} connections x ${ECHO_BYTES / 1024 / 1024} MiB each way, MB/s = 10^6 B/s, ${ROUNDS} rounds`,
    ['workload', 'ours', ...peers, ...peers.map((p) => `ours/${p}`)],
    [
      [
        'EchoProtocol bulk echo, MB/s (higher is better)',
        fmt(ours),
        ...peers.map((p) => fmt(results[p])),
        ...peers.map((p) => ratio(median(ours), median(results[p]))),
      ],
      [
        'server CPU ms per GiB echoed (lower is better)',
        fmt(cpu.ours),
        ...peers.map((p) => fmt(cpu[p])),
        ...peers.map((p) => ratio(median(cpu.ours), median(cpu[p]))),
      ],
    ],
  );
}

function measureCodec(workload, impl) {
  const script = fileURLToPath(new URL('./codecs.mjs', import.meta.url));
  const args = [script, workload, impl, String(CODEC_MIB), String(CODEC_REPS)];
  for (let attempt = 1; ; attempt++) {
    try {
      const out = execFileSync(process.execPath, args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return JSON.parse(out);
    } catch (err) {
      // In a shared checkout a sibling's rebuild can briefly remove its dist: wait and retry.
      if (attempt >= 5 || !String(err.stderr).includes('ERR_MODULE_NOT_FOUND')) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
    }
  }
}

async function benchCodecs() {
  const rows = [];
  for (const [name, w] of Object.entries(codecWorkloads)) {
    const res = await runRounds(ROUNDS, Object.keys(w.impls), async (n) => measureCodec(name, n));
    const mbs = (n) => res[n].map((x) => x.mbs);
    const cell = (n) =>
      res[n] ? `${fmt(mbs(n), ' MB/s')}, ${median(res[n].map((x) => x.fps)).toFixed(2)} M frames/s` : 'n/a';
    const vs = (p) => (res[p] ? ratio(median(mbs('ours')), median(mbs(p))) : 'n/a');
    rows.push([
      name,
      cell('ours'),
      cell('node:readline'),
      cell('hand-written split'),
      vs('node:readline'),
      vs('hand-written split'),
    ]);
  }
  printTable(
    `Codec decode, ${CODEC_MIB} MiB in 64 KiB chunks x ${CODEC_REPS} passes, one process per measurement, ${ROUNDS} rounds`,
    ['workload', 'ours', 'node:readline', 'hand-written split', 'ours/readline', 'ours/hand-written'],
    rows,
  );
}

const t0 = Date.now();
const only = option('only', '');
if (only !== 'codecs') await benchEcho();
if (only !== 'echo') await benchCodecs();
footer(t0);
