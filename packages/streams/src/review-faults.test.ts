import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { portOf, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { createStreamPair, createTransportPair } from './memory-transport.js';
import type { StreamWriter } from './stream-writer.js';
import { timeout, withTimeout } from './timeout.js';
import type { TransportListener } from './transport.js';

const { start } = useServers();

let cert: { key: string; cert: string };
beforeAll(() => {
  cert = makeCert();
});

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

/** A TCP server that accepts and never answers: a TLS handshake against it waits forever. */
async function silentServer(): Promise<number> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.on('error', () => {});
    sockets.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

/** What a `write(); await drain()` producer ended with, and how many rounds it ran. */
async function produce(writer: StreamWriter, maxRounds = 5000): Promise<{ error: unknown; rounds: number }> {
  const chunk = Buffer.alloc(65_536, 0x61);
  let rounds = 0;
  try {
    for (; rounds < maxRounds; rounds++) {
      writer.write(chunk);
      await writer.drain();
    }
    return { error: null, rounds };
  } catch (error) {
    return { error, rounds };
  }
}

/** Resolves after `n` turns of the event loop (a count, not a duration: robust under load). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('an in-memory peer that goes away while a writer waits on drain()', () => {
  // Over TCP a peer that closes with bytes it never read answers with RST: the writer's drain()
  // rejects. The in-memory pair must do the same instead of leaving drain() pending forever.
  for (const how of ['abort', 'close'] as const) {
    it(`resets the writer when the peer calls ${how}() without reading`, async () => {
      const [[, peerWriter], [, writer]] = createStreamPair();
      const pending = produce(writer);
      await turns(20);
      expect(writer.transport.getWriteBufferSize()).toBeGreaterThan(16_384); // above the low mark: drain() waits
      if (how === 'abort') peerWriter.transport.abort();
      else peerWriter.close();
      const settled = await Promise.race([pending, turns(200).then(() => 'still waiting on drain()')]);
      expect(settled).toMatchObject({
        error: { code: 'ERR_CONNECTION_CLOSED', cause: { code: 'ECONNRESET' } },
      });
      expect(writer.isClosing()).toBe(true);
    });
  }
});

describe('an in-memory transport after a reset', () => {
  it('reports an empty write buffer and never resumes writing after closed()', async () => {
    const [a, b] = createTransportPair();
    const events: string[] = [];
    const listener: TransportListener = {
      data() {},
      eof: () => true,
      writePaused: () => events.push('paused'),
      writeResumed: () => events.push('resumed'),
      closed: (err) => events.push(`closed ${(err as NodeJS.ErrnoException | null)?.code}`),
    };
    a.setListener(listener);
    b.setListener({ data() {}, eof: () => true, closed() {} });
    a.write(Buffer.alloc(100_000));
    a.reset();
    expect(events).toEqual(['paused', 'closed ECONNRESET']);
    // The queued bytes were lost with the connection.
    expect(a.getWriteBufferSize()).toBe(0);
    // A protocol may still touch its limits in connectionLost: that is no resumeWriting.
    a.setWriteBufferLimits({ high: 1_000_000 });
    await turns(5);
    expect(events).toEqual(['paused', 'closed ECONNRESET']);
  });
});

describe('writer.waitClosed() under a deadline', () => {
  // DESIGN: every blocking call takes an AbortSignal. close() towards a peer that never reads can
  // wait forever, and withTimeout waits for an operation that ignores its signal.
  it('takes a signal, so withTimeout bounds a close that a non-reading peer never lets finish', async () => {
    const port = await silentServer();
    const [, writer] = await openConnection('127.0.0.1', port);
    for (let i = 0; i < 128; i++) writer.write(Buffer.alloc(65_536));
    writer.close();
    const bounded = withTimeout(20, (signal) => writer.waitClosed({ signal })).catch((e: unknown) => e);
    const settled = await Promise.race([bounded, new Promise((r) => setTimeout(r, 5000, 'still waiting'))]);
    expect(settled).toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(writer.isClosing()).toBe(true);
    // The wait was abandoned, not the close: aborting ends the connection and waitClosed resolves.
    writer.transport.abort();
    await writer.waitClosed({ signal: AbortSignal.timeout(5000) });
  });

  it('rejects at once with an aborted signal and resolves for a closed connection', async () => {
    const [[, a], [, b]] = createStreamPair();
    await expect(a.waitClosed({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    a.close();
    b.close();
    await a.waitClosed({ signal: AbortSignal.timeout(5000) });
  });
});

describe('deadlines longer than setTimeout can hold (2^31 - 1 ms, about 24.8 days)', () => {
  // node:timers fires such a delay after 1 ms (with a TimeoutOverflowWarning): a deadline weeks
  // away must not expire at once.
  const LONG = 2 ** 31;

  it('timeout(ms) does not expire at once', async () => {
    using t = timeout(LONG);
    await turns(20);
    await new Promise((r) => setTimeout(r, 5));
    expect(t.expired()).toBe(false);
    expect(t.signal.aborted).toBe(false);
    t.reschedule(3e9);
    await new Promise((r) => setTimeout(r, 5));
    expect(t.expired()).toBe(false);
  });

  it('withTimeout(ms, op) lets the operation finish', async () => {
    const [[reader], [, writer]] = createStreamPair();
    setTimeout(() => writer.write('late line\n'), 10);
    const line = await withTimeout(3e9, (signal) => reader.readLine({ signal }));
    expect(line.toString()).toBe('late line\n');
  });

  it('a connect timeout and a startTls handshakeTimeout do not fire at once', async () => {
    const port = await silentServer();
    const ctl = new AbortController();
    const connect = openConnection('127.0.0.1', port, { tls: true, timeout: LONG, signal: ctl.signal }).catch(
      (e: unknown) => e,
    );
    const [, writer] = await openConnection('127.0.0.1', port);
    const upgrade = writer
      .startTls({ handshakeTimeout: LONG, signal: ctl.signal, ca: cert.cert })
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    ctl.abort();
    // Both were still waiting for the silent server when the signal ended them.
    expect(await connect).toMatchObject({ code: 'ERR_ABORTED' });
    expect(await upgrade).toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('getExtraInfo() values match their declared types', () => {
  it('peercert is undefined (or the default) when the peer sent none, never {}; cipher and peercert after close are not null', async () => {
    let seen: unknown[] = [];
    const server = await start(
      async (reader, writer) => {
        seen = [writer.getExtraInfo('peercert'), writer.getExtraInfo('peercert', 'none')];
        await reader.read(100);
        writer.close();
      },
      '127.0.0.1',
      0,
      { tls: { key: cert.key, cert: cert.cert } },
    );
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server), {
      tls: { ca: cert.cert, servername: 'localhost' },
    });
    expect(writer.getExtraInfo('peercert')?.subject.CN).toBe('localhost');
    writer.write('bye');
    await reader.read();
    writer.close();
    await writer.waitClosed();
    // A client that presented no certificate: asyncio's peercert is None, ours undefined.
    expect(seen).toEqual([undefined, 'none']);
    // The socket is gone: the default comes back instead of null (typed PeerCertificate | undefined).
    expect(writer.getExtraInfo('peercert', 'gone')).toBe('gone');
    expect(writer.getExtraInfo('cipher', 'gone')).toBe('gone');
  });
});
