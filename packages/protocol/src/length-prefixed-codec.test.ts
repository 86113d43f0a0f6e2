import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, decodeAll, splitAt } from './__fixtures__/chunking.js';
import { FrameError, FrameTooLargeError } from './errors.js';
import { LengthPrefixedCodec, type LengthPrefixedCodecOptions } from './length-prefixed-codec.js';

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('LengthPrefixedCodec', () => {
  it('round-trips any frames for every header size and byte order, at any chunking', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const, 8 as const, 'varint' as const),
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
    // @ts-expect-error 5 is not a valid length field size
    expect(() => new LengthPrefixedCodec({ lengthBytes: 5 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: "lengthBytes must be 1, 2, 3, 4, 8 or 'varint', got 5",
      }),
    );
    const bads: unknown[] = [
      { maxFrameLength: 1.5 },
      { lengthFieldOffset: -1 },
      { lengthFieldOffset: 65_536 },
      { lengthAdjustment: 0.5 },
      { initialBytesToStrip: -1 },
      { initialBytesToStrip: 'all' },
      { byteOrder: 'native' },
      // No value of a 1-byte field reaches the end of the header.
      { lengthBytes: 1 as const, lengthAdjustment: -300 },
    ];
    for (const bad of bads) {
      expect(() => new LengthPrefixedCodec(bad as LengthPrefixedCodecOptions), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('LengthPrefixedCodec length fields', () => {
  const bytes = (frames: Uint8Array[]) => [...Buffer.concat(frames)];

  it('writes 3- and 8-byte fields in either byte order', () => {
    const p = Buffer.from('xy');
    expect(bytes(new LengthPrefixedCodec({ lengthBytes: 3 }).encode(p))).toEqual([0, 0, 2, 0x78, 0x79]);
    expect(bytes(new LengthPrefixedCodec({ lengthBytes: 3, byteOrder: 'little' }).encode(p))).toEqual([
      2, 0, 0, 0x78, 0x79,
    ]);
    const [be8] = new LengthPrefixedCodec({ lengthBytes: 8 }).encode(new Uint8Array(0x0102));
    expect([...be8!]).toEqual([0, 0, 0, 0, 0, 0, 1, 2]);
    const [le8] = new LengthPrefixedCodec({ lengthBytes: 8, byteOrder: 'little' }).encode(
      new Uint8Array(0x0102),
    );
    expect([...le8!]).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('writes varints as protobuf does (150 is 96 01, 300 is ac 02)', () => {
    const codec = new LengthPrefixedCodec({ lengthBytes: 'varint' });
    expect([...codec.encode(new Uint8Array(0))[0]!]).toEqual([0]);
    expect([...codec.encode(new Uint8Array(127))[0]!]).toEqual([0x7f]);
    expect([...codec.encode(new Uint8Array(150))[0]!]).toEqual([0x96, 0x01]);
    expect([...codec.encode(new Uint8Array(300))[0]!]).toEqual([0xac, 0x02]);
    expect([...codec.encode(new Uint8Array(2 ** 21))[0]!]).toEqual([0x80, 0x80, 0x80, 0x01]);
  });

  it('accepts a varint that is not the shortest (as protobuf does)', () => {
    const d = new LengthPrefixedCodec({ lengthBytes: 'varint' }).createDecoder();
    expect(d.push(Buffer.from([0x82, 0x80, 0x80, 0x00, 0x61, 0x62]))).toEqual([Buffer.from('ab')]);
  });

  it.each([
    [
      'ten continuation bytes',
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
      'longer than 10 bytes',
    ],
    [
      'a 10th byte above 1',
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
      'overflows 64 bits',
    ],
  ])('refuses a varint with %s (ERR_FRAME_INVALID) at every split', (_, wire, message) => {
    const codec = new LengthPrefixedCodec({ lengthBytes: 'varint' });
    const input = Buffer.from([0x01, 0x41, ...wire, 0x41]); // one good frame first
    for (let cut = 0; cut <= input.length; cut++) {
      const got = decodeAll(codec.createDecoder(), [input.subarray(0, cut), input.subarray(cut)]);
      expect(got.frames).toEqual(['A']);
      expect(got.error).toBeInstanceOf(FrameError);
      expect(got.error).toMatchObject({
        code: 'ERR_FRAME_INVALID',
        message: expect.stringContaining(message),
      });
    }
  });

  it.each([
    ['an 8-byte big-endian', { lengthBytes: 8 as const }, '0020000000000000', 2n ** 53n],
    [
      'an 8-byte little-endian',
      { lengthBytes: 8 as const, byteOrder: 'little' as const },
      'ffffffffffffffff',
      2n ** 64n - 1n,
    ],
    ['a varint', { lengthBytes: 'varint' as const }, 'ffffffffffffffffff01', 2n ** 64n - 1n],
    ['a 9-byte varint', { lengthBytes: 'varint' as const }, '808080808080808010', 2n ** 60n],
  ])('refuses %s length above Number.MAX_SAFE_INTEGER with FrameTooLargeError', (_, options, hex, exact) => {
    const codec = new LengthPrefixedCodec(options);
    const input = Buffer.from(hex, 'hex');
    for (let cut = 0; cut <= input.length; cut++) {
      const got = decodeAll(codec.createDecoder(), [input.subarray(0, cut), input.subarray(cut)]);
      expect(got.error).toBeInstanceOf(FrameTooLargeError);
      expect(got.error!.message).toContain(`length field ${exact} exceeds Number.MAX_SAFE_INTEGER`);
      expect((got.error as FrameTooLargeError).length).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    }
  });

  it('decodes the largest safe 8-byte length up to maxFrameLength, not past it', () => {
    const codec = new LengthPrefixedCodec({ lengthBytes: 8, maxFrameLength: 10 });
    expect(() => codec.createDecoder().push(Buffer.from('001fffffffffffff', 'hex'))).toThrow(
      expect.objectContaining({
        code: 'ERR_FRAME_TOO_LARGE',
        length: Number.MAX_SAFE_INTEGER,
        maxLength: 10,
      }),
    );
    const wire = Buffer.concat(codec.encode(Buffer.from('0123456789')));
    expect(decodeAll(codec.createDecoder(), [wire]).frames).toEqual(['0123456789']);
  });
});
