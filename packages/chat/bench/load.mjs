// Load generator: N raw node:net clients join the room, some send as fast as the server takes
// them, everyone else counts what arrives. A few "probe" members parse every line for latency.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { drained, runWorkload, startStuckClient } from './workload.mjs';

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

async function sendAll(m, idx, lines, pad) {
  const s = m.socket;
  let seq = 0;
  const padding = pad > 0 ? `${'x'.repeat(pad)} ` : '';
  while (seq < lines && !m.closed) {
    let batch = '';
    const t = performance.now().toFixed(3);
    for (let k = 0; k < 20 && seq < lines; k++, seq++) batch += `s${idx} ${seq} ${padding}${t}\r\n`;
    if (!s.write(batch)) await drained(s);
  }
}

const tcpClient = {
  wave: 100,
  openMember,
  startStuck: (port) => startStuckClient('./stuck_client.py', [String(port)], 'stuck client'),
  sendAll,
};

/**
 * Runs one workload against a server on `port` (see runWorkload in workload.mjs).
 * @returns { deliveries, expected, ratio, seconds, rate, p50, p99, outcome }
 */
export function runLoad(options) {
  return runWorkload(tcpClient, options);
}
