// Aborting a request in every phase: it rejects at once with ERR_ABORTED, frees its pool slot and leaves no socket.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Running, readRequests, rejectionOf, startRaw, useAgents } from './__fixtures__/servers.js';
import { type Agent, request } from './index.js';

let server: Running | null = null;
let front: NetServer | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await server?.close();
  server = null;
  if (front !== null) {
    const f = front;
    front = null;
    await new Promise((r) => f.close(r));
  }
});
const newAgent = useAgents();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cert = '';
let key = '';
beforeAll(() => {
  ({ cert, key } = makeCert());
});

/** Client sockets to `port`, from Node's handle list. */
function clientSockets(port: number): Socket[] {
  // biome-ignore lint/suspicious/noExplicitAny: Node's handle list is untyped
  return ((process as any)._getActiveHandles() as unknown[]).filter(
    (h): h is Socket => typeof h === 'object' && h !== null && (h as Socket).remotePort === port,
  );
}

/** Aborts after `ms` and returns how long the request took to reject after the abort. */
async function abortAfter(ms: number, run: (signal: AbortSignal) => Promise<unknown>) {
  const ac = new AbortController();
  let abortedAt = 0;
  setTimeout(() => {
    abortedAt = performance.now();
    ac.abort(new Error('user gave up'));
  }, ms);
  const err = await rejectionOf(run(ac.signal));
  return { err, lag: performance.now() - abortedAt, signal: ac.signal };
}

function expectFreed(agent: Agent, signal: AbortSignal): void {
  // No slot busy (open but not idle: connecting or in use) or queued, and the signal holds no listener of ours.
  expect([...agent.stats().values()].filter((s) => s.open > s.idle || s.queued > 0)).toEqual([]);
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
}

/** Whether the server saw the connection end (FIN or reset) within a second. */
async function endedSoon(socket: Socket): Promise<boolean> {
  for (let i = 0; i < 100 && !socket.readableEnded && !socket.destroyed; i++) await sleep(10);
  return socket.readableEnded || socket.destroyed;
}

const python = spawnSync('python3', ['-c', 'print(1)']).status === 0;

describe('aborting a request', () => {
  it('before it starts: rejects without connecting', async () => {
    server = await startRaw(() => {});
    const ac = new AbortController();
    ac.abort(new Error('no'));
    const err = await rejectionOf(request(server.origin, { agent: newAgent(), signal: ac.signal }));
    expect(err.code).toBe('ERR_ABORTED');
    await sleep(20);
    expect(server.accepted()).toBe(0);
  });

  it('while queued behind a busy connection: leaves the queue at once', async () => {
    server = await startRaw((socket) => {
      readRequests(socket, async () => {
        await sleep(200);
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    const agent = newAgent({ connections: 1 });
    const busy = request(server.origin, { agent });
    const { err, lag, signal } = await abortAfter(30, (s) => request(server!.origin, { agent, signal: s }));
    expect(err.code).toBe('ERR_ABORTED');
    expect(lag).toBeLessThan(50);
    expect([...agent.stats().values()][0]).toMatchObject({ open: 1, queued: 0 });
    expect(await (await busy).body.text()).toBe('ok');
    expect(await (await request(server.origin, { agent })).body.text()).toBe('ok');
    expect(server.accepted()).toBe(1);
    expectFreed(agent, signal);
  });

  it.runIf(python)('during the TCP connect: frees the slot and the socket at once', async () => {
    // A listener with a full backlog that never accepts: the SYN is dropped, the connect hangs.
    const py: ChildProcess = spawn('python3', [
      '-c',
      'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
    ]);
    cleanups.push(() => py.kill());
    const port = await new Promise<number>((r) =>
      py.stdout!.once('data', (d) => r(Number(String(d).trim()))),
    );
    const filler = connect(port, '127.0.0.1');
    filler.on('error', () => {});
    cleanups.push(() => filler.destroy());
    await new Promise((r) => filler.once('connect', r));
    const origin = `http://127.0.0.1:${port}`;
    const agent = newAgent({ connections: 1 });
    const { err, lag, signal } = await abortAfter(100, (s) =>
      request(origin, { agent, signal: s, timeouts: { connect: 5000 } }),
    );
    expect(err.code).toBe('ERR_ABORTED');
    expect(lag).toBeLessThan(50);
    expectFreed(agent, signal);
    // The slot is free: the next request starts now and meets its own connect timeout, not the first one's.
    const t0 = performance.now();
    const next = await rejectionOf(request(origin, { agent, timeouts: { connect: 200 } }));
    expect(next.code).toBe('ERR_CONNECT_TIMEOUT');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('during the TLS handshake: frees the slot and the socket at once (connections: 1)', async () => {
    // Connection 0 never answers the ClientHello; later ones get a real TLS server.
    const tls = createTlsServer({ cert, key }, (s) => {
      s.on('error', () => {});
      readRequests(s as unknown as Socket, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    });
    const accepted: Socket[] = [];
    front = createNetServer((s) => {
      s.on('error', () => {});
      accepted.push(s);
      cleanups.push(() => s.destroy());
      if (accepted.length > 1) tls.emit('connection', s);
      else s.resume(); // read (and drop) the ClientHello, so the client's close is seen
    });
    await new Promise<void>((r) => front!.listen(0, '127.0.0.1', r));
    const port = (front.address() as { port: number }).port;
    const origin = `https://127.0.0.1:${port}`;
    const agent = newAgent({ connections: 1 });
    const opts = { agent, tls: { ca: cert }, timeouts: { connect: 5000 } };
    const { err, lag, signal } = await abortAfter(100, (s) => request(origin, { ...opts, signal: s }));
    expect(err.code).toBe('ERR_ABORTED');
    expect(lag).toBeLessThan(50);
    expect(await endedSoon(accepted[0]!)).toBe(true);
    expectFreed(agent, signal);
    const t0 = performance.now();
    expect(await (await request(origin, opts)).body.text()).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(clientSockets(port)).toHaveLength(1); // the live, pooled one
  });

  it('after the request was sent, before any response byte', async () => {
    let first: Socket | null = null;
    server = await startRaw((socket, i) => {
      if (i === 0) first = socket;
      readRequests(socket, () => {
        if (i > 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    const agent = newAgent({ connections: 1 });
    const { err, lag, signal } = await abortAfter(50, (s) => request(server!.origin, { agent, signal: s }));
    expect(err.code).toBe('ERR_ABORTED');
    expect(lag).toBeLessThan(50);
    expect(await endedSoon(first!)).toBe(true);
    expectFreed(agent, signal);
    expect(await (await request(server.origin, { agent })).body.text()).toBe('ok');
  });

  it('while a stream body uploads: stops pulling it', async () => {
    server = await startRaw((socket) => socket.resume());
    let pulled = 0;
    let finished = false;
    async function* slow() {
      try {
        for (;;) {
          await sleep(5);
          pulled++;
          yield Buffer.from('chunk');
        }
      } finally {
        finished = true;
      }
    }
    const agent = newAgent({ connections: 1 });
    const { err, lag, signal } = await abortAfter(60, (s) =>
      request(server!.origin, { agent, method: 'POST', body: slow(), signal: s }),
    );
    expect(err.code).toBe('ERR_ABORTED');
    expect(lag).toBeLessThan(50);
    await sleep(30);
    expect(finished).toBe(true);
    const n = pulled;
    await sleep(50);
    expect(pulled).toBe(n);
    expectFreed(agent, signal);
  });

  it('inside the response head', async () => {
    let first: Socket | null = null;
    server = await startRaw((socket) => {
      first = socket;
      readRequests(socket, () => socket.write('HTTP/1.1 200 OK\r\nContent-Len'));
    });
    const agent = newAgent({ connections: 1 });
    const { err, lag, signal } = await abortAfter(50, (s) => request(server!.origin, { agent, signal: s }));
    expect(err.code).toBe('ERR_ABORTED');
    expect(lag).toBeLessThan(50);
    expect(await endedSoon(first!)).toBe(true);
    expectFreed(agent, signal);
  });

  it('while the response body streams', async () => {
    let first: Socket | null = null;
    server = await startRaw((socket, i) => {
      if (i === 0) first = socket;
      readRequests(socket, () => {
        if (i === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome of it');
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    const agent = newAgent({ connections: 1 });
    const ac = new AbortController();
    const res = await request(server.origin, { agent, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('enough')), 30);
    const err = await rejectionOf(res.body.text());
    expect(err.code).toBe('ERR_ABORTED');
    expect(await endedSoon(first!)).toBe(true);
    expectFreed(agent, ac.signal);
    expect(await (await request(server.origin, { agent })).body.text()).toBe('ok');
  });

  it('after the body ended: nothing happens, the connection stays pooled', async () => {
    server = await startRaw((socket) => {
      readRequests(socket, () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    });
    const agent = newAgent({ connections: 1 });
    const ac = new AbortController();
    expect(await (await request(server.origin, { agent, signal: ac.signal })).body.text()).toBe('ok');
    ac.abort(new Error('late'));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(await (await request(server.origin, { agent })).body.text()).toBe('ok');
    expect(server.accepted()).toBe(1);
  });

  it('many times while connects are in flight leaves no socket and no slot behind', async () => {
    const tls = createTlsServer({ cert, key });
    tls.on('tlsClientError', () => {});
    front = createNetServer((s) => {
      s.on('error', () => {});
      cleanups.push(() => s.destroy());
      // Half the handshakes stall, half are slow: aborts land in every part of the connect.
      if (Math.random() < 0.5) setTimeout(() => tls.emit('connection', s), 5);
    });
    await new Promise<void>((r) => front!.listen(0, '127.0.0.1', r));
    const port = (front.address() as { port: number }).port;
    const agent = newAgent({ connections: 4 });
    const runs = Array.from({ length: 40 }, (_, i) =>
      abortAfter(i % 20, (s) =>
        request(`https://127.0.0.1:${port}/`, {
          agent,
          tls: { ca: cert },
          signal: s,
          timeouts: { connect: 5000 },
        }),
      ),
    );
    for (const { err } of await Promise.all(runs)) expect(err.code).toBe('ERR_ABORTED');
    await sleep(20);
    expect(agent.stats().size).toBe(0);
    expect(clientSockets(port)).toHaveLength(0);
  });
});
