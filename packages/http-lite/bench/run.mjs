// Keep-alive GET benchmark: @asyncnet/http-lite vs undici 7 Pool, node:http keep-alive Agent and fetch,
// against a private nginx (one worker) and a node:http server (own process), side by side, alternating.
// Usage: node bench/run.mjs [--rounds 2] [--ms 1500] [--only nginx|node]  (or BENCH_ROUNDS, …)
import http from 'node:http';
import {
  best,
  footer,
  median,
  option,
  printTable,
  range,
  ratio,
  runRounds,
} from '@asyncnet-internal/bench-harness';
import { Pool } from 'undici';
import { Agent, request } from '../dist/index.js';
import { measure, spawnServer } from './load.mjs';
import { startNginx } from './nginx.mjs';

const ROUNDS = option('rounds', 2);
const MS = option('ms', 1500);
const WARM = 300;
const ONLY = option('only', null);
const BIG = 1024 * 1024;

// --- clients: make(origin, connections) -> { get(path, big) : Promise<bytes>, close() } ---
const clients = {
  'http-lite': (origin, c) => {
    const agent = new Agent({ connections: c, keepAliveTimeout: 60_000 });
    return {
      async get(path, big) {
        const res = await request(origin + path, { agent });
        if (!big) return (await res.body.bytes()).length;
        let n = 0;
        for await (const chunk of res.body) n += chunk.length;
        return n;
      },
      close: () => agent.close(),
    };
  },
  'undici Pool': (origin, c) => {
    const pool = new Pool(origin, { connections: c, pipelining: 1, keepAliveTimeout: 60_000 });
    return {
      async get(path, big) {
        const { body } = await pool.request({ path, method: 'GET' });
        if (!big) return (await body.bytes()).length;
        let n = 0;
        for await (const chunk of body) n += chunk.length;
        return n;
      },
      close: () => pool.close(),
    };
  },
  'node:http': (origin, c) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: c });
    const u = new URL(origin);
    return {
      get(path) {
        return new Promise((resolve, reject) => {
          http
            .get({ agent, host: u.hostname, port: u.port, path }, (res) => {
              let n = 0;
              res.on('data', (d) => (n += d.length));
              res.on('end', () => resolve(n));
              res.on('error', reject);
            })
            .on('error', reject);
        });
      },
      close: () => agent.destroy(),
    };
  },
  fetch: (origin) => ({
    async get(path, big) {
      const res = await fetch(origin + path);
      if (!big) return (await res.arrayBuffer()).byteLength;
      let n = 0;
      for await (const chunk of res.body) n += chunk.length;
      return n;
    },
    close: () => {},
  }),
};

/** A fresh client `n` for workload `w`, its get() bound to the workload's path. */
function client(n, origin, w) {
  const c = clients[n](origin, w.conc);
  return { get: () => c.get(w.path, w.big), close: c.close };
}

const workloads = [
  { name: 'req/s 12 B c=1', path: '/small.txt', big: false, conc: 1, metric: 'rps' },
  { name: 'req/s 12 B c=32', path: '/small.txt', big: false, conc: 32, metric: 'rps' },
  { name: 'MB/s 1 MiB c=4', path: '/big.bin', big: true, conc: 4, metric: 'mbps' },
];

async function startNodeServer() {
  const server = await spawnServer('./server-node.mjs');
  return { port: Number(server.value), stop: server.stop };
}

const began = Date.now();
const names = Object.keys(clients);
const results = [];
const servers = [];
if (ONLY !== 'node')
  servers.push([
    'nginx',
    () => startNginx({ 'small.txt': 'hello world\n', 'big.bin': Buffer.alloc(BIG, 'x') }),
  ]);
if (ONLY !== 'nginx') servers.push(['node:http', startNodeServer]);

for (const [serverName, start] of servers) {
  const server = await start();
  if (server === null) {
    console.log(`(skipped ${serverName}: binary not found)`);
    continue;
  }
  const origin = `http://127.0.0.1:${server.port}`;
  try {
    // Warm the server and every client's JIT before anything is recorded.
    for (const n of names)
      for (const w of workloads)
        await measure(client(n, origin, w), w.conc, { warm: WARM, ms: MS, warmOnly: true });
    for (const w of workloads) {
      // Clients alternate each round so none always runs first.
      const runs = await runRounds(ROUNDS, names, (n) =>
        measure(client(n, origin, w), w.conc, { warm: WARM, ms: MS }),
      );
      results.push({ server: serverName, w, runs });
      const med = (xs, k) => median(xs.map((x) => x[k]));
      const line = names
        .map((n) => `${n}=${med(runs[n], w.metric).toFixed(w.metric === 'rps' ? 0 : 1)}`)
        .join(' ');
      console.error(`[${serverName}] ${w.name}: ${line}`);
      if (w.conc === 1) {
        const lat = names
          .map((n) => `${n}=${med(runs[n], 'p50').toFixed(0)}/${med(runs[n], 'p99').toFixed(0)}us`)
          .join(' ');
        console.error(`[${serverName}] latency p50/p99 c=1: ${lat}`);
      }
    }
  } finally {
    await server.stop();
  }
}

// --- table: best round per client (rounds are noisy on a shared machine), plus the range ---
const fmt = (k) => (v) => (k === 'cpu' ? v.toFixed(1) : v.toFixed(0));
const peers = names.slice(1);
const rows = [];
for (const { server, w, runs } of results) {
  const metrics = [[w.name, w.metric, false]];
  if (w.conc === 1) metrics.push(['p50 latency us c=1', 'p50', true], ['p99 latency us c=1', 'p99', true]);
  if (w.conc === 32) metrics.push(['client CPU us/req c=32', 'cpu', true]);
  for (const [label, k, lower] of metrics) {
    const of = (n) => runs[n].map((x) => x[k]);
    const ours = best(of('http-lite'), lower);
    const cells = peers.flatMap((p) => {
      const theirs = best(of(p), lower);
      return [range(of(p), fmt(k)), lower ? ratio(theirs, ours) : ratio(ours, theirs)];
    });
    rows.push([server, label, range(of('http-lite'), fmt(k)), ...cells]);
  }
}
printTable(
  `@asyncnet/http-lite keep-alive GET, ${ROUNDS} rounds of ${MS} ms after ${WARM} ms warm-up`,
  ['server', 'workload', 'http-lite', ...peers.flatMap((p) => [p, `ratio vs ${p}`])],
  rows,
);
footer(
  began,
  'Cells are min-max over rounds; ratios compare best rounds (latency ratio = peer/ours, >1 means we are faster).',
);
