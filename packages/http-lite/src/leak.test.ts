import { getEventListeners } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startHttp } from './__fixtures__/servers.js';
import { Agent, get, post } from './index.js';
import { tickerState } from './internal/ticker.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

function clientSockets(port: number): Socket[] {
  // biome-ignore lint/suspicious/noExplicitAny: Node's handle list is untyped
  return ((process as any)._getActiveHandles() as unknown[]).filter(
    (h): h is Socket => typeof h === 'object' && h !== null && (h as Socket).remotePort === port,
  );
}

const listenerCounts = (s: Socket) =>
  Object.fromEntries(
    ['data', 'end', 'error', 'close', 'drain', 'timeout'].map((e) => [e, s.listenerCount(e)]),
  );

describe('no leaks', () => {
  it('10,000 sequential requests leave no extra sockets, listeners or timers', async () => {
    server = await startHttp((req, res) => {
      if (req.method === 'POST') req.resume();
      res.end('ok');
    });
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    const ac = new AbortController();
    const url = `${server.origin}/`;
    const opts = { agent, signal: ac.signal, timeouts: { total: 60_000 } };
    await (await get(url, opts)).body.text();
    const settle = () => new Promise((r) => setTimeout(r, 20)); // let the server side arm its keep-alive timer
    await settle();
    const before = resources();
    const [sock] = clientSockets(server.port);
    expect(sock).toBeDefined();
    const beforeListeners = listenerCounts(sock!);
    const beforeTicker = tickerState();
    for (let i = 0; i < 10_000; i++) {
      const res = i % 10 === 0 ? await post(url, 'body', opts) : await get(url, opts);
      if (i % 3 === 0) await res.body.dump();
      else await res.body.text();
    }
    await settle();
    expect(server.accepted()).toBe(1);
    expect(clientSockets(server.port)).toEqual([sock]);
    expect(listenerCounts(sock!)).toEqual(beforeListeners);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(tickerState()).toEqual(beforeTicker);
    // No resource kind grew (a one-shot timer of the test runner may have fired meanwhile).
    const after = resources();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    await agent.close();
    expect(tickerState().watched).toBe(0);
  }, 60_000);
});
