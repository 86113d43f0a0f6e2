import { splitAt } from '@asyncnet-internal/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { portOf, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { AbortedError, IncompleteReadError, ReadPendingError } from './errors.js';
import { StreamReader } from './stream-reader.js';

// The reader's and server's allocation-free paths (a line already buffered, a read() parked without
// an async frame, a reader that never received data, connections that untrack themselves) must
// behave exactly like the general paths they shortcut.

const b = (s: string) => Buffer.from(s);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Splits like asyncio's readline loop: every line with its `\n`, then the unterminated rest. */
function referenceLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

describe('reader fast paths', () => {
  it('lines are the same whether already buffered or fed chunk by chunk while reading', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[ab\n]{0,200}$/),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 30 }),
        fc.boolean(),
        async (text, cuts, iterate) => {
          const chunks = splitAt(b(text), cuts);
          // All buffered before the first read: every line but a split one takes the fast path.
          const buffered = new StreamReader();
          for (const c of chunks) buffered.feedData(c);
          buffered.feedEof();
          // Fed one chunk per macrotask: reads wait and take the general path.
          const trickled = new StreamReader();
          void (async () => {
            for (const c of chunks) {
              await tick();
              trickled.feedData(c);
            }
            trickled.feedEof();
          })();
          const collect = async (r: StreamReader): Promise<string[]> => {
            const out: string[] = [];
            if (iterate) {
              for await (const line of r) out.push(line.toString());
            } else {
              for (let line = await r.readLine(); line.byteLength > 0; line = await r.readLine())
                out.push(line.toString());
            }
            return out;
          };
          const expected = referenceLines(text);
          expect(await collect(buffered)).toEqual(expected);
          expect(await collect(trickled)).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('read(n) returns every byte once, in order, for any chunking and sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 20 }),
        // At least one size that reads: read(0) alone never reaches EOF.
        fc
          .array(fc.integer({ min: -1, max: 64 }), { minLength: 1, maxLength: 10 })
          .filter((sizes) => sizes.some((n) => n !== 0)),
        async (bytes, cuts, sizes) => {
          const r = new StreamReader();
          void (async () => {
            for (const c of splitAt(bytes, cuts)) {
              await tick();
              r.feedData(c);
            }
            r.feedEof();
          })();
          const got: Buffer[] = [];
          for (let i = 0; ; i++) {
            const n = sizes[i % sizes.length]!;
            if (i > 10_000) throw new Error('read(n) never reached EOF');
            const chunk = await r.read(n);
            if (n !== 0 && chunk.byteLength === 0) break;
            if (n > 0) expect(chunk.byteLength).toBeLessThanOrEqual(n);
            got.push(chunk);
          }
          expect(Buffer.concat(got).equals(Buffer.from(bytes))).toBe(true);
          expect(r.atEof()).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a parked read(n) gets every byte fed in the same tick as the one that woke it', async () => {
    const r = new StreamReader();
    const p = r.read(100);
    r.feedData(b('ab'));
    r.feedData(b('cd'));
    expect((await p).toString()).toBe('abcd');
  });

  it('a parked read refuses a second read and frees the reader once it completes', async () => {
    const r = new StreamReader();
    const first = r.read(10);
    await expect(r.read(1)).rejects.toBeInstanceOf(ReadPendingError);
    await expect(r.readLine()).rejects.toBeInstanceOf(ReadPendingError);
    r.feedData(b('x\ny'));
    expect((await first).toString()).toBe('x\ny');
    r.feedData(b('z\n'));
    expect((await r.readLine()).toString()).toBe('z\n');
  });

  it('an aborted parked read consumes nothing and frees the reader at once', async () => {
    const r = new StreamReader();
    const ac = new AbortController();
    const p = r.read(10, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    r.feedData(b('kept'));
    expect((await r.read(10)).toString()).toBe('kept');
    // The aborted read's listener is gone: a later abort of the same signal changes nothing.
    const again = r.read(10);
    r.feedData(b('more'));
    expect((await again).toString()).toBe('more');
  });

  it('a read aborted after the bytes arrived in the same tick returns them (nothing is lost)', async () => {
    const r = new StreamReader();
    const ac = new AbortController();
    const p = r.read(10, { signal: ac.signal });
    r.feedData(b('here'));
    ac.abort();
    expect((await p).toString()).toBe('here');
  });

  it('a parked read rejects with the connection error; one woken by data first returns the data', async () => {
    const failing = new StreamReader();
    const p = failing.read(10);
    failing.setException(new Error('reset'));
    await expect(p).rejects.toThrow('reset');

    const woken = new StreamReader();
    const q = woken.read(10);
    woken.feedData(b('last'));
    woken.setException(new Error('reset'));
    expect((await q).toString()).toBe('last');
    await expect(woken.read(10)).rejects.toThrow('reset');
  });

  it('read() to EOF collects everything, pausing no connection while it waits', async () => {
    let paused = 0;
    let resumed = 0;
    const r = new StreamReader({
      limit: 4,
      flowControl: { pauseReading: () => paused++, resumeReading: () => resumed++ },
    });
    const p = r.read();
    for (let i = 0; i < 5; i++) {
      r.feedData(b('0123456789'));
      await tick();
    }
    r.feedEof();
    expect((await p).byteLength).toBe(50);
    expect(resumed).toBe(paused);
  });

  it('a reader that never received a byte answers every read like an empty buffer', async () => {
    const r = new StreamReader();
    expect(r.bufferedSize).toBe(0);
    expect(r.atEof()).toBe(false);
    r.feedEof();
    expect(r.atEof()).toBe(true);
    expect((await r.readLine()).byteLength).toBe(0);
    expect((await r.read()).byteLength).toBe(0);
    expect((await r.read(5)).byteLength).toBe(0);
    const err = await r.readUntil('\r\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncompleteReadError);
    expect((err as IncompleteReadError).partial.byteLength).toBe(0);
    const exact = await r.readExactly(3).catch((e: unknown) => e);
    expect(exact).toBeInstanceOf(IncompleteReadError);
  });

  it('readers that never received a byte do not share state once one of them does', async () => {
    const a = new StreamReader();
    const c = new StreamReader();
    a.feedData(b('only a\n'));
    expect(c.bufferedSize).toBe(0);
    c.feedEof();
    expect((await c.readLine()).byteLength).toBe(0);
    expect((await a.readLine()).toString()).toBe('only a\n');
  });
});

describe('server connections untrack themselves', () => {
  const { start } = useServers();

  it('waitClosed resolves once connections that ended on their own are gone', async () => {
    const server = await start(
      async (reader, writer) => {
        for await (const line of reader) writer.write(line);
        writer.close();
      },
      '127.0.0.1',
      0,
    );
    for (let i = 0; i < 5; i++) {
      const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
      writer.write(`hello ${i}\n`);
      expect((await reader.readLine()).toString()).toBe(`hello ${i}\n`);
      writer.writeEof();
      expect((await reader.read()).byteLength).toBe(0);
      writer.close();
      await writer.waitClosed();
    }
    server.close();
    await server.waitClosed();
  });

  it('waitClosed resolves when handlers throw synchronously, reject, or return at once', async () => {
    let n = 0;
    const server = await start(
      (_reader, writer) => {
        const kind = n++ % 3;
        if (kind === 0) throw new Error('sync');
        if (kind === 1) return Promise.reject(new Error('async'));
        writer.close();
        return undefined;
      },
      '127.0.0.1',
      0,
      { onError() {} },
    );
    for (let i = 0; i < 6; i++) {
      const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
      await reader.read().catch(() => Buffer.alloc(0));
      writer.close();
    }
    server.close();
    await server.waitClosed();
  });
});
