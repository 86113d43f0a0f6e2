import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, decodeAll, splitAt } from './__fixtures__/chunking.js';
import { FrameTooLargeError } from './errors.js';
import { LengthPrefixedCodec } from './length-prefixed-codec.js';

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('LengthPrefixedCodec', () => {
  it('round-trips any frames for every header size and byte order, at any chunking', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const, 4 as const),
        fc.constantFrom('big' as const, 'little' as const),
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        cutsArb(4000),
        (lengthBytes, byteOrder, payloads, cuts) => {
          const codec = new LengthPrefixedCodec({ lengthBytes, byteOrder });
          const frames = payloads.map((p) => (lengthBytes === 1 ? p.subarray(0, 255) : p));
          const bytes = Buffer.concat(frames.flatMap((f) => codec.encode(f)));
          const got = decodeAll(codec.createDecoder(), splitAt(bytes, cuts));
          expect(got.error).toBeNull();
          expect(got.frames).toEqual(frames.map(latin1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes the header in the chosen byte order', () => {
    const [le] = new LengthPrefixedCodec({ lengthBytes: 2, byteOrder: 'little' }).encode(new Uint8Array(258));
    expect([...le!]).toEqual([2, 1]);
    const [be] = new LengthPrefixedCodec().encode(new Uint8Array(258));
    expect([...be!]).toEqual([0, 0, 1, 2]);
  });

  it('rejects an oversized header before buffering its payload', () => {
    const d = new LengthPrefixedCodec({ maxFrameLength: 100 }).createDecoder();
    const ok = Buffer.from([0, 0, 0, 1, 0x41]);
    const bad = Buffer.from([0, 0, 0, 101]);
    try {
      d.push(Buffer.concat([ok, bad]));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FrameTooLargeError);
      expect(err).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', length: 101, maxLength: 100 });
      expect((err as FrameTooLargeError).frames.map((f) => latin1(f as Uint8Array))).toEqual(['A']);
    }
    expect(d.bufferedSize).toBe(0);
  });

  it('allocates payload memory as bytes arrive, not as the header announces', () => {
    const codec = new LengthPrefixedCodec(); // 8 MiB maximum
    const header = Buffer.from([0, 0x80, 0, 0]); // announces exactly 8 MiB
    const decoders = [];
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 32; i++) {
      const d = codec.createDecoder();
      expect(d.push(Buffer.concat([header, Buffer.from('x')]))).toEqual([]);
      decoders.push(d);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    // Reserving the announced length would be 32 x 8 MiB = 256 MiB for 160 bytes received.
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    expect(decoders[0]!.bufferedSize).toBe(5);
  });

  it('grows a payload that spans many chunks without losing or reordering bytes', () => {
    const codec = new LengthPrefixedCodec();
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) % 251;
    const wire = Buffer.concat(codec.encode(payload));
    const d = codec.createDecoder();
    const frames: Uint8Array[] = [];
    for (let off = 0; off < wire.length; off += 999) frames.push(...d.push(wire.subarray(off, off + 999)));
    expect(frames).toHaveLength(1);
    expect(Buffer.compare(Buffer.from(frames[0]!), payload)).toBe(0);
    expect(d.bufferedSize).toBe(0);
    expect(d.end()).toEqual([]);
  });

  it('caps maxFrameLength at what the header can express', () => {
    expect(new LengthPrefixedCodec({ lengthBytes: 1 }).maxFrameLength).toBe(255);
    expect(() => new LengthPrefixedCodec({ lengthBytes: 1 }).encode(new Uint8Array(256))).toThrow(
      FrameTooLargeError,
    );
  });

  it('raises ERR_FRAME_TRUNCATED for a stream cut inside a header or a payload', () => {
    const codec = new LengthPrefixedCodec();
    const whole = Buffer.concat(codec.encode(Buffer.from('hello')));
    for (let cut = 1; cut < whole.length; cut++) {
      const d = codec.createDecoder();
      expect(d.push(whole.subarray(0, cut))).toEqual([]);
      expect(d.bufferedSize).toBe(cut);
      expect(() => d.end()).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED', buffered: cut }));
    }
  });

  it('rejects bad options', () => {
    // @ts-expect-error 3 is not a valid header size
    expect(() => new LengthPrefixedCodec({ lengthBytes: 3 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'lengthBytes must be 1, 2 or 4, got 3',
      }),
    );
    expect(() => new LengthPrefixedCodec({ maxFrameLength: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
