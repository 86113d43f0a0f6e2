// Keep-alive GET benchmark: @asyncnet/http-lite vs undici 7 Pool, node:http keep-alive Agent and fetch,
// against a private nginx (one worker) and a node:http server (own process), side by side, alternating.
// Usage: node bench/run.mjs [--rounds 2] [--ms 1500] [--only nginx|node]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { Pool } from 'undici';
import { Agent, request } from '../dist/index.js';
import { startNginx } from './nginx.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};
const ROUNDS = Number(arg('rounds', 2));
const MS = Number(arg('ms', 1500));
const WARM = 300;
const ONLY = arg('only', null);
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

async function measure(make, origin, { path, big, conc, warmOnly = false }) {
  const client = make(origin, conc);
  try {
    const lat = [];
    let count = 0;
    let bytes = 0;
    let recording = false;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const t0 = process.hrtime.bigint();
        const n = await client.get(path, big);
        if (recording) {
          count++;
          bytes += n;
          if (conc === 1) lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
        }
      }
    };
    const workers = Array.from({ length: conc }, worker);
    await new Promise((r) => setTimeout(r, WARM));
    if (warmOnly) {
      stop = true;
      await Promise.all(workers);
      return null;
    }
    recording = true;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, MS));
    recording = false;
    const cpu = process.cpuUsage(cpu0);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    stop = true;
    await Promise.all(workers);
    lat.sort((a, b) => a - b);
    const pct = (p) =>
      lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : Number.NaN;
    return {
      rps: count / secs,
      mbps: bytes / secs / 1e6,
      p50: pct(50),
      p99: pct(99),
      cpu: (cpu.user + cpu.system) / count,
    };
  } finally {
    await client.close();
  }
}

const workloads = [
  { name: 'req/s 12 B c=1', path: '/small.txt', big: false, conc: 1, metric: 'rps' },
  { name: 'req/s 12 B c=32', path: '/small.txt', big: false, conc: 32, metric: 'rps' },
  { name: 'MB/s 1 MiB c=4', path: '/big.bin', big: true, conc: 4, metric: 'mbps' },
];

async function startNodeServer() {
  const child = spawn(process.execPath, [new URL('./server-node.mjs', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(child.stdout, 'data');
  return {
    port: Number(String(line).trim()),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

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
      for (const w of workloads) await measure(clients[n], origin, { ...w, warmOnly: true });
    for (const w of workloads) {
      const runs = Object.fromEntries(names.map((n) => [n, []]));
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate the order each round so no client always runs first.
        const order = r % 2 === 0 ? names : [...names].reverse();
        for (const n of order) runs[n].push(await measure(clients[n], origin, w));
      }
      results.push({ server: serverName, w, runs });
      const med = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
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
const fmt = (v, k) => (k === 'cpu' ? v.toFixed(1) : v.toFixed(0));
const best = (xs, k, lower) =>
  xs.map((x) => x[k]).reduce((a, b) => (lower ? Math.min(a, b) : Math.max(a, b)));
const range = (xs, k) => {
  const v = xs.map((x) => x[k]);
  return `${fmt(Math.min(...v), k)}-${fmt(Math.max(...v), k)}`;
};
const peers = names.slice(1);
const header = `| server | workload | http-lite | ${peers.map((p) => `${p} | ratio vs ${p}`).join(' | ')} |`;
console.log(`\n${header}\n|${' --- |'.repeat(3 + peers.length * 2)}`);
for (const { server, w, runs } of results) {
  const rows = [[w.name, w.metric, false]];
  if (w.conc === 1) rows.push(['p50 latency us c=1', 'p50', true], ['p99 latency us c=1', 'p99', true]);
  if (w.conc === 32) rows.push(['client CPU us/req c=32', 'cpu', true]);
  for (const [label, k, lower] of rows) {
    const ours = best(runs['http-lite'], k, lower);
    const cells = peers.map((p) => {
      const theirs = best(runs[p], k, lower);
      const ratio = lower ? theirs / ours : ours / theirs;
      return `${range(runs[p], k)} | ${ratio.toFixed(2)}x`;
    });
    console.log(`| ${server} | ${label} | ${range(runs['http-lite'], k)} | ${cells.join(' | ')} |`);
  }
}
console.log(
  `\nrounds=${ROUNDS}, ${MS} ms each after ${WARM} ms warm-up; cells are min-max over rounds; ratios compare best rounds (latency ratio = peer/ours, >1 means we are faster).`,
);
