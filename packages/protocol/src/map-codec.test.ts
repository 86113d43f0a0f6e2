import { createStreamPair } from '@asyncnet/streams';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutsArb, decodeAll, splitAt } from './__fixtures__/chunking.js';
import { BytesCodec } from './bytes-codec.js';
import type { Codec } from './codec.js';
import { FrameError } from './errors.js';
import { framed } from './framed.js';
import { LengthPrefixedCodec } from './length-prefixed-codec.js';
import { LinesCodec } from './lines-codec.js';
import { type FrameMapper, mapCodec } from './map-codec.js';

const utf8 = new TextDecoder();
const json: FrameMapper<Uint8Array, unknown> = {
  decode: (bytes) => JSON.parse(utf8.decode(bytes)),
  encode: (value) => Buffer.from(JSON.stringify(value)),
};

/** A msgpack-like binary value: a u32 id and a UTF-8 name, no framing of its own. */
interface User {
  id: number;
  name: string;
}
const user: FrameMapper<Uint8Array, User> = {
  decode(bytes) {
    if (bytes.byteLength < 4) throw new RangeError(`user record of ${bytes.byteLength} bytes is too short`);
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { id: b.readUInt32BE(0), name: b.toString('utf8', 4) };
  },
  encode(u) {
    const name = Buffer.from(u.name);
    const out = Buffer.allocUnsafe(4 + name.length);
    out.writeUInt32BE(u.id, 0);
    name.copy(out, 4);
    return out;
  },
};

const wire = <T>(codec: Codec<T>, values: T[]) =>
  Buffer.concat(values.flatMap((v) => [codec.encode(v)].flat()));

describe('mapCodec', () => {
  it('carries JSON values in length-prefixed frames, at any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), cutsArb(2000), (values, cuts) => {
        const codec = mapCodec(new LengthPrefixedCodec({ lengthBytes: 2 }), json);
        const expected = values.map((v) => JSON.parse(JSON.stringify(v)));
        const got = decodeAll(codec.createDecoder(), splitAt(wire(codec, values), cuts));
        expect(got.error).toBeNull();
        expect(got.frames).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('carries binary records in varint-prefixed frames, at any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.nat({ max: 2 ** 32 - 1 }),
            name: fc.string({ unit: 'grapheme', maxLength: 40 }),
          }),
          {
            maxLength: 8,
          },
        ),
        cutsArb(600),
        (users, cuts) => {
          const codec = mapCodec(new LengthPrefixedCodec({ lengthBytes: 'varint' }), user);
          const got = decodeAll(codec.createDecoder(), splitAt(wire(codec, users), cuts));
          expect(got.error).toBeNull();
          expect(got.frames).toEqual(users);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('makes no second copy: the mapper sees views of the chunk, and its bytes are sent as they are', () => {
    const seen: Uint8Array[] = [];
    let made: Uint8Array | undefined;
    const spy: FrameMapper<Uint8Array, string> = {
      decode: (bytes) => {
        seen.push(bytes);
        return utf8.decode(bytes);
      },
      encode: (text) => {
        made = Buffer.from(text);
        return made;
      },
    };
    const codec = mapCodec(new LengthPrefixedCodec(), spy);
    const parts = codec.encode('hello') as Uint8Array[];
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(made); // the length prefix is a separate array, the payload not copied
    const chunk = Buffer.concat([...parts, ...(codec.encode('world') as Uint8Array[])]);
    expect(codec.createDecoder().push(chunk)).toEqual(['hello', 'world']);
    for (const view of seen) expect(view.buffer).toBe(chunk.buffer);
  });

  it('maps any codec: lines of numbers', () => {
    const numbers = mapCodec(new LinesCodec(), {
      decode: (line: string) => Number(line),
      encode: (n: number) => String(n),
    });
    const d = numbers.createDecoder();
    expect(d.push(Buffer.from('1\n2.5\n-3'))).toEqual([1, 2.5]);
    expect(d.end()).toEqual([-3]);
    expect(Buffer.from(numbers.encode(42) as Uint8Array).toString()).toBe('42\n');
  });

  it('reports a mapper that throws as ERR_FRAME_INVALID with the cause, after the values before it', () => {
    const codec = mapCodec(new BytesCodec(), json);
    const d = codec.createDecoder();
    expect(d.push(Buffer.from('[1]'))).toEqual([[1]]);
    const got = decodeAll(d, [Buffer.from('{bad')]);
    expect(got.error).toBeInstanceOf(FrameError);
    expect(got.error).toMatchObject({
      code: 'ERR_FRAME_INVALID',
      buffered: 4,
      message: expect.stringContaining('cannot decode a frame of 4 bytes'),
    });
    expect((got.error as FrameError).cause).toBeInstanceOf(SyntaxError);
    // Finished, like every decoder after an error.
    expect(() => d.push(Buffer.from('[2]'))).toThrow(got.error!);
    expect(() => d.end()).toThrow(got.error!);

    const lp = mapCodec(new LengthPrefixedCodec({ lengthBytes: 1 }), user);
    const bad = Buffer.concat([wire(lp, [{ id: 7, name: 'ok' }]), Buffer.from([2, 0, 0])]);
    expect(decodeAll(lp.createDecoder(), [bad])).toMatchObject({
      frames: [{ id: 7, name: 'ok' }],
      error: { code: 'ERR_FRAME_INVALID', cause: expect.any(RangeError) },
    });
  });

  it('passes on a FrameError from the mapper, and maps the frames a framing error carries', () => {
    const strict: FrameMapper<Uint8Array, string> = {
      decode: (bytes) => {
        if (bytes.byteLength === 0) throw new FrameError('ERR_FRAME_INVALID', 'empty message');
        return utf8.decode(bytes);
      },
      encode: (text) => Buffer.from(text),
    };
    const codec = mapCodec(new LengthPrefixedCodec({ lengthBytes: 1, maxFrameLength: 3 }), strict);
    expect(decodeAll(codec.createDecoder(), [Buffer.from([1, 0x61, 0])]).error).toMatchObject({
      message: 'empty message',
    });
    const tooLarge = decodeAll(codec.createDecoder(), [Buffer.from([1, 0x61, 1, 0x62, 9])]);
    expect(tooLarge).toMatchObject({ frames: ['a', 'b'], error: { code: 'ERR_FRAME_TOO_LARGE' } });
  });

  it('reports a value the mapper cannot encode as ERR_FRAME_INVALID, and the framing codec’s limits as they are', () => {
    const codec = mapCodec(new LengthPrefixedCodec({ lengthBytes: 1 }), json);
    expect(() => codec.encode(10n)).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_INVALID', cause: expect.any(TypeError) }),
    );
    expect(() => codec.encode('x'.repeat(300))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }),
    );
  });

  it('works with framed() over a connection', async () => {
    const [[r1, w1], [r2, w2]] = createStreamPair({ chunking: 'random', maxChunk: 7, seed: 3 });
    const codec = mapCodec(new LengthPrefixedCodec({ lengthBytes: 'varint' }), user);
    const a = framed(r1, w1, codec);
    const b = framed(r2, w2, codec);
    const users = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `user ${i} ${'é'.repeat(i)}` }));
    for (const u of users) await a.send(u);
    w1.writeEof();
    const got: User[] = [];
    for await (const u of b) got.push(u);
    expect(got).toEqual(users);
  });
});
