// @asyncnet/protocol benchmarks. Build first (pnpm --filter @asyncnet/protocol build).
//  1. Bulk echo: the seed's EchoProtocol vs raw node:net socket.pipe(socket), raw node:net write-back
//     in 'data' and Python asyncio Protocol, each server in its own process, one raw node:net load
//     generator, on loopback.
//  2. Codec decode throughput: LinesCodec vs node:readline vs a hand-written split loop, and
//     LengthPrefixedCodec vs a hand-written loop, in this process.
// Peers alternate within each round; every cell is "median (min-max)" over the rounds.
// Env: BENCH_ROUNDS=3, BENCH_ECHO_MIB=128 (per connection), BENCH_CONNS=4, BENCH_CODEC_MIB=32,
// BENCH_CODEC_REPS=5, BENCH_ONLY=echo|codecs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { codecWorkloads } from './codecs.mjs';
import { cpuSeconds, runEcho, startEchoServer } from './echo.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ECHO_BYTES = Number(process.env.BENCH_ECHO_MIB ?? 128) * 1024 * 1024;
const CONNS = Number(process.env.BENCH_CONNS ?? 4);
const CODEC_MIB = Number(process.env.BENCH_CODEC_MIB ?? 32);
const CODEC_REPS = Number(process.env.BENCH_CODEC_REPS ?? 5);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (xs, unit = '') =>
  `${median(xs).toFixed(0)}${unit} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

function table(title, header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const line = (r) => `| ${r.map((v, c) => String(v).padEnd(widths[c])).join(' | ')} |`;
  console.log(`\n${title}\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

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
  const results = Object.fromEntries(names.map((n) => [n, []]));
  const cpu = Object.fromEntries(names.map((n) => [n, []]));
  try {
    // One short warm-up per server (JIT, socket buffers), not counted.
    for (const n of names) await runEcho(servers[n].port, { conns: CONNS, bytes: 8 * 1024 * 1024 });
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of rotate(names, round)) {
        const cpu0 = cpuSeconds(servers[n].pid);
        results[n].push(await runEcho(servers[n].port, { conns: CONNS, bytes: ECHO_BYTES }));
        // Server CPU per GiB echoed: steadier than throughput on a shared machine.
        cpu[n].push(((cpuSeconds(servers[n].pid) - cpu0) * 1e3) / ((CONNS * ECHO_BYTES) / 2 ** 30));
      }
    }
  } finally {
    await Promise.all(names.map((n) => servers[n].stop()));
  }
  const ours = results.ours;
  const peers = names.filter((n) => n !== 'ours');
  table(
    `Bulk echo, ${CONNS} connections x ${ECHO_BYTES / 1024 / 1024} MiB each way, MB/s = 10^6 B/s, ${ROUNDS} rounds`,
    ['workload', 'ours', ...peers, ...peers.map((p) => `ours/${p}`)],
    [
      [
        'EchoProtocol bulk echo, MB/s (higher is better)',
        fmt(ours),
        ...peers.map((p) => fmt(results[p])),
        ...peers.map((p) => `${(median(ours) / median(results[p])).toFixed(2)}x`),
      ],
      [
        'server CPU ms per GiB echoed (lower is better)',
        fmt(cpu.ours),
        ...peers.map((p) => fmt(cpu[p])),
        ...peers.map((p) => `${(median(cpu.ours) / median(cpu[p])).toFixed(2)}x`),
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

function benchCodecs() {
  const rows = [];
  for (const [name, w] of Object.entries(codecWorkloads)) {
    const impls = Object.keys(w.impls);
    const res = Object.fromEntries(impls.map((n) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of rotate(impls, round)) res[n].push(measureCodec(name, n));
    }
    const mbs = (n) => res[n].map((x) => x.mbs);
    const cell = (n) =>
      res[n] ? `${fmt(mbs(n), ' MB/s')}, ${median(res[n].map((x) => x.fps)).toFixed(2)} M frames/s` : 'n/a';
    const ratio = (p) => (res[p] ? `${(median(mbs('ours')) / median(mbs(p))).toFixed(2)}x` : 'n/a');
    rows.push([
      name,
      cell('ours'),
      cell('node:readline'),
      cell('hand-written split'),
      ratio('node:readline'),
      ratio('hand-written split'),
    ]);
  }
  table(
    `Codec decode, ${CODEC_MIB} MiB in 64 KiB chunks x ${CODEC_REPS} passes, one process per measurement, ${ROUNDS} rounds`,
    ['workload', 'ours', 'node:readline', 'hand-written split', 'ours/readline', 'ours/hand-written'],
    rows,
  );
}

const t0 = Date.now();
const only = process.env.BENCH_ONLY;
if (only !== 'codecs') await benchEcho();
if (only !== 'echo') benchCodecs();
console.log(
  `\nnode ${process.version}, ${((Date.now() - t0) / 1000).toFixed(1)} s; loopback, shared 2-core machine: numbers are noisy.`,
);
