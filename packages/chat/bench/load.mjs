// Load generator: N raw node:net clients join the room, some send as fast as the server takes
// them, everyone else counts what arrives. A few "probe" members parse every line for latency.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile } from '@asyncnet-internal/bench-harness';

const LT = 0x3c; // '<'
const LF = 0x0a;

function openMember(port, nick, probe) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const m = { socket, nick, count: 0, atLineStart: true, probe, carry: '', latencies: probe ? [] : null };
    let pre = '';
    let sentNick = false;
    const onData = (chunk) => {
      if (!m.registered) {
        pre += chunk.toString('latin1');
        if (!sentNick && pre.includes('what is your nick')) {
          sentNick = true;
          socket.write(`${nick}\r\n`);
        }
        const j = pre.indexOf('* you joined');
        if (j === -1) return;
        const end = pre.indexOf('\n', j);
        if (end === -1) return;
        m.registered = true;
        resolve(m);
        const rest = Buffer.from(pre.slice(end + 1), 'latin1');
        if (rest.length > 0) count(m, rest);
        return;
      }
      count(m, chunk);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.on('close', () => {
      m.closed = true;
    });
  });
}

function count(m, chunk) {
  if (m.probe) {
    const now = performance.now();
    const text = m.carry + chunk.toString('latin1');
    let pos = 0;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl === -1) break;
      if (text.charCodeAt(pos) === LT) {
        m.count++;
        const sp = text.lastIndexOf(' ', nl);
        const t = Number.parseFloat(text.slice(sp + 1, nl));
        if (!Number.isNaN(t)) m.latencies.push(now - t);
      }
      pos = nl + 1;
    }
    m.carry = text.slice(pos);
    return;
  }
  let pos = 0;
  const len = chunk.length;
  while (pos < len) {
    if (m.atLineStart && chunk[pos] === LT) m.count++;
    const nl = chunk.indexOf(LF, pos);
    if (nl === -1) {
      m.atLineStart = false;
      return;
    }
    pos = nl + 1;
    m.atLineStart = true;
  }
}

/** Starts the never-reading member (Python, 4 KiB receive buffer); resolves once it is in the room. */
function startStuck(port) {
  const proc = spawn(
    'python3',
    [fileURLToPath(new URL('./stuck_client.py', import.meta.url)), String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', () => resolve(proc));
    proc.once('exit', (code) => reject(new Error(`stuck client exited with ${code}`)));
  });
}

async function sendAll(m, idx, lines, pad) {
  const s = m.socket;
  let seq = 0;
  const padding = pad > 0 ? `${'x'.repeat(pad)} ` : '';
  while (seq < lines && !m.closed) {
    let batch = '';
    const t = performance.now().toFixed(3);
    for (let k = 0; k < 20 && seq < lines; k++, seq++) batch += `s${idx} ${seq} ${padding}${t}\r\n`;
    if (!s.write(batch)) {
      await new Promise((r) => {
        s.once('drain', r);
        s.once('close', r);
      });
    }
  }
}

/**
 * Runs one workload against a server on `port`.
 * @returns { deliveries, expected, ratio, seconds, rate, p50, p99, outcome }
 */
export async function runLoad({
  port,
  members,
  senders = 10,
  lines = 2000,
  pad = 0,
  stuck = false,
  deadlineMs = 30_000,
  stallMs = 3_000,
}) {
  const all = [];
  const probes = 10;
  for (let k = 0; k < members; k += 100) {
    const wave = [];
    for (let j = k; j < Math.min(members, k + 100); j++)
      wave.push(openMember(port, `u${j}`, j >= senders && j < senders + probes));
    all.push(...(await Promise.all(wave)));
  }
  const stuckProc = stuck ? await startStuck(port) : null;
  // Let join notices settle before measuring.
  await new Promise((r) => setTimeout(r, 300 + members));
  for (const m of all) {
    m.count = 0;
    if (m.latencies) m.latencies.length = 0;
  }
  const expected = senders * lines * (members - 1);
  const total = () => {
    let n = 0;
    for (const m of all) n += m.count;
    return n;
  };
  const start = performance.now();
  let last = 0;
  let lastChange = start;
  let lastAt = start;
  const sending = all.slice(0, senders).map((m, i) => sendAll(m, i, lines, pad));
  let outcome = 'complete';
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const n = total();
    const now = performance.now();
    if (n !== last) {
      last = n;
      lastChange = now;
      lastAt = now;
    }
    if (n >= expected) break;
    if (now - lastChange > stallMs) {
      outcome = 'stalled';
      break;
    }
    if (now - start > deadlineMs) {
      outcome = 'deadline';
      break;
    }
  }
  const deliveries = total();
  const seconds = (lastAt - start) / 1000;
  const lat = [];
  for (const m of all) if (m.latencies) for (const x of m.latencies) lat.push(x);
  lat.sort((a, b) => a - b);
  for (const m of all) m.socket.destroy();
  stuckProc?.kill('SIGKILL');
  await Promise.race([Promise.all(sending), new Promise((r) => setTimeout(r, 1000))]);
  return {
    deliveries,
    expected,
    ratio: deliveries / expected,
    seconds,
    rate: deliveries / seconds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    outcome,
  };
}
