import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, splitAt } from './__fixtures__/chunking.js';
import { BytesCodec } from './bytes-codec.js';

describe('BytesCodec', () => {
  it('returns each chunk as it arrives, and encodes a frame as itself', () => {
    const codec = new BytesCodec();
    const d = codec.createDecoder();
    const chunk = Buffer.from('hello');
    const [frame] = d.push(chunk);
    expect(frame).toBe(chunk);
    expect(d.push(Buffer.alloc(0))).toEqual([]);
    expect(d.bufferedSize).toBe(0);
    expect(d.end()).toEqual([]);
    expect(codec.encode(chunk)).toBe(chunk);
    expect(codec.capacity).toBe(Number.POSITIVE_INFINITY);
  });

  it('splits chunks longer than capacity into views, never losing or reordering a byte', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.uint8Array({ maxLength: 600 }),
        cutsArb(600),
        (capacity, bytes, cuts) => {
          const d = new BytesCodec({ capacity }).createDecoder();
          const frames = splitAt(bytes, cuts).flatMap((c) => d.push(c));
          for (const f of frames) {
            expect(f.byteLength).toBeGreaterThan(0);
            expect(f.byteLength).toBeLessThanOrEqual(capacity);
            expect(f.buffer).toBe(bytes.buffer); // a view, not a copy
          }
          expect(Buffer.concat(frames).equals(bytes)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      expect(() => new BytesCodec({ capacity }), String(capacity)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(new BytesCodec({ capacity: 4096 }).capacity).toBe(4096);
  });
});
