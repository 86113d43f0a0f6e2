import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, decodeAll, splitAt } from './__fixtures__/chunking.js';
import { DelimiterCodec } from './delimiter-codec.js';
import { FrameTooLargeError } from './errors.js';

/**
 * Reference: scan the whole input; at each frame, the delimiter whose first occurrence ends
 * first wins, ties going to the longer one.
 */
function reference(input: string, delims: string[], max: number): { frames: string[]; tooLarge: boolean } {
  const frames: string[] = [];
  let pos = 0;
  for (;;) {
    let bestEnd = -1;
    let bestLen = 0;
    for (const d of delims) {
      const idx = input.indexOf(d, pos);
      if (idx === -1) continue;
      const end = idx + d.length;
      if (bestEnd === -1 || end < bestEnd || (end === bestEnd && d.length > bestLen)) {
        bestEnd = end;
        bestLen = d.length;
      }
    }
    if (bestEnd === -1) break;
    const frame = input.slice(pos, bestEnd - bestLen);
    if (frame.length > max) return { frames, tooLarge: true };
    frames.push(frame);
    pos = bestEnd;
  }
  const rest = input.slice(pos);
  if (rest.length > max) return { frames, tooLarge: true };
  if (rest.length > 0) frames.push(rest);
  return { frames, tooLarge: false };
}

const alphabet = ['a', 'b', 'c'];
const delimArb = fc
  .array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 4 })
  .map((cs) => cs.join(''));

describe('DelimiterCodec', () => {
  it('splits on several delimiters, complete-first then longest', () => {
    const d = new DelimiterCodec({ delimiters: ['\r\n', '\n', '\0'] }).createDecoder();
    expect(d.push(Buffer.from('a\r\nb\nc\0d'))).toEqual(['a', 'b', 'c']);
    expect(d.end()).toEqual(['d']);
  });

  it('finds a delimiter split across several chunks', () => {
    const d = new DelimiterCodec({ delimiters: '--END--' }).createDecoder();
    const out: string[] = [];
    for (const c of ['one-', '-E', 'N', 'D-', '-two--END', '--']) out.push(...d.push(Buffer.from(c)));
    expect(out).toEqual(['one', 'two']);
  });

  it('gives the same frames as a whole-input scan for any delimiters and chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet, 'ab', 'abc'), { maxLength: 60 }).map((p) => p.join('')),
        fc.array(delimArb, { minLength: 1, maxLength: 3 }),
        cutsArb(200),
        fc.integer({ min: 0, max: 30 }),
        (input, delims, cuts, max) => {
          const codec = new DelimiterCodec({ delimiters: delims, maxLength: max, encoding: null });
          const got = decodeAll(codec.createDecoder(), splitAt(Buffer.from(input, 'latin1'), cuts));
          const want = reference(input, delims, max);
          expect(got.frames).toEqual(want.frames);
          if (want.tooLarge) expect(got.error).toBeInstanceOf(FrameTooLargeError);
          else expect(got.error).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never buffers more than maxLength + longest delimiter - 1 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cutsArb(300), (bytes, cuts) => {
        const d = new DelimiterCodec({
          delimiters: ['xyz', '\n'],
          maxLength: 16,
          encoding: null,
        }).createDecoder();
        for (const c of splitAt(bytes, cuts)) {
          try {
            d.push(c);
          } catch {
            return;
          }
          expect(d.bufferedSize).toBeLessThanOrEqual(16 + 2);
        }
      }),
    );
  });

  it('round-trips encode() and refuses frames that contain a delimiter', () => {
    const codec = new DelimiterCodec({ delimiters: ['\0'], maxLength: 8 });
    const bytes = Buffer.concat(['a', '', 'bc'].map((f) => codec.encode(f)));
    expect(decodeAll(codec.createDecoder(), splitAt(bytes, [1, 2, 3])).frames).toEqual(['a', '', 'bc']);
    expect(() => codec.encode('a\0b')).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID' }));
    expect(() => new DelimiterCodec({ delimiters: 'aa' }).encode('a')).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_INVALID' }),
    );
    expect(() => codec.encode('123456789')).toThrow(FrameTooLargeError);
  });

  it('encodes only frames that decode back to themselves, with several delimiters', () => {
    // '\n' is appended, but 'a\r' + '\n' would decode as 'a' ending in the longer '\r\n'.
    const crlf = new DelimiterCodec({ delimiters: ['\n', '\r\n'] });
    expect(() => crlf.encode('a\r')).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID' }));
    expect(() => new DelimiterCodec({ delimiters: ['b', 'ab'] }).encode('xa')).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_INVALID' }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', '\r', '\n'), { maxLength: 6 }).map((a) => a.join('')),
        fc.uniqueArray(fc.constantFrom('\n', '\r\n', 'ab', 'b', 'a\r'), { minLength: 1, maxLength: 3 }),
        (frame, delimiters) => {
          const codec = new DelimiterCodec({ delimiters });
          let encoded: Uint8Array;
          try {
            encoded = codec.encode(frame);
          } catch (err) {
            expect(err).toMatchObject({ code: 'ERR_FRAME_INVALID' });
            return;
          }
          expect(codec.createDecoder().push(encoded)).toEqual([frame]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('raises ERR_FRAME_TRUNCATED when allowUnterminated is false and rejects bad options', () => {
    const d = new DelimiterCodec({ delimiters: ';', allowUnterminated: false }).createDecoder();
    expect(d.push(Buffer.from('a;b'))).toEqual(['a']);
    expect(() => d.end()).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED' }));
    expect(() => new DelimiterCodec({ delimiters: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new DelimiterCodec({ delimiters: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new DelimiterCodec({ delimiters: ';', encoding: 'hex' as 'utf8' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
