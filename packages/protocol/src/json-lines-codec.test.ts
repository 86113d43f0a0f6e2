import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, decodeAll, splitAt } from './__fixtures__/chunking.js';
import { FrameError, FrameTooLargeError } from './errors.js';
import { JsonLinesCodec } from './json-lines-codec.js';

describe('JsonLinesCodec', () => {
  it('round-trips any JSON values at any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 10 }),
        cutsArb(2000),
        (values, cuts) => {
          const codec = new JsonLinesCodec();
          const bytes = Buffer.concat(values.map((v) => codec.encode(v)));
          const got = decodeAll(codec.createDecoder(), splitAt(bytes, cuts));
          expect(got.error).toBeNull();
          // JSON has no -0; compare through a JSON round trip.
          expect(got.frames).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('skips blank lines and accepts a last unterminated value', () => {
    const d = new JsonLinesCodec().createDecoder();
    expect(d.push(Buffer.from('{"a":1}\r\n\n  \n[2]'))).toEqual([{ a: 1 }]);
    expect(d.end()).toEqual([[2]]);
  });

  it('raises ERR_FRAME_INVALID with the parser error as cause, keeping earlier frames', () => {
    const d = new JsonLinesCodec().createDecoder();
    try {
      d.push(Buffer.from('1\n{oops}\n2\n'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FrameError);
      expect(err).toMatchObject({
        code: 'ERR_FRAME_INVALID',
        message: 'invalid json line "{oops}"',
        frames: [1],
      });
      expect((err as Error).cause).toBeInstanceOf(SyntaxError);
      expect(() => d.push(Buffer.from('3\n'))).toThrow(err as Error);
    }
  });

  it('raises ERR_FRAME_TRUNCATED for a value cut off by the end of the stream', () => {
    const d = new JsonLinesCodec().createDecoder();
    expect(d.push(Buffer.from('{"a":1}\n{"b":'))).toEqual([{ a: 1 }]);
    expect(() => d.end()).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED' }));
  });

  it('bounds lines by maxLength in both directions', () => {
    const codec = new JsonLinesCodec({ maxLength: 8 });
    expect(() => codec.encode('123456789')).toThrow(FrameTooLargeError);
    const d = codec.createDecoder();
    expect(() => d.push(Buffer.from('"12345678901234'))).toThrow(FrameTooLargeError);
    expect(() => codec.encode(undefined)).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID' }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => codec.encode(cyclic)).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID' }));
  });
});
