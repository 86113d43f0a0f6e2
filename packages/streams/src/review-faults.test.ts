import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { makeCert } from '@asyncnet-internal/test-support';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { portOf, produce, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { createStreamPair, createTransportPair } from './memory-transport.js';
import { StreamReader } from './stream-reader.js';
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

describe('a reader fed one byte per chunk (a peer dribbling one byte per TCP segment)', () => {
  // The work per chunk must not grow with the chunks already buffered: walking the chunk list from
  // the start on every search, or shifting a long chunk array, makes one line cost O(chunks^2)
  // (seconds of CPU per 64 KiB line). Budgets are ~30x the linear cost, far below the quadratic one.
  const N = 150_000;
  const BUDGET_MS = 10_000;
  const one = Buffer.from('a');

  async function feed(reader: StreamReader, n: number, chunk: Buffer): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      reader.feedData(chunk);
      // Let the pending read run its search after every chunk, as it does on a socket.
      await null;
      if ((i & 1023) === 0 && performance.now() - t0 > BUDGET_MS) break;
    }
    return performance.now() - t0;
  }

  it('readLine and readUntil search each byte once, whatever the chunk count', async () => {
    for (const read of [(r: StreamReader) => r.readLine(), (r: StreamReader) => r.readUntil('\r\n')]) {
      const reader = new StreamReader({ limit: 2 * N });
      const line = read(reader);
      const elapsed = await feed(reader, N, one);
      reader.feedData(Buffer.from('\r\n'));
      expect((await line).byteLength).toBeGreaterThanOrEqual(N);
      expect(elapsed).toBeLessThan(BUDGET_MS);
    }
  }, 60_000);

  it('readExactly and line-by-line reads take chunks off in O(1) each', async () => {
    const reader = new StreamReader({ limit: 2 * N });
    const t0 = performance.now();
    for (let i = 0; i < N; i++) reader.feedData(one);
    expect((await reader.readExactly(N)).byteLength).toBe(N);
    const nl = Buffer.from('\n');
    for (let i = 0; i < N; i++) reader.feedData(nl);
    let lines = 0;
    while (lines < N && performance.now() - t0 < BUDGET_MS) {
      await reader.readLine();
      lines++;
    }
    expect(lines).toBe(N);
    expect(performance.now() - t0).toBeLessThan(BUDGET_MS);
  }, 60_000);

  it('holds buffered bytes in about their own size, not a Buffer object per byte', async () => {
    // Paused at 2 x limit bytes, a reader of one-byte chunks held ~175 bytes of heap per byte:
    // 128 KiB from one peer pinned ~23 MB, and a hundred such peers exhaust the heap.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const reader = new StreamReader({ limit: N });
    for (let i = 0; i < N; i++) reader.feedData(Buffer.from('a')); // a fresh Buffer each, as a socket gives
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    expect(reader.bufferedSize).toBe(N);
    expect(retained).toBeLessThan(20 * N);
    expect((await reader.readExactly(N)).every((b) => b === 0x61)).toBe(true);
  });

  it('resumed searches give the same results as one-chunk input, for any split and mix of reads', async () => {
    type Op = { kind: 'until'; seps: string[] } | { kind: 'exactly'; n: number } | { kind: 'line' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('until' as const),
        seps: fc.array(fc.constantFrom('\r\n', ';', 'ab', 'aab', 'b'), { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('exactly' as const), n: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('line' as const) }),
    );
    async function run(chunks: Buffer[], ops: Op[], upfront: boolean): Promise<string[]> {
      const reader = new StreamReader({ limit: 64 });
      const out: string[] = [];
      // Fed all at once, many small chunks are buffered together and get coalesced.
      const feeder = (async () => {
        for (const c of chunks) {
          reader.feedData(c);
          if (!upfront) await null;
        }
        reader.feedEof();
      })();
      for (const op of ops) {
        try {
          const b =
            op.kind === 'until'
              ? await reader.readUntil(op.seps)
              : op.kind === 'exactly'
                ? await reader.readExactly(op.n)
                : await reader.readLine();
          out.push(b.toString('latin1'));
        } catch (err) {
          out.push(`#${(err as { code?: string }).code}`);
          if ((err as { code?: string }).code === 'ERR_LIMIT_OVERRUN') break;
        }
      }
      await feeder;
      return out;
    }
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[ab;\r\nx]{0,120}$/),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 40 }),
        fc.array(opArb, { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        async (text, sizes, ops, upfront) => {
          const data = Buffer.from(text, 'latin1');
          const chunks: Buffer[] = [];
          for (let off = 0, k = 0; off < data.byteLength; k++) {
            const n = sizes[k % sizes.length]!;
            chunks.push(data.subarray(off, off + n));
            off += n;
          }
          expect(await run(chunks, ops, upfront)).toEqual(await run([data], ops, upfront));
        },
      ),
      { numRuns: 300 },
    );
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
