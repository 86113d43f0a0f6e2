import { afterEach, describe, expect, it } from 'vitest';
import { type LineClient, plainUser } from './__fixtures__/line-client.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(options: ChatServerOptions = {}): Promise<{ server: ChatServer; port: number }> {
  const server = createChatServer({ log: () => {}, floodControl: false, maxConnectionsPerIp: 0, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port: server.address()!.port };
}

async function user(port: number, nick: string): Promise<LineClient> {
  const c = await plainUser(port, nick);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

/** Sends `count` numbered lines of about `size` bytes, respecting the socket's backpressure. */
async function sendLines(c: LineClient, count: number, size: number, tag = 'm', first = 0): Promise<void> {
  const pad = 'x'.repeat(size);
  for (let k = first; k < first + count; k++) {
    if (!c.socket.write(`${tag}${k} ${pad}\r\n`)) await new Promise((r) => c.socket.once('drain', r));
  }
}

describe('hub policies', () => {
  it('a member that never reads is shed and then disconnected, while the others get everything', async () => {
    const soft = 256 * 1024;
    const hard = 1024 * 1024;
    const { server, port } = await start({
      maxLineLength: 8192,
      sendQueue: { soft, hard, stuckTimeout: 1_500 },
      history: 0,
    });
    const sender = await user(port, 'sender');
    const healthy = await user(port, 'healthy');
    const stuck = await user(port, 'stuck');
    await sender.waitFor(/stuck joined/);
    stuck.socket.pause();
    const count = 3_000;
    // The sender goes as fast as the healthy member reads (both share this test's event loop).
    for (let k = 0; k < count; k += 100) {
      await sendLines(sender, 100, 4_000, `m`, k);
      await healthy.waitCount(/^<sender> m\d+ /, k + 100, 15_000);
    }
    const got = healthy.lines
      .filter((l) => l.startsWith('<sender> m'))
      .map((l) => Number(l.slice(10, l.indexOf(' ', 10))));
    expect(got).toEqual(Array.from({ length: count }, (_, k) => k));
    // The stuck member lost messages and was disconnected once its queue stayed over soft.
    await sender.waitFor(/^\* stuck quit \(sendq (stuck|exceeded)\)$/, 15_000);
    const stats = server.stats();
    expect(stats.drops).toBeGreaterThan(0);
    expect((stats.disconnects['sendq stuck'] ?? 0) + (stats.disconnects['sendq exceeded'] ?? 0)).toBe(1);
    // Memory stayed bounded: the queue never held more than soft plus one message.
    expect(stats.peakQueue).toBeLessThanOrEqual(soft + 4_100);
    expect(stats.connections).toBe(2);
  });

  it('a member that reads again after a stall is told how many messages it missed', async () => {
    const { server, port } = await start({
      maxLineLength: 8192,
      sendQueue: { soft: 128 * 1024, hard: 1024 * 1024, stuckTimeout: 20_000 },
      history: 0,
    });
    const sender = await user(port, 'sender');
    const slow = await user(port, 'slow');
    await sender.waitFor(/slow joined/);
    slow.socket.pause();
    const count = 3_000;
    await sendLines(sender, count, 4_000);
    // Wait until the server had to drop for the slow member, then let it read.
    for (let k = 0; k < 200 && server.stats().drops === 0; k++) await new Promise((r) => setTimeout(r, 25));
    expect(server.stats().drops).toBeGreaterThan(0);
    slow.socket.resume();
    const notice = await slow.waitFor(/^\* you missed \d+ messages/, 20_000);
    await slow.waitFor(new RegExp(`^<sender> m${count - 1} `), 20_000);
    const missed = Number(/missed (\d+)/.exec(notice)![1]);
    const received = slow.lines.filter((l) => l.startsWith('<sender> m')).length;
    expect(received + missed).toBe(count);
    expect(server.stats().drops).toBe(missed);
  });

  it('survives members disconnecting in the middle of a broadcast', async () => {
    const { server, port } = await start({ history: 0 });
    const sender = await user(port, 'sender');
    const members = await Promise.all(Array.from({ length: 40 }, (_, k) => user(port, `m${k}`)));
    await sender.waitFor(/m39 joined/);
    const leaving = members.filter((_, k) => k % 2 === 0);
    const staying = members.filter((_, k) => k % 2 === 1);
    const sending = sendLines(sender, 500, 200);
    // Kill half the room at staggered moments while lines are being fanned out.
    for (const [k, c] of leaving.entries()) setTimeout(() => c.socket.resetAndDestroy(), k * 3);
    await sending;
    for (const c of staying) await c.waitCount(/^<sender> m\d+ /, 500, 20_000);
    await sender.waitCount(/ quit \(/, leaving.length, 10_000);
    expect(server.stats().connections).toBe(1 + staying.length);
    expect(server.stats().clients).toBe(1 + staying.length);
  });

  it('1,000 connects and disconnects leave nothing behind', async () => {
    const { server, port } = await start();
    const watcher = await user(port, 'watcher');
    for (let batch = 0; batch < 20; batch++) {
      const wave = await Promise.all(Array.from({ length: 50 }, (_, k) => plainUser(port, `u${batch}x${k}`)));
      await Promise.all(
        wave.map((c, k) => {
          if (k % 2 === 0) c.send('/quit');
          else c.close();
          return c.ended;
        }),
      );
    }
    await watcher.waitCount(/^\* u\d+x\d+ quit/, 1_000, 20_000);
    const s = server.stats();
    expect(s.connections).toBe(1);
    expect(s.clients).toBe(1);
    expect(s.rooms).toBe(1);
    // Half said /quit; the other half hung up (a reset when unread data was pending).
    expect(s.disconnects['client quit']).toBeGreaterThanOrEqual(500);
    expect((s.disconnects['client quit'] ?? 0) + (s.disconnects['connection error'] ?? 0)).toBe(1_000);
    // Every nick is free again.
    const again = await user(port, 'u0x0');
    expect(again.lines.some((l) => l.includes('hello u0x0'))).toBe(true);
  });

  it('close() tells clients, flushes and never hangs on a client that does not read', async () => {
    const { server, port } = await start({ maxLineLength: 8192 });
    const a = await user(port, 'alice');
    const stuck = await user(port, 'stuck');
    stuck.socket.pause();
    await sendLines(a, 800, 4_000);
    await new Promise((r) => setTimeout(r, 100));
    await server.close({ timeout: 300 });
    await a.waitFor(/^\* closing: server shutting down$/);
    await a.ended;
    stuck.socket.resume();
    await stuck.ended;
    expect(server.stats().connections).toBe(0);
  });
});
