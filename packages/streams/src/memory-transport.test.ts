import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStreamPair, type MemoryTransport } from './memory-transport.js';
import { withTimeout } from './timeout.js';

describe('createStreamPair', () => {
  it('connects two ends both ways', async () => {
    const [[ra, wa], [rb, wb]] = createStreamPair();
    wa.write('ping\n');
    expect((await rb.readLine()).toString()).toBe('ping\n');
    wb.write('pong\n');
    expect((await ra.readLine()).toString()).toBe('pong\n');
  });

  it('random chunking delivers every byte in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 1, max: 1000 }),
        async (data, seed) => {
          const [[, wa], [rb]] = createStreamPair({ chunking: 'random', seed });
          wa.write(data);
          wa.writeEof();
          expect(Buffer.from(await rb.read())).toEqual(Buffer.from(data));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('half-close: one side finishes, the other answers, then both close', async () => {
    const [[ra, wa], [rb, wb]] = createStreamPair();
    wa.write('question');
    wa.writeEof();
    expect((await rb.read()).toString()).toBe('question');
    wb.write('answer');
    wb.close();
    expect((await ra.read()).toString()).toBe('answer');
    await Promise.all([wa.waitClosed(), wb.waitClosed()]);
  });

  it('applies flow control: drain waits while the peer does not read', async () => {
    const [[, wa], [rb]] = createStreamPair({ highWaterMark: 100, lowWaterMark: 10, limit: 50 });
    for (let i = 0; i < 20; i++) wa.write(Buffer.alloc(50));
    let drained = false;
    const p = wa.drain().then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false);
    // The reader paused above 2 x limit; the rest waits in the writer's buffer.
    expect(rb.bufferedSize).toBeLessThanOrEqual(150);
    expect(wa.transport.getWriteBufferSize()).toBeGreaterThan(100);
    await rb.readExactly(1000);
    await p;
    expect(drained).toBe(true);
  });

  it('reset() fails both ends', async () => {
    const [[ra, wa], [rb]] = createStreamPair();
    const pending = rb.readLine();
    (wa.transport as MemoryTransport).reset();
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(ra.read()).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('a delay slows delivery without reordering', async () => {
    const [[, wa], [rb]] = createStreamPair({ delayMs: 2, chunking: 'random', maxChunk: 3 });
    wa.write('abcdefghij\n');
    expect((await withTimeout(2000, (signal) => rb.readLine({ signal }))).toString()).toBe('abcdefghij\n');
  });
});
