import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, decodeAll, splitAt } from './__fixtures__/chunking.js';
import { FrameError, FrameTooLargeError } from './errors.js';
import { LengthPrefixedCodec, type LengthPrefixedCodecOptions } from './length-prefixed-codec.js';

const hex = (...parts: string[]) => Buffer.from(parts.join(''), 'hex');
const HELLO = Buffer.from('HELLO, WORLD').toString('hex');
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/**
 * The worked examples of netty's LengthFieldBasedFrameDecoder javadoc, in its terms
 * (lengthFieldLength is our lengthBytes); every one strips or keeps bytes explicitly.
 */
const netty: {
  name: string;
  options: LengthPrefixedCodecOptions;
  before: Buffer;
  after: Buffer;
  encodes: boolean;
}[] = [
  {
    name: '2 bytes length field at offset 0, do not strip header',
    options: { lengthFieldOffset: 0, lengthBytes: 2, lengthAdjustment: 0, initialBytesToStrip: 0 },
    before: hex('000C', HELLO),
    after: hex('000C', HELLO),
    encodes: true,
  },
  {
    name: '2 bytes length field at offset 0, strip header',
    options: { lengthFieldOffset: 0, lengthBytes: 2, lengthAdjustment: 0, initialBytesToStrip: 2 },
    before: hex('000C', HELLO),
    after: hex(HELLO),
    encodes: true,
  },
  {
    name: '2 bytes length field at offset 0, do not strip header, the length field represents the length of the whole message',
    options: { lengthFieldOffset: 0, lengthBytes: 2, lengthAdjustment: -2, initialBytesToStrip: 0 },
    before: hex('000E', HELLO),
    after: hex('000E', HELLO),
    encodes: true,
  },
  {
    name: '3 bytes length field at the end of 5 bytes header, do not strip header',
    options: { lengthFieldOffset: 2, lengthBytes: 3, lengthAdjustment: 0, initialBytesToStrip: 0 },
    before: hex('CAFE', '00000C', HELLO),
    after: hex('CAFE', '00000C', HELLO),
    encodes: true,
  },
  {
    name: '3 bytes length field at the beginning of 5 bytes header, do not strip header',
    options: { lengthFieldOffset: 0, lengthBytes: 3, lengthAdjustment: 2, initialBytesToStrip: 0 },
    before: hex('00000C', 'CAFE', HELLO),
    after: hex('00000C', 'CAFE', HELLO),
    encodes: true,
  },
  {
    name: '2 bytes length field at offset 1 in the middle of 4 bytes header, strip the first header field and the length field',
    options: { lengthFieldOffset: 1, lengthBytes: 2, lengthAdjustment: 1, initialBytesToStrip: 3 },
    before: hex('CA', '000C', 'FE', HELLO),
    after: hex('FE', HELLO),
    encodes: false, // HDR1 is stripped: the encoder cannot know it
  },
  {
    name: '2 bytes length field at offset 1 in the middle of 4 bytes header, strip the first header field and the length field, the length field represents the length of the whole message',
    options: { lengthFieldOffset: 1, lengthBytes: 2, lengthAdjustment: -3, initialBytesToStrip: 3 },
    before: hex('CA', '0010', 'FE', HELLO),
    after: hex('FE', HELLO),
    encodes: false,
  },
];

describe("LengthPrefixedCodec: netty's LengthFieldBasedFrameDecoder examples", () => {
  it('transcribes the javadoc sizes (14, 17 and 16 bytes before; 14, 12, 17 and 13 after)', () => {
    expect(netty.map((e) => [e.before.length, e.after.length])).toEqual([
      [14, 14],
      [14, 12],
      [14, 14],
      [17, 17],
      [17, 17],
      [16, 13],
      [16, 13],
    ]);
  });

  for (const example of netty) {
    it(`decodes byte-for-byte under any chunking: ${example.name}`, () => {
      const codec = new LengthPrefixedCodec(example.options);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 6 }), cutsArb(120), (copies, cuts) => {
          const wire = Buffer.concat(Array.from({ length: copies }, () => example.before));
          const got = decodeAll(codec.createDecoder(), splitAt(wire, cuts));
          expect(got.error).toBeNull();
          expect(got.frames).toEqual(Array.from({ length: copies }, () => latin1(example.after)));
        }),
        { numRuns: 200 },
      );
    });

    it(`${example.encodes ? 'encodes the frame back to the wire bytes' : 'refuses to encode (decode-only)'}: ${example.name}`, () => {
      const codec = new LengthPrefixedCodec(example.options);
      expect(codec.canEncode).toBe(example.encodes);
      if (example.encodes) {
        expect(Buffer.concat(codec.encode(example.after)).equals(example.before)).toBe(true);
        if (example.options.initialBytesToStrip === 0) {
          // The length field the frame carries is recomputed, never trusted, and never written.
          const at = example.options.lengthFieldOffset ?? 0;
          const stale = Buffer.from(example.after).fill(0xff, at, at + 2);
          const copy = Buffer.from(stale);
          expect(Buffer.concat(codec.encode(stale)).equals(example.before)).toBe(true);
          expect(stale.equals(copy)).toBe(true);
        }
      } else {
        expect(() => codec.encode(example.after)).toThrow(
          expect.objectContaining({
            code: 'ERR_INVALID_ARGUMENT',
            message: expect.stringContaining('cannot encode'),
          }),
        );
      }
    });
  }

  it('skips bytes between the length field and the payload without buffering them (tokio example 7)', () => {
    const codec = new LengthPrefixedCodec({ lengthBytes: 3, lengthAdjustment: 1, initialBytesToStrip: 4 });
    const wire = hex('00000B', 'FF', Buffer.from('Hello world').toString('hex'));
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(decodeAll(codec.createDecoder(), [wire.subarray(0, cut), wire.subarray(cut)]).frames).toEqual([
        'Hello world',
      ]);
    }
    expect(codec.canEncode).toBe(false);
  });

  it('counts the kept header bytes in maxFrameLength', () => {
    const codec = new LengthPrefixedCodec({ lengthBytes: 2, initialBytesToStrip: 0, maxFrameLength: 13 });
    expect(() => codec.createDecoder().push(hex('000C'))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', length: 14, maxLength: 13 }),
    );
    expect(() => codec.encode(Buffer.alloc(14))).toThrow(FrameTooLargeError);
  });

  it('refuses a length that ends the frame inside its header or before the strip point', () => {
    const whole = new LengthPrefixedCodec({ lengthBytes: 2, lengthAdjustment: -2, initialBytesToStrip: 0 });
    expect(() => whole.createDecoder().push(hex('0001'))).toThrow(
      expect.objectContaining({
        code: 'ERR_FRAME_INVALID',
        message: expect.stringContaining('shorter than its 2-byte header'),
      }),
    );
    const strip = new LengthPrefixedCodec({ lengthBytes: 1, initialBytesToStrip: 4 });
    expect(() => strip.createDecoder().push(hex('02'))).toThrow(
      expect.objectContaining({
        code: 'ERR_FRAME_INVALID',
        message: expect.stringContaining('initialBytesToStrip (4)'),
      }),
    );
  });

  it('refuses to encode a frame shorter than the header bytes it must carry', () => {
    const codec = new LengthPrefixedCodec({ lengthBytes: 3, lengthFieldOffset: 2, initialBytesToStrip: 0 });
    expect(() => codec.encode(hex('CAFE00'))).toThrow(
      expect.objectContaining({
        code: 'ERR_FRAME_INVALID',
        message: expect.stringContaining('shorter than the 5 bytes'),
      }),
    );
    const varint = new LengthPrefixedCodec({ lengthBytes: 'varint', lengthAdjustment: 2 });
    expect(() => varint.encode(hex('CA'))).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID' }));
    expect(Buffer.concat(varint.encode(hex('CAFE'))).toString('hex')).toBe('00cafe');
  });
});

// --- random layouts -------------------------------------------------------------------------

type Field = 1 | 2 | 3 | 4 | 8 | 'varint';

/** A length field written by hand (BigInt), independent of the codec's own writer. */
function field(value: number, size: Field, little: boolean): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  if (size === 'varint') {
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
    return out;
  }
  for (let i = 0; i < size; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return little ? out : out.reverse();
}

const layoutArb = fc.record({
  lengthBytes: fc.constantFrom<Field>(1, 2, 3, 4, 8, 'varint'),
  byteOrder: fc.constantFrom('big' as const, 'little' as const),
  lengthFieldOffset: fc.nat(5),
  lengthAdjustment: fc.integer({ min: -12, max: 12 }),
  initialBytesToStrip: fc.oneof(fc.constant('header' as const), fc.nat(16)),
});

interface Wire {
  wire: Buffer;
  frames: Buffer[];
}

/** Builds frames for `layout` by its definition: header through the length field, then value + adjustment bytes. */
function build(
  layout: LengthPrefixedCodecOptions & { lengthBytes: Field },
  specs: { prefix: Uint8Array; rest: Uint8Array }[],
): Wire {
  const offset = layout.lengthFieldOffset ?? 0;
  const adjustment = layout.lengthAdjustment ?? 0;
  const wires: Buffer[] = [];
  const frames: Buffer[] = [];
  for (const { prefix, rest } of specs) {
    const value = rest.length - adjustment;
    const size = layout.lengthBytes;
    if (value < 0 || (size !== 'varint' && value >= 2 ** (8 * size))) continue;
    const head = [...prefix.subarray(0, offset), ...field(value, size, layout.byteOrder === 'little')];
    const strip =
      layout.initialBytesToStrip === 'header' ? head.length : (layout.initialBytesToStrip ?? head.length);
    const wire = Buffer.concat([Buffer.from(head), rest]);
    if (wire.length < strip) continue;
    wires.push(wire);
    frames.push(wire.subarray(strip));
  }
  return { wire: Buffer.concat(wires), frames };
}

const specsArb = fc.array(
  fc.record({
    prefix: fc.uint8Array({ minLength: 5, maxLength: 5 }),
    rest: fc.uint8Array({ maxLength: 300 }),
  }),
  {
    maxLength: 8,
  },
);

describe('LengthPrefixedCodec: random layouts', () => {
  it('decodes frames built by the layout definition, at any chunking, and encodes them back where defined', () => {
    fc.assert(
      fc.property(layoutArb, specsArb, cutsArb(3000), (layout, specs, cuts) => {
        const codec = new LengthPrefixedCodec(layout);
        const { wire, frames } = build(layout, specs);
        const got = decodeAll(codec.createDecoder(), splitAt(wire, cuts));
        expect(got.error).toBeNull();
        expect(got.frames).toEqual(frames.map(latin1));

        const offset = layout.lengthFieldOffset;
        const strip = layout.initialBytesToStrip;
        const stripsOnlyLengthField =
          layout.lengthBytes === 'varint'
            ? offset === 0 && strip === 'header'
            : strip === 0 || (offset === 0 && (strip === 'header' || strip <= layout.lengthBytes));
        expect(codec.canEncode).toBe(stripsOnlyLengthField);
        if (codec.canEncode) {
          expect(Buffer.concat(frames.flatMap((f) => codec.encode(f))).equals(wire)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips random payloads through encode and decode for every encodable layout', () => {
    fc.assert(
      fc.property(
        layoutArb.filter((l) => new LengthPrefixedCodec(l).canEncode),
        fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 10 }),
        cutsArb(4000),
        (layout, payloads, cuts) => {
          const codec = new LengthPrefixedCodec(layout);
          const sendable = payloads.filter((p) => {
            try {
              codec.encode(p);
              return true;
            } catch {
              return false; // shorter than the header bytes it must carry, or too long for the field
            }
          });
          const wire = Buffer.concat(sendable.flatMap((p) => codec.encode(p)));
          const got = decodeAll(codec.createDecoder(), splitAt(wire, cuts));
          expect(got.error).toBeNull();
          expect(got.frames).toHaveLength(sendable.length);
          // Encoding the decoded frames gives the same bytes again (the length fields agree).
          const again = Buffer.concat(
            got.frames.flatMap((f) => codec.encode(Buffer.from(f as unknown as string, 'latin1'))),
          );
          expect(again.equals(wire)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives a typed error or frames for garbage, the same at every chunking, holding at most the maximum', () => {
    const byteArb = fc.oneof(
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 255 }),
      fc.constant(0x80),
    );
    fc.assert(
      fc.property(
        layoutArb,
        fc.integer({ min: 0, max: 64 }),
        fc.array(byteArb, { maxLength: 400 }).map((b) => Buffer.from(b)),
        cutsArb(400),
        (layout, maxFrameLength, garbage, cuts) => {
          const codec = new LengthPrefixedCodec({ ...layout, maxFrameLength });
          const whole = decodeAll(codec.createDecoder(), [garbage]);

          const d = codec.createDecoder();
          const strip = layout.initialBytesToStrip;
          const bound =
            codec.maxFrameLength + Math.max(strip === 'header' ? 0 : strip, layout.lengthFieldOffset + 10);
          const chunks = splitAt(garbage, cuts).map((c) => {
            const frames = [...safePush(d, c)];
            expect(d.bufferedSize).toBeLessThanOrEqual(bound);
            return frames;
          });
          expect(chunks.length).toBeGreaterThan(0);
          const split = decodeAll(codec.createDecoder(), splitAt(garbage, cuts));
          expect(split.frames).toEqual(whole.frames);
          if (whole.error === null) {
            expect(split.error).toBeNull();
          } else {
            expect(whole.error).toBeInstanceOf(FrameError);
            expect(['ERR_FRAME_TOO_LARGE', 'ERR_FRAME_INVALID', 'ERR_FRAME_TRUNCATED']).toContain(
              (whole.error as FrameError).code,
            );
            expect(split.error).toMatchObject({
              code: (whole.error as FrameError).code,
              message: whole.error.message,
            });
          }
          for (const f of whole.frames)
            expect((f as unknown as string).length).toBeLessThanOrEqual(codec.maxFrameLength);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

/** push(), treating a decoder error as "no more frames" (the error itself is checked elsewhere). */
function safePush(d: { push(c: Uint8Array): Uint8Array[] }, chunk: Uint8Array): Uint8Array[] {
  try {
    return d.push(chunk);
  } catch (err) {
    expect(err).toBeInstanceOf(FrameError);
    return [];
  }
}
