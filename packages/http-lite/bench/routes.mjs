// Unix socket and forward-proxy GET benchmark: @asyncnet/http-lite (Agent socketPath / proxy) vs undici 7
// (Pool with socketPath / ProxyAgent without tunnelling), against node:http servers in their own processes.
// Usage: node bench/routes.mjs [--rounds 2] [--ms 1500]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { Pool, ProxyAgent, request as undiciRequest } from 'undici';
import { Agent, request } from '../dist/index.js';

const ROUNDS = option('rounds', 2);
const MS = option('ms', 1500);
const WARM = 300;

function spawnServer(script, args = []) {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return once(child.stdout, 'data').then(([line]) => ({
    value: String(line).trim(),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  }));
}

async function measure(make, conc, warmOnly = false) {
  const client = make(conc);
  try {
    let count = 0;
    let recording = false;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        await client.get();
        if (recording) count++;
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
    return { rps: count / secs, cpu: (cpu.user + cpu.system) / count };
  } finally {
    await client.close();
  }
}

const began = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'http-lite-bench-'));
const sock = join(dir, 'node.sock');
const unixServer = await spawnServer('./server-node.mjs', [sock]);
const tcpServer = await spawnServer('./server-node.mjs');
const proxy = await spawnServer('./proxy-node.mjs');
const target = `http://127.0.0.1:${tcpServer.value}/small.txt`;
const proxyUrl = `http://127.0.0.1:${proxy.value}`;

const routes = {
  'unix socket': {
    'http-lite': (c) => {
      const agent = new Agent({ socketPath: sock, connections: c, keepAliveTimeout: 60_000 });
      return {
        get: async () => (await request('http://localhost/small.txt', { agent })).body.bytes(),
        close: () => agent.close(),
      };
    },
    undici: (c) => {
      const pool = new Pool('http://localhost', {
        socketPath: sock,
        connections: c,
        keepAliveTimeout: 60_000,
      });
      return {
        get: async () => (await pool.request({ path: '/small.txt', method: 'GET' })).body.bytes(),
        close: () => pool.close(),
      };
    },
  },
  'http proxy': {
    'http-lite': (c) => {
      const agent = new Agent({ proxy: proxyUrl, connections: c, keepAliveTimeout: 60_000 });
      return { get: async () => (await request(target, { agent })).body.bytes(), close: () => agent.close() };
    },
    undici: (c) => {
      const dispatcher = new ProxyAgent({ uri: proxyUrl, proxyTunnel: false, connections: c });
      return {
        get: async () => (await undiciRequest(target, { dispatcher })).body.bytes(),
        close: () => dispatcher.close(),
      };
    },
  },
};

const rows = [];
try {
  for (const [route, clients] of Object.entries(routes)) {
    const names = Object.keys(clients);
    for (const conc of [1, 8]) {
      for (const n of names) await measure(clients[n], conc, true);
      const runs = await runRounds(ROUNDS, names, (n) => measure(clients[n], conc));
      console.error(
        `[${route}] c=${conc}: ${names.map((n) => `${n}=${median(runs[n].map((x) => x.rps)).toFixed(0)}`).join(' ')}`,
      );
      const of = (n, k) => runs[n].map((x) => x[k]);
      rows.push([
        route,
        `req/s 12 B c=${conc}`,
        range(of('http-lite', 'rps'), (v) => v.toFixed(0)),
        range(of('undici', 'rps'), (v) => v.toFixed(0)),
        ratio(best(of('http-lite', 'rps')), best(of('undici', 'rps'))),
      ]);
      rows.push([
        route,
        `client CPU us/req c=${conc}`,
        range(of('http-lite', 'cpu'), (v) => v.toFixed(1)),
        range(of('undici', 'cpu'), (v) => v.toFixed(1)),
        ratio(best(of('undici', 'cpu'), true), best(of('http-lite', 'cpu'), true)),
      ]);
    }
  }
} finally {
  await Promise.all([unixServer.stop(), tcpServer.stop(), proxy.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
printTable(
  `@asyncnet/http-lite routes, ${ROUNDS} rounds of ${MS} ms after ${WARM} ms warm-up`,
  ['route', 'workload', 'http-lite', 'undici', 'ratio'],
  rows,
);
footer(
  began,
  'undici peers: Pool with socketPath, ProxyAgent with proxyTunnel: false. Ratio >1 means http-lite is ahead (CPU: peer/ours).',
);
