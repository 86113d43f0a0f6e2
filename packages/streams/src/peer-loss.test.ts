import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { makeCert } from '@asyncnet-internal/test-support';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { lineEcho, type ProducerResult, portOf, produce, sleep, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { createStreamPair, type MemoryTransport } from './memory-transport.js';

const { start } = useServers();

let cert: { key: string; cert: string };
beforeAll(() => {
  cert = makeCert();
});

/** A server whose handler runs the producer loop; resolves with its result. */
async function producerServer(tls = false) {
  let settle!: (r: ProducerResult) => void;
  const result = new Promise<ProducerResult>((r) => {
    settle = r;
  });
  const server = await start(
    async (_reader, writer) => {
      settle(await produce(writer));
    },
    '127.0.0.1',
    0,
    { onError: () => {}, ...(tls ? { tls: { key: cert.key, cert: cert.cert } } : {}) },
  );
  return { server, result };
}

async function rawClient(port: number): Promise<Socket> {
  const sock = connect({ host: '127.0.0.1', port });
  sock.on('error', () => {});
  await once(sock, 'connect');
  return sock;
}

/** A raw TCP server whose accepted sockets never read; `reset()` sends each an RST. */
async function silentPeers() {
  const { createServer } = await import('node:net');
  const peers: Socket[] = [];
  const raw = createServer((s) => {
    s.on('error', () => {});
    s.pause();
    peers.push(s);
  });
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  return {
    port: (raw.address() as { port: number }).port,
    reset: () => {
      for (const p of peers) p.resetAndDestroy();
    },
    close: () => raw.close(),
  };
}

/** Counts timer ticks: a starved event loop shows up as too few. */
function ticker(everyMs: number) {
  let ticks = 0;
  const timer = setInterval(() => ticks++, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return ticks;
    },
  };
}

const LOST = {
  code: 'ERR_CONNECTION_CLOSED',
  cause: { code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) },
};

describe('a peer that resets while a writer waits on drain()', () => {
  it('rejects drain() with ConnectionClosedError (cause ECONNRESET), sets isClosing and refuses later writes', async () => {
    const { server, result } = await producerServer();
    const peer = await rawClient(portOf(server));
    peer.pause(); // never reads: the server's writer pauses
    await sleep(100);
    const tick = ticker(10);
    peer.resetAndDestroy();
    const r = await result;
    expect(r.error).toMatchObject(LOST);
    expect(r.closing).toBe(true);
    // The loop stopped at the reset instead of spinning through its whole budget.
    expect(r.rounds).toBeLessThan(1000);
    await sleep(50);
    expect(tick.stop()).toBeGreaterThan(0);
  });

  it('keeps serving other connections and timers while one peer resets mid-drain', async () => {
    const echo = await start(lineEcho, '127.0.0.1', 0);
    const { server, result } = await producerServer();
    const peer = await rawClient(portOf(server));
    peer.pause();
    await sleep(50);
    const [reader, writer] = await openConnection('127.0.0.1', portOf(echo));
    const tick = ticker(5);
    peer.resetAndDestroy();
    for (let i = 0; i < 20; i++) {
      writer.write(`line ${i}\n`);
      expect((await reader.readLine()).toString()).toBe(`line ${i}\n`);
    }
    expect((await result).error).toMatchObject(LOST);
    await sleep(40);
    expect(tick.stop()).toBeGreaterThanOrEqual(2);
    writer.close();
  });

  it('rejects when the peer closes (FIN, then gone) without ever reading', async () => {
    const { server, result } = await producerServer();
    const peer = await rawClient(portOf(server));
    peer.pause();
    await sleep(50);
    peer.end();
    peer.destroy();
    const r = await result;
    expect(r.error).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(r.closing).toBe(true);
    expect(r.rounds).toBeLessThan(1000);
  });

  it('rejects over TLS too', async () => {
    const { server, result } = await producerServer(true);
    const { connect: tlsConnect } = await import('node:tls');
    // TLS over a TCP socket we hold, so the peer can reset it: no close_notify, just an RST.
    const tcp = await rawClient(portOf(server));
    const peer = tlsConnect({ socket: tcp, rejectUnauthorized: false });
    peer.on('error', () => {});
    await once(peer, 'secureConnect');
    peer.pause();
    await sleep(100);
    tcp.resetAndDestroy();
    const r = await result;
    expect(r.error).toMatchObject(LOST);
    expect(r.closing).toBe(true);
    expect(r.rounds).toBeLessThan(1000);
  });

  it('rejects on the client side when the server resets mid-drain', async () => {
    const raw = await silentPeers();
    try {
      const [, writer] = await openConnection('127.0.0.1', raw.port);
      const pending = produce(writer);
      await sleep(100);
      raw.reset();
      const r = await pending;
      expect(r.error).toMatchObject(LOST);
      expect(r.rounds).toBeLessThan(1000);
    } finally {
      raw.close();
    }
  });

  it('rejects every concurrent drain() waiter with the same error', async () => {
    const raw = await silentPeers();
    try {
      const [, writer] = await openConnection('127.0.0.1', raw.port);
      for (let i = 0; i < 200; i++) writer.write(Buffer.alloc(65_536));
      const waiters = Array.from({ length: 5 }, () => writer.drain().catch((e: unknown) => e));
      await sleep(50);
      raw.reset();
      const errors = await Promise.all(waiters);
      for (const e of errors) expect(e).toMatchObject(LOST);
      expect(new Set(errors).size).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('stops at a reset that comes at any point of the transfer (in-memory pair, random chunking)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (after, seed) => {
          const [[reader], [, writer]] = createStreamPair({ chunking: 'random', maxChunk: 8192, seed });
          const pending = produce(writer, 10_000);
          for (let i = 0; i < after; i++) await reader.read(4096);
          (writer.transport as MemoryTransport).reset();
          const r = await pending;
          expect(r.error).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
          expect(r.closing).toBe(true);
          expect(r.rounds).toBeLessThan(1000);
        },
      ),
      { numRuns: 30 },
    );
  });
});
