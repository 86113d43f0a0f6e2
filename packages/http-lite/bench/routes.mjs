// Unix socket and forward-proxy GET benchmark: @asyncnet/http-lite (Agent socketPath / proxy) vs undici 7
// (Pool with socketPath / ProxyAgent without tunnelling), against node:http servers in their own processes;
// the proxy rows once over plain TCP to the proxy and once over TLS to it (an https:// proxy).
// Usage: node bench/routes.mjs [--rounds 2] [--ms 1500]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { measure, spawnServer } from './load.mjs';

const ROUNDS = option('rounds', 2);
const MS = option('ms', 1500);
const WARM = 300;

const began = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'http-lite-bench-'));
const sock = join(dir, 'node.sock');
const unixServer = await spawnServer('./server-node.mjs', [sock]);
const tcpServer = await spawnServer('./server-node.mjs');
const proxy = await spawnServer('./proxy-node.mjs');
// A throwaway certificate for the https:// proxy (localhost), made by openssl for this run.
const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
  ].concat([
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost',
  ]),
  { stdio: 'ignore' },
);
const ca = readFileSync(certFile, 'utf8');
const tlsProxy = await spawnServer('./proxy-node.mjs', ['--tls', keyFile, certFile]);
const target = `http://127.0.0.1:${tcpServer.value}/small.txt`;
const proxyUrl = `http://127.0.0.1:${proxy.value}`;
const tlsProxyUrl = `https://localhost:${tlsProxy.value}`;

const routes = {
  'unix socket': {
    'http-lite': (c) => {
      const agent = new Agent({ socketPath: sock, connections: c, keepAliveTimeout: 60_000 });
      return {
        get: async () => (await (await request('http://localhost/small.txt', { agent })).body.bytes()).length,
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
        get: async () =>
          (await (await pool.request({ path: '/small.txt', method: 'GET' })).body.bytes()).length,
        close: () => pool.close(),
      };
    },
  },
  'http proxy': {
    'http-lite': (c) => {
      const agent = new Agent({ proxy: proxyUrl, connections: c, keepAliveTimeout: 60_000 });
      return {
        get: async () => (await (await request(target, { agent })).body.bytes()).length,
        close: () => agent.close(),
      };
    },
    undici: (c) => {
      const dispatcher = new ProxyAgent({ uri: proxyUrl, proxyTunnel: false, connections: c });
      return {
        get: async () => (await (await undiciRequest(target, { dispatcher })).body.bytes()).length,
        close: () => dispatcher.close(),
      };
    },
  },
  'https proxy': {
    'http-lite': (c) => {
      const agent = new Agent({
        proxy: tlsProxyUrl,
        proxyTls: { ca },
        connections: c,
        keepAliveTimeout: 60_000,
      });
      return {
        get: async () => (await (await request(target, { agent })).body.bytes()).length,
        close: () => agent.close(),
      };
    },
    undici: (c) => {
      const dispatcher = new ProxyAgent({
        uri: tlsProxyUrl,
        proxyTls: { ca },
        proxyTunnel: false,
        connections: c,
      });
      return {
        get: async () => (await (await undiciRequest(target, { dispatcher })).body.bytes()).length,
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
      for (const n of names) await measure(clients[n](conc), conc, { warm: WARM, ms: MS, warmOnly: true });
      const runs = await runRounds(ROUNDS, names, (n) =>
        measure(clients[n](conc), conc, { warm: WARM, ms: MS }),
      );
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
  await Promise.all([unixServer.stop(), tcpServer.stop(), proxy.stop(), tlsProxy.stop()]);
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
