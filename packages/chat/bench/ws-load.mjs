// WebSocket load generator: the TCP workload of load.mjs (N members in #lobby, 10 senders as fast
// as the server takes them, everyone else counts) with every member a browser-style IRC-over-
// WebSocket client (text.ircv3.net, one line per message). A few probes parse latency.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { drained, runWorkload, startStuckClient } from './workload.mjs';

// Members speak RFC 6455 by hand over node:net, so the generator costs what load.mjs's TCP
// members cost (scan frame headers, no per-message objects) and the table measures the server.

/** One client-to-server text frame (masked, as clients must; a zero key keeps it cheap). */
function frame(text) {
  const data = Buffer.from(text);
  const n = data.length;
  const head =
    n < 126
      ? Buffer.from([0x81, 0x80 | n, 0, 0, 0, 0])
      : Buffer.from([0x81, 0xfe, n >> 8, n & 0xff, 0, 0, 0, 0]);
  return Buffer.concat([head, data]);
}

function openMember(port, nick, probe) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const m = { socket, nick, count: 0, probe, latencies: probe ? [] : null, closed: false };
    let upgraded = false;
    let pre = Buffer.alloc(0);
    // Frame parser state: a header cut by a chunk boundary, payload bytes still to come, and
    // the payload itself only while registering and for probes.
    let cut = null;
    let left = 0;
    let payload = null;
    const done = (p) => {
      if (!m.joined) {
        if (p.includes(` 366 ${nick} #lobby `)) {
          m.joined = true;
          resolve(m);
        }
        return;
      }
      m.count++;
      if (m.probe) {
        const t = Number.parseFloat(p.toString('latin1', p.lastIndexOf(0x20) + 1));
        if (!Number.isNaN(t)) m.latencies.push(performance.now() - t);
      }
    };
    const finish = () => {
      if (payload === null) m.count++;
      else done(Buffer.concat(payload));
    };
    const frames = (chunk) => {
      const buf = cut === null ? chunk : Buffer.concat([cut, chunk]);
      cut = null;
      let at = 0;
      while (at < buf.length) {
        if (left > 0) {
          const take = Math.min(left, buf.length - at);
          payload?.push(buf.subarray(at, at + take));
          left -= take;
          at += take;
          if (left === 0) finish();
          continue;
        }
        const len7 = buf.length - at >= 2 ? buf[at + 1] & 0x7f : 0;
        const hl = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
        if (buf.length - at < hl) {
          cut = buf.subarray(at);
          return;
        }
        left = len7 < 126 ? len7 : len7 === 126 ? buf.readUInt16BE(at + 2) : buf.readUInt32BE(at + 6);
        at += hl;
        payload = !m.joined || m.probe ? [] : null;
        if (left === 0) finish();
      }
    };
    socket.on('data', (chunk) => {
      if (upgraded) return frames(chunk);
      pre = Buffer.concat([pre, chunk]);
      const end = pre.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!pre.subarray(0, 12).toString().startsWith('HTTP/1.1 101'))
        return reject(new Error(`upgrade refused: ${pre.toString().split('\r\n')[0]}`));
      upgraded = true;
      socket.write(
        Buffer.concat([frame(`NICK ${nick}`), frame(`USER ${nick} 0 * :bench`), frame('JOIN #lobby')]),
      );
      if (pre.length > end + 4) frames(pre.subarray(end + 4));
    });
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n',
    );
    socket.once('error', reject);
    socket.on('close', () => {
      m.closed = true;
    });
  });
}

async function sendAll(m, idx, lines, pad) {
  const s = m.socket;
  const padding = pad > 0 ? `${'x'.repeat(pad)} ` : '';
  for (let seq = 0; seq < lines && !m.closed; ) {
    const t = performance.now().toFixed(3);
    const batch = [];
    for (let k = 0; k < 20 && seq < lines; k++, seq++)
      batch.push(frame(`PRIVMSG #lobby :s${idx} ${seq} ${padding}${t}`));
    if (!s.write(Buffer.concat(batch))) await drained(s);
  }
}

const wsClient = {
  wave: 50,
  openMember,
  // The never-reading tab.
  startStuck: (port) =>
    startStuckClient('./stuck_ws_client.py', [String(port), 'stuck', '#lobby'], 'stuck ws client'),
  sendAll,
};

/**
 * Runs one workload against the web listener on `port` (see runWorkload in workload.mjs).
 * @returns { deliveries, expected, ratio, seconds, rate, p50, p99, outcome }
 */
export function runWsLoad(options) {
  return runWorkload(wsClient, options);
}
