import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, decodeAll, splitAt } from './__fixtures__/chunking.js';
import { FrameError, FrameTooLargeError, ProtocolError } from './errors.js';
import { LinesCodec } from './lines-codec.js';

const enc = (s: string) => Buffer.from(s, 'utf8');

/** Reference: split the whole input at once with plain string operations. */
function reference(input: Buffer, max: number): { frames: string[]; tooLarge: boolean } {
  const text = input.toString('latin1');
  const parts = text.split('\n');
  const last = parts.pop()!;
  const lines = parts.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
  if (last.length > 0) lines.push(last.endsWith('\r') ? last.slice(0, -1) : last);
  const frames: string[] = [];
  for (const l of lines) {
    if (l.length > max) return { frames, tooLarge: true };
    frames.push(l);
  }
  return { frames, tooLarge: false };
}

const inputArb = fc
  .array(fc.constantFrom('a', 'b', '\r', '\n', '\r\n', 'xyz', '\u00e9', '\u{1F600}'), { maxLength: 80 })
  .map((parts) => enc(parts.join('')));

describe('LinesCodec', () => {
  it('decodes the tarball-check example', () => {
    expect(new LinesCodec().createDecoder().push(Buffer.from('a\r\nb\n'))).toEqual(['a', 'b']);
  });

  it('returns a last unterminated line from end() and strips a lone trailing \\r', () => {
    const d = new LinesCodec().createDecoder();
    expect(d.push(enc('one\ntwo'))).toEqual(['one']);
    expect(d.push(enc('\r'))).toEqual([]);
    expect(d.end()).toEqual(['two']);
    expect(d.end()).toEqual([]);
  });

  it('gives the same frames for any chunking (bytes mode, random bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        cutsArb(300),
        fc.integer({ min: 0, max: 40 }),
        (bytes, cuts, max) => {
          const input = Buffer.from(bytes);
          const codec = new LinesCodec({ encoding: null, maxLength: max });
          const got = decodeAll(codec.createDecoder(), splitAt(input, cuts));
          const want = reference(input, max);
          expect(got.frames).toEqual(want.frames);
          if (want.tooLarge) expect(got.error).toBeInstanceOf(FrameTooLargeError);
          else expect(got.error).toBeNull();
        },
      ),
      { numRuns: 400 },
    );
  });

  it('gives the same strings for any chunking, even inside multi-byte characters', () => {
    fc.assert(
      fc.property(inputArb, cutsArb(400), (input, cuts) => {
        const got = decodeAll(new LinesCodec().createDecoder(), splitAt(input, cuts));
        const want = reference(input, 1e9).frames.map((l) => Buffer.from(l, 'latin1').toString('utf8'));
        expect(got.error).toBeNull();
        expect(got.frames).toEqual(want);
      }),
      { numRuns: 400 },
    );
  });

  it('applies maxLength in bytes to strings, with the same frames and error for any chunking', () => {
    fc.assert(
      fc.property(inputArb, cutsArb(400), fc.integer({ min: 0, max: 12 }), (input, cuts, max) => {
        const got = decodeAll(new LinesCodec({ maxLength: max }).createDecoder(), splitAt(input, cuts));
        const want = reference(input, max);
        expect(got.frames).toEqual(want.frames.map((l) => Buffer.from(l, 'latin1').toString('utf8')));
        if (want.tooLarge) expect(got.error).toBeInstanceOf(FrameTooLargeError);
        else expect(got.error).toBeNull();
      }),
      { numRuns: 400 },
    );
  });

  it('bounds invalid UTF-8 lines by their bytes, not by their decoded length', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0x61, 0x0a, 0x0d, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff, 0xf0, 0x9f), {
          maxLength: 120,
        }),
        cutsArb(120),
        fc.integer({ min: 0, max: 15 }),
        (arr, cuts, max) => {
          const input = Buffer.from(arr);
          const got = decodeAll(new LinesCodec({ maxLength: max }).createDecoder(), splitAt(input, cuts));
          const want = reference(input, max);
          expect(got.frames).toEqual(want.frames.map((l) => Buffer.from(l, 'latin1').toString('utf8')));
          if (want.tooLarge) expect(got.error).toBeInstanceOf(FrameTooLargeError);
          else expect(got.error).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes invalid UTF-8 the same as a one-shot decode, for any chunking', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), cutsArb(200), (bytes, cuts) => {
        const input = Buffer.from(bytes);
        const got = decodeAll(new LinesCodec().createDecoder(), splitAt(input, cuts));
        const want = reference(input, 1e9).frames.map((l) => Buffer.from(l, 'latin1').toString('utf8'));
        expect(got.frames).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips encode() for any lines and chunking', () => {
    const lineArb = fc.string({ maxLength: 20 }).filter((s) => !s.includes('\n') && !s.endsWith('\r'));
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 20 }), cutsArb(500), (lines, cuts) => {
        const codec = new LinesCodec();
        const bytes = Buffer.concat(lines.map((l) => codec.encode(l)));
        expect(decodeAll(codec.createDecoder(), splitAt(bytes, cuts)).frames).toEqual(lines);
      }),
    );
  });

  it('raises FrameTooLargeError before buffering more than maxLength + 1 bytes', () => {
    const d = new LinesCodec({ maxLength: 10 }).createDecoder();
    expect(d.push(enc('ok\n0123456789'))).toEqual(['ok']);
    expect(d.bufferedSize).toBe(10);
    expect(d.push(enc('\r'))).toEqual([]);
    expect(d.bufferedSize).toBe(11);
    let err: unknown;
    try {
      d.push(enc('x'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect(err).toBeInstanceOf(FrameError);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as FrameTooLargeError).code).toBe('ERR_FRAME_TOO_LARGE');
    expect((err as FrameTooLargeError).maxLength).toBe(10);
    expect((err as Error).message).toBe('line of 12 bytes exceeds the maximum of 10 bytes');
    // The decoder is finished: the same error again, and nothing buffered.
    expect(() => d.push(enc('\n'))).toThrow(err as Error);
    expect(() => d.end()).toThrow(err as Error);
    expect(d.bufferedSize).toBe(0);
  });

  it('stays bounded on an endless line fed in many chunks', () => {
    const d = new LinesCodec({ maxLength: 1000 }).createDecoder();
    const chunk = Buffer.alloc(64, 0x61);
    let thrown: unknown = null;
    for (let i = 0; i < 1000 && thrown === null; i++) {
      try {
        d.push(chunk);
      } catch (err) {
        thrown = err;
      }
      expect(d.bufferedSize).toBeLessThanOrEqual(1001);
    }
    expect(thrown).toBeInstanceOf(FrameTooLargeError);
  });

  it('carries the frames decoded before the bad line on the error', () => {
    const d = new LinesCodec({ maxLength: 3 }).createDecoder();
    try {
      d.push(enc('a\nbb\ntoo long\nc\n'));
      expect.unreachable();
    } catch (err) {
      expect((err as FrameError).frames).toEqual(['a', 'bb']);
    }
  });

  it('raises ERR_FRAME_TRUNCATED at end() when allowUnterminated is false', () => {
    const d = new LinesCodec({ allowUnterminated: false }).createDecoder();
    expect(d.push(enc('a\nb'))).toEqual(['a']);
    expect(() => d.end()).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED', buffered: 1 }));
  });

  it('refuses to encode lines it could not decode back', () => {
    const codec = new LinesCodec({ maxLength: 4 });
    expect(() => codec.encode('a\nb')).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID' }));
    expect(() => codec.encode('ab\r')).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID' }));
    expect(() => codec.encode('abcde')).toThrow(FrameTooLargeError);
    expect(Buffer.from(codec.encode('abcd')).toString()).toBe('abcd\n');
  });

  it('yields bytes with encoding null and validates options', () => {
    const d = new LinesCodec({ encoding: null }).createDecoder();
    const [line] = d.push(enc('\u00e9\n'));
    expect(line).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(line!).toString()).toBe('\u00e9');
    expect(() => new LinesCodec({ maxLength: -1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'maxLength must be an integer from 0 to 2147483647, got -1',
      }),
    );
    // An encoding it does not implement is refused, not silently decoded as UTF-8.
    expect(() => new LinesCodec({ encoding: 'latin1' as 'utf8' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: "encoding must be 'utf8' or null, got latin1",
      }),
    );
  });
});
