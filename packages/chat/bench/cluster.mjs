// Cross-node fan-out: one sender, members spread over 1, 2 or 4 nodes, deliveries/s at the
// members, on the Redis Streams bus and on a plain pub/sub peer bus (bench/pubsub_bus.mjs). Starts its own redis-server on a free port; bounded by deadlines.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cell, median, printTable, ratio, runRounds } from '@asyncnet-internal/bench-harness';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync) ?? null;

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function until(fn, ms) {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function member(port, nick) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const m = { s, nick, got: 0, joined: false, buf: '' };
    s.setEncoding('utf8');
    s.on('error', reject);
    s.on('data', (d) => {
      m.buf += d;
      let nl = m.buf.indexOf('\n');
      while (nl !== -1) {
        const line = m.buf.slice(0, nl);
        m.buf = m.buf.slice(nl + 1);
        if (line.startsWith('* what is your nick')) s.write(`${nick}\r\n`);
        else if (line.startsWith('* you joined')) {
          m.joined = true;
          resolve(m);
        } else if (line.startsWith('<sender>')) m.got++;
        nl = m.buf.indexOf('\n');
      }
    });
  });
}

/** Runs one setup; returns deliveries/s and the delivered ratio. */
async function run(url, kind, nodes, members, lines, deadlineMs) {
  const prefix = `bench:${Date.now()}:${kind}:${nodes}`;
  const procs = [];
  const ports = [];
  for (let k = 0; k < nodes; k++) {
    const p = spawn(process.execPath, [here('./cluster_node.mjs'), url, prefix, kind], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    procs.push(p);
    ports.push(
      await new Promise((r) => createInterface({ input: p.stdout }).once('line', (l) => r(Number(l)))),
    );
  }
  try {
    const ms = [];
    for (let k = 0; k < members; k++) ms.push(await member(ports[k % nodes], `m${k}`));
    const sender = await member(ports[0], 'sender');
    const t0 = performance.now();
    for (let k = 0; k < lines; k++) sender.s.write(`line ${k}\r\n`);
    const want = members * lines;
    const total = () => ms.reduce((n, m) => n + m.got, 0);
    await until(async () => total() >= want, deadlineMs);
    const secs = (performance.now() - t0) / 1000;
    for (const m of [...ms, sender]) m.s.destroy();
    return { rate: total() / secs, ratio: total() / want };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

/** Prints the cluster rows; skipped (with a line saying so) when redis-server is missing. */
export async function runCluster({ quick = false } = {}) {
  if (REDIS === null) {
    console.log('\ncluster fan-out: skipped (redis-server not installed)');
    return;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'asyncnet-bench-redis-'));
  const redis = spawn(
    REDIS,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  await until(
    () =>
      new Promise((r) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          r(true);
        });
        s.on('error', () => r(false));
      }),
    10_000,
  );
  const url = `redis://127.0.0.1:${port}`;
  const members = quick ? 20 : 100;
  const lines = quick ? 200 : 2_000;
  const deadline = quick ? 20_000 : 60_000;
  const setups = ['streams 1', 'streams 2', 'streams 4', 'pubsub 2', 'pubsub 4'];
  let results;
  try {
    results = await runRounds(quick ? 1 : 3, setups, (setup) => {
      const [kind, nodes] = setup.split(' ');
      return run(url, kind, Number(nodes), members, lines, deadline);
    });
  } finally {
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const rate = (setup) => median(results[setup].map((r) => r.rate));
  const fmt = (x) => `${(x / 1e3).toFixed(1)}k/s`;
  const rows = setups.map((setup) => {
    const [kind, nodes] = setup.split(' ');
    const delivered = Math.min(...results[setup].map((r) => r.ratio));
    return [
      `${nodes} node${nodes === '1' ? '' : 's'}, ${kind === 'streams' ? 'Redis Streams bus' : 'pub/sub peer bus'}`,
      cell(
        results[setup].map((r) => r.rate),
        fmt,
      ),
      `${(delivered * 100).toFixed(1)}%`,
      ratio(rate(setup), rate('streams 1')),
      kind === 'streams' && nodes !== '1' ? ratio(rate(setup), rate(`pubsub ${nodes}`)) : '',
    ];
  });
  printTable(
    `@asyncnet/chat cross-node fan-out, 1 sender x ${lines} lines to ${members} members spread over the nodes (median of ${results['streams 1'].length} rounds, range)`,
    ['setup', 'deliveries/s', 'delivered (worst round)', 'vs 1 node', 'streams / pub/sub'],
    rows,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  await runCluster({ quick: process.argv.includes('--quick') });
