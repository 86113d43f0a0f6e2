import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type WsClient, wsUser } from './__fixtures__/ws-client.js';
import { type ChatServer, createChatServer } from './server.js';

const STUCK = fileURLToPath(new URL('../bench/stuck_ws_client.py', import.meta.url));

const servers: ChatServer[] = [];
const clients: WsClient[] = [];
const procs: ChildProcess[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

/** The never-reading tab (4 KiB receive buffer, never calls recv after joining). */
function stuckTab(port: number): Promise<ChildProcess> {
  const proc = spawn('python3', [STUCK, String(port), 'stuck', '#load'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.push(proc);
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', () => resolve(proc));
    proc.once('exit', (code) => reject(new Error(`stuck client exited with ${code}`)));
  });
}

describe('web front end under load', () => {
  it('200 WebSocket members and one tab that never reads: every healthy member gets 100%', async () => {
    const soft = 64 * 1024;
    const server = createChatServer({
      log: () => {},
      floodControl: false,
      maxConnectionsPerIp: 0,
      history: 0,
      sendQueue: { soft, hard: 1024 * 1024, stuckTimeout: 1_000 },
      web: { client: false },
    });
    servers.push(server);
    await server.listen({ host: '127.0.0.1', port: 0 });
    const port = server.webAddress()!.port;
    const url = `ws://127.0.0.1:${port}/`;
    const members: WsClient[] = [];
    for (let k = 0; k < 200; k += 50) {
      const wave = await Promise.all(Array.from({ length: 50 }, (_, j) => wsUser(url, `m${k + j}`)));
      clients.push(...wave);
      members.push(...wave);
    }
    for (const m of members) m.send('JOIN #load');
    await Promise.all(members.map((m) => m.waitFor(/ 366 m\d+ #load /, 20_000)));
    await stuckTab(port);
    const [sender, ...readers] = members as [WsClient, ...WsClient[]];
    const watcher = readers[0]!;
    await watcher.waitFor(/^:stuck!\S+ JOIN #load$/);
    // Count only what the sender says from here on; each message is one WebSocket message.
    const counts = new Map<WsClient, number>();
    for (const r of readers) {
      counts.set(r, 0);
      // One reader keeps its log (to see the stuck tab's QUIT); the rest only count.
      r.record = r === watcher;
      r.ws.on('message', (data: Buffer) => {
        if (data.includes(' PRIVMSG #load :n')) counts.set(r, counts.get(r)! + 1);
      });
    }
    // ~3.2 MB to every member: more than the kernel buffers (~2.8 MB on loopback) plus the
    // transport's high-water mark plus `soft` in front of the tab that does not read, so its
    // send queue must shed and then give up.
    const lines = 6_500;
    const pad = 'x'.repeat(440);
    for (let k = 0; k < lines; k += 100) {
      for (let j = k; j < k + 100; j++) sender.send(`PRIVMSG #load :n${j} ${pad}`);
      // Paced by the slowest healthy reader (all share this event loop with the server).
      const want = k + 100;
      await Promise.all(readers.map((r) => r.until(() => counts.get(r)! >= want, 20_000)));
    }
    for (const r of readers) expect(counts.get(r)).toBe(lines);
    // The tab that never read was shed, then disconnected; memory stayed bounded meanwhile.
    await watcher.waitFor(/^:stuck!\S+ QUIT :.*sendq (stuck|exceeded)/, 15_000);
    const stats = server.stats();
    expect(stats.drops).toBeGreaterThan(0);
    expect(stats.peakQueue).toBeLessThanOrEqual(soft + 1_024);
    expect(stats.clients).toBe(200);
  }, 90_000);
});
