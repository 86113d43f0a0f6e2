import { splitAt } from '@asyncnet-internal/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IncompleteReadError, LimitOverrunError, ReadPendingError, TimeoutError } from './errors.js';
import { StreamReader } from './stream-reader.js';

const b = (s: string) => Buffer.from(s);
const s = (u: Uint8Array) => Buffer.from(u).toString();

function fed(chunks: string[], eof = true, limit?: number): StreamReader {
  const r = new StreamReader({ limit });
  for (const c of chunks) r.feedData(b(c));
  if (eof) r.feedEof();
  return r;
}

describe('StreamReader', () => {
  it('readExactly joins fragments', async () => {
    const r = fed(['ab', 'c', 'defg']);
    expect(s(await r.readExactly(5))).toBe('abcde');
    expect(s(await r.readExactly(2))).toBe('fg');
  });

  it('readExactly at EOF throws IncompleteReadError with partial and expected', async () => {
    const r = fed(['abc']);
    const err = await r.readExactly(5).catch((e) => e);
    expect(err).toBeInstanceOf(IncompleteReadError);
    expect(err.code).toBe('ERR_INCOMPLETE_READ');
    expect(s(err.partial)).toBe('abc');
    expect(err.expected).toBe(5);
    expect(r.atEof()).toBe(true);
  });

  it('readExactly waits for data that arrives later', async () => {
    const r = new StreamReader();
    const p = r.readExactly(4);
    r.feedData(b('ab'));
    await new Promise((res) => setImmediate(res));
    r.feedData(b('cdef'));
    expect(s(await p)).toBe('abcd');
    expect(r.bufferedSize).toBe(2);
  });

  it('readUntil includes the separator and finds one split across chunks', async () => {
    const r = fed(['hello\r', '\nworld\r\n']);
    expect(s(await r.readUntil('\r\n'))).toBe('hello\r\n');
    expect(s(await r.readUntil(b('\r\n')))).toBe('world\r\n');
  });

  it('readUntil with several separators returns at the earliest match', async () => {
    const r = fed(['a;b,c\n']);
    expect(s(await r.readUntil([',', ';']))).toBe('a;');
    expect(s(await r.readUntil([',', '\n']))).toBe('b,');
  });

  it('readUntil prefers the longer separator on a tie', async () => {
    const r = fed(['ab\r\ncd']);
    expect(s(await r.readUntil(['\r', '\r\n']))).toBe('ab\r\n');
  });

  it('readUntil past the limit throws LimitOverrunError and keeps the data', async () => {
    const r = fed(['0123456789', 'abcdef\n'], true, 8);
    const err = await r.readUntil('\n').catch((e) => e);
    expect(err).toBeInstanceOf(LimitOverrunError);
    expect(err.code).toBe('ERR_LIMIT_OVERRUN');
    expect(err.consumed).toBe(16);
    expect(r.bufferedSize).toBe(17);
    expect(s(await r.read())).toBe('0123456789abcdef\n');
  });

  it('readUntil without a separator before EOF throws IncompleteReadError(expected null)', async () => {
    const r = fed(['abc']);
    const err = await r.readUntil('\n').catch((e) => e);
    expect(err).toBeInstanceOf(IncompleteReadError);
    expect(err.expected).toBeNull();
    expect(s(err.partial)).toBe('abc');
  });

  it('readUntil overrun while waiting: the buffer grows past limit with no separator', async () => {
    const r = new StreamReader({ limit: 4 });
    const p = r.readUntil('\n');
    r.feedData(b('abcdef'));
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(LimitOverrunError);
    expect(err.consumed).toBe(6);
    expect(r.bufferedSize).toBe(6);
  });

  it('readLine returns the partial last line, then empty, and atEof turns true', async () => {
    const r = fed(['one\ntw', 'o']);
    expect(s(await r.readLine())).toBe('one\n');
    expect(r.atEof()).toBe(false);
    expect(s(await r.readLine())).toBe('two');
    expect(r.atEof()).toBe(true);
    expect((await r.readLine()).byteLength).toBe(0);
  });

  it('readLine past the limit throws and keeps the data (asyncio clears it)', async () => {
    const r = fed(['x'.repeat(20), '\nnext\n'], true, 10);
    await expect(r.readLine()).rejects.toBeInstanceOf(LimitOverrunError);
    expect(r.bufferedSize).toBe(26);
    expect(s(await r.readExactly(21))).toBe(`${'x'.repeat(20)}\n`);
    expect(s(await r.readLine())).toBe('next\n');
  });

  it('read(n) returns as soon as any data is there, up to n', async () => {
    const r = new StreamReader();
    const p = r.read(100);
    r.feedData(b('abc'));
    expect(s(await p)).toBe('abc');
    r.feedData(b('defgh'));
    expect(s(await r.read(2))).toBe('de');
  });

  it('read() with no argument reads to EOF; read at EOF returns empty', async () => {
    const r = new StreamReader();
    const p = r.read();
    r.feedData(b('ab'));
    r.feedData(b('cd'));
    setImmediate(() => r.feedEof());
    expect(s(await p)).toBe('abcd');
    expect((await r.read(10)).byteLength).toBe(0);
  });

  it('a second read while one is pending is refused', async () => {
    const r = new StreamReader();
    const first = r.readLine();
    await expect(r.read(1)).rejects.toBeInstanceOf(ReadPendingError);
    await expect(r.readExactly(1)).rejects.toMatchObject({ code: 'ERR_READ_PENDING' });
    r.feedData(b('ok\n'));
    expect(s(await first)).toBe('ok\n');
  });

  it('an aborted read consumes nothing; the next read sees every byte', async () => {
    const r = new StreamReader();
    r.feedData(b('par'));
    const ac = new AbortController();
    const p = r.readUntil('\n', { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    r.feedData(b('tial\n'));
    expect(s(await r.readLine())).toBe('partial\n');
  });

  it('AbortSignal.timeout() on a read rejects with TimeoutError and consumes nothing', async () => {
    const r = new StreamReader();
    r.feedData(b('ab'));
    const err = await r.readExactly(4, { signal: AbortSignal.timeout(20) }).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe('ERR_TIMEOUT');
    r.feedData(b('cd'));
    expect(s(await r.readExactly(4))).toBe('abcd');
  });

  it('setException fails a pending read, but buffered data is still served first', async () => {
    const r = new StreamReader();
    const p = r.readLine();
    const boom = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    r.setException(boom);
    await expect(p).rejects.toBe(boom);
    expect(r.exception()).toBe(boom);
  });

  it('async iteration yields lines until EOF', async () => {
    const r = fed(['a\nb', '\nc']);
    const lines: string[] = [];
    for await (const line of r) lines.push(s(line));
    expect(lines).toEqual(['a\n', 'b\n', 'c']);
  });

  it('pauses its connection above 2 x limit and resumes at limit', async () => {
    const calls: string[] = [];
    const r = new StreamReader({
      limit: 10,
      flowControl: { pauseReading: () => calls.push('pause'), resumeReading: () => calls.push('resume') },
    });
    r.feedData(b('x'.repeat(15)));
    expect(calls).toEqual([]);
    r.feedData(b('x'.repeat(10)));
    expect(calls).toEqual(['pause']);
    await r.readExactly(10);
    expect(calls).toEqual(['pause']);
    await r.readExactly(5);
    expect(calls).toEqual(['pause', 'resume']);
  });

  describe('any chunking gives the same results (property)', () => {
    const textArb = fc
      .array(fc.constantFrom('a', 'b', '\n', '\r', ';', 'é', 'xyz'), { maxLength: 60 })
      .map((a) => a.join(''));
    const cutsArb = fc.array(fc.nat(200), { maxLength: 20 });

    async function drainWith(chunks: Uint8Array[], op: (r: StreamReader) => Promise<Uint8Array>) {
      const r = new StreamReader({ limit: 32 });
      const out: string[] = [];
      // Feed asynchronously so reads really wait across chunk boundaries.
      const feeder = (async () => {
        for (const c of chunks) {
          r.feedData(c);
          await new Promise((res) => setImmediate(res));
        }
        r.feedEof();
      })();
      for (;;) {
        try {
          const v = await op(r);
          if (v.byteLength === 0) break;
          out.push(Buffer.from(v).toString('latin1'));
        } catch (e) {
          out.push(`#${(e as { code: string }).code}`);
          if (e instanceof IncompleteReadError) out.push(Buffer.from(e.partial).toString('latin1'));
          if (e instanceof LimitOverrunError)
            out.push(Buffer.from(await r.readExactly(e.consumed)).toString('latin1'));
          if (r.atEof()) break;
        }
      }
      await feeder;
      return out;
    }

    for (const [name, op] of [
      ['readLine', (r: StreamReader) => r.readLine()],
      ['readUntil', (r: StreamReader) => r.readUntil([';', '\r\n'])],
      ['readExactly', (r: StreamReader) => r.readExactly(3)],
    ] as const) {
      it(name, async () => {
        await fc.assert(
          fc.asyncProperty(textArb, cutsArb, async (text, cuts) => {
            const data = Buffer.from(text);
            const whole = await drainWith([data], op);
            const pieces = await drainWith(splitAt(data, cuts), op);
            expect(pieces).toEqual(whole);
            if (name !== 'readExactly') {
              // Nothing is lost or duplicated: the outputs (minus error markers) concatenate back to the input.
              const joined = whole.filter((x) => !x.startsWith('#ERR_')).join('');
              expect(joined).toBe(data.toString('latin1'));
            }
          }),
          { numRuns: 150 },
        );
      });
    }
  });
});
