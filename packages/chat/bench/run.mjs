// Chat fan-out benchmark: @asyncnet/chat vs the seed's naive Python asyncio server, alternating,
// on loopback. Needs `pnpm --filter @asyncnet/chat build` first. Bounded: every run has a deadline
// and stops early when deliveries stall.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { alternate, flag, footer, option, printTable, range } from '@asyncnet-internal/bench-harness';
import { runLoad } from './load.mjs';
import { runWsLoad } from './ws-load.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
if (!existsSync(here('../dist/index.js'))) {
  console.error('build first: npx -y pnpm@10.33.4 --filter @asyncnet/chat build');
  process.exit(1);
}
// --quick (BENCH_QUICK=1) shortens the deadlines; --rounds N (BENCH_ROUNDS, or ROUNDS as before).
const quick = flag('quick');
const rounds = option('rounds', Number(process.env.ROUNDS ?? 1));

const servers = {
  ours: () => spawn(process.execPath, [here('./our_server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] }),
  'python naive': () => spawn('python3', [here('./naive_chat.py')], { stdio: ['ignore', 'pipe', 'inherit'] }),
  // The same server with members on its web front end (IRC over WebSocket); no peer has one.
  'ours (WebSocket)': () =>
    spawn(process.execPath, [here('./our_server.mjs'), '--web'], { stdio: ['ignore', 'pipe', 'inherit'] }),
};

async function withServer(name, fn) {
  const proc = servers[name]();
  const port = await new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', (l) => resolve(Number(l)));
    proc.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
  try {
    return await fn(port);
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
}

// Stuck runs pad lines to ~300 bytes so the 20,000 lines (6 MB) overflow the kernel buffers in
// front of the member that never reads; short lines would all fit there and hide the stall.
// The naive server gets a shorter deadline: its rate is measured from partial progress.
const deadlines = {
  ours: quick ? 20_000 : 40_000,
  'python naive': quick ? 8_000 : 12_000,
  'ours (WebSocket)': quick ? 20_000 : 40_000,
};
// --only <name> (BENCH_ONLY) runs one workload.
const only = option('only', '');
const workloads = [
  { name: 'N=100', members: 100, stuck: false },
  { name: 'N=100 + 1 stuck', members: 100, stuck: true, pad: 280 },
  { name: 'N=1000', members: 1000, stuck: false },
  { name: 'N=1000 + 1 stuck', members: 1000, stuck: true, pad: 280 },
  // Browser-style members: every delivery is one WebSocket message; `tcp` names the TCP row to compare.
  { name: 'N=100 WebSocket', members: 100, stuck: false, ws: true, tcp: 'N=100' },
  { name: 'N=200 + 1 stuck WS', members: 200, stuck: true, pad: 280, ws: true },
].filter((w) => only === '' || w.name === only);
if (workloads.length === 0) throw new Error(`no chat workload named '${only}'`);

const fmtRate = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M/s` : `${(r / 1e3).toFixed(0)}k/s`);
const fmtMs = (x) => (Number.isNaN(x) ? '-' : `${x.toFixed(0)} ms`);
const results = [];
const began = Date.now();
for (let round = 1; round <= rounds; round++) {
  for (const w of workloads) {
    // Alternate which server goes first each round.
    for (const name of w.ws ? ['ours (WebSocket)'] : alternate(['ours', 'python naive'], round - 1)) {
      const run = w.ws ? runWsLoad : runLoad;
      const r = await withServer(name, (port) => run({ port, ...w, deadlineMs: deadlines[name] }));
      results.push({ round, workload: w.name, server: name, ...r });
      console.error(
        `round ${round} ${w.name.padEnd(17)} ${name.padEnd(12)} ${fmtRate(r.rate).padStart(9)} delivered ${(r.ratio * 100).toFixed(1)}% (${r.outcome}) p50 ${fmtMs(r.p50)} p99 ${fmtMs(r.p99)}`,
      );
    }
  }
}

/** The measured columns of one row: rate, share delivered (with any outcome but complete), p50, p99. */
function cells(rs) {
  const outcomes = rs.some((r) => r.outcome !== 'complete')
    ? ` (${[...new Set(rs.map((r) => r.outcome))].join('/')})`
    : '';
  return [
    range(
      rs.map((r) => r.rate),
      fmtRate,
    ),
    `${range(
      rs.map((r) => r.ratio * 100),
      (x) => `${x.toFixed(1)}%`,
    )}${outcomes}`,
    range(
      rs.map((r) => r.p50),
      fmtMs,
    ),
    range(
      rs.map((r) => r.p99),
      fmtMs,
    ),
  ];
}

const rows = [];
for (const w of workloads) {
  if (w.ws) {
    const rs = results.filter((r) => r.workload === w.name);
    const tcp = results.filter((r) => r.workload === w.tcp && r.server === 'ours');
    rows.push([
      w.name,
      'ours (WebSocket)',
      ...cells(rs),
      // No peer serves WebSocket: the ratio is to our own TCP row of the same size, when it ran.
      tcp.length === 0
        ? ''
        : `${range(
            rs.map((r, k) => r.rate / (tcp[k]?.rate ?? Number.NaN)),
            (x) => `${x.toFixed(2)}x`,
          )} of TCP ${w.tcp}`,
    ]);
    continue;
  }
  const ours = results.filter((r) => r.workload === w.name && r.server === 'ours');
  const peer = results.filter((r) => r.workload === w.name && r.server === 'python naive');
  for (const [name, rs] of [
    ['ours', ours],
    ['python naive', peer],
  ]) {
    rows.push([
      w.name,
      name,
      ...cells(rs),
      // Per round, ours over the peer's run of the same round.
      name === 'ours'
        ? range(
            ours.map((o, k) => o.rate / (peer[k]?.rate ?? Number.NaN)),
            (x) => `${x.toFixed(1)}x`,
          )
        : '',
    ]);
  }
}
printTable(
  `@asyncnet/chat fan-out, 10 senders x 2,000 lines, flood control off, ${rounds} round(s)`,
  ['workload', 'server', 'deliveries/s', 'delivered', 'p50', 'p99', 'ratio ours/peer (deliveries/s)'],
  rows,
);
// Cross-node rows (Redis Streams bus, 2 nodes vs 1); --no-cluster skips them.
if (!flag('no-cluster') && only === '') await (await import('./cluster.mjs')).runCluster({ quick });
footer(began);
