import type { Codec, Decoder } from './codec.js';
import { FrameError } from './errors.js';

/**
 * Converts one frame to a value and back: a serialiser (JSON, msgpack, protobuf, …) for
 * {@link mapCodec}. Both directions may throw; `mapCodec` reports that as a {@link FrameError}.
 *
 * @example
 * ```ts
 * const utf8 = new TextDecoder();
 * const json: FrameMapper<Uint8Array, unknown> = {
 *   decode: (bytes) => JSON.parse(utf8.decode(bytes)),
 *   encode: (value) => Buffer.from(JSON.stringify(value)),
 * };
 * ```
 */
export interface FrameMapper<TFrame, TValue> {
  /**
   * @param frame - one frame as the underlying codec decoded it (binary frames may be views of
   *   the received chunk: read them, do not keep them past the call unless copied)
   * @returns the value it carries
   */
  decode(frame: TFrame): TValue;
  /**
   * @param value - a value to send
   * @returns the frame that carries it, handed to the underlying codec's `encode()`
   */
  encode(value: TValue): TFrame;
}

const sizeOf = (frame: unknown): number =>
  frame instanceof Uint8Array ? frame.byteLength : typeof frame === 'string' ? Buffer.byteLength(frame) : 0;

const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

class MappedDecoder<TFrame, TValue> implements Decoder<TValue> {
  readonly #inner: Decoder<TFrame>;
  readonly #mapper: FrameMapper<TFrame, TValue>;
  #error: FrameError | null = null;

  constructor(inner: Decoder<TFrame>, mapper: FrameMapper<TFrame, TValue>) {
    this.#inner = inner;
    this.#mapper = mapper;
  }

  push(chunk: Uint8Array): TValue[] {
    if (this.#error !== null) throw this.#error;
    let frames: TFrame[];
    try {
      frames = this.#inner.push(chunk);
    } catch (err) {
      throw this.#innerFailed(err);
    }
    return this.#decodeAll(frames);
  }

  end(): TValue[] {
    if (this.#error !== null) throw this.#error;
    let frames: TFrame[];
    try {
      frames = this.#inner.end();
    } catch (err) {
      throw this.#innerFailed(err);
    }
    return this.#decodeAll(frames);
  }

  /** The frames completed before a framing error still count: maps them for `err.frames`. */
  #innerFailed(err: unknown): unknown {
    if (err instanceof FrameError) {
      const values: TValue[] = [];
      try {
        for (const f of err.frames as TFrame[]) values.push(this.#mapper.decode(f));
      } catch {
        // The framing error is the one to report; values up to the unmappable frame stay.
      }
      err.frames = values;
      this.#error = err;
    }
    return err;
  }

  #decodeAll(frames: TFrame[]): TValue[] {
    const out: TValue[] = [];
    for (const frame of frames) {
      try {
        out.push(this.#mapper.decode(frame));
      } catch (cause) {
        const err =
          cause instanceof FrameError
            ? cause
            : new FrameError(
                'ERR_FRAME_INVALID',
                `cannot decode a frame of ${sizeOf(frame)} bytes: ${messageOf(cause)}`,
                sizeOf(frame),
                { cause },
              );
        err.frames = out;
        this.#error = err;
        throw err;
      }
    }
    return out;
  }
}

/**
 * Composes a framing codec with a {@link FrameMapper}: frames decoded by `codec` go through
 * `mapper.decode`, values to send through `mapper.encode` and then `codec.encode`. Nothing is
 * copied in between: the mapper sees the frames exactly as `codec` returns them (views of the
 * chunk where the codec gives views), and its encoded bytes go to `codec.encode` as they are
 * (a length prefix is sent as a separate array, not concatenated).
 *
 * A mapper that throws ends the decoder like any bad frame: a {@link FrameError}
 * `ERR_FRAME_INVALID` with the mapper's error as `cause` (a `FrameError` the mapper throws is
 * passed on as it is), and the values decoded before it in `error.frames`.
 *
 * @param codec - the framing codec (for example {@link LengthPrefixedCodec})
 * @param mapper - converts each frame to a value and back
 * @returns a codec of values
 * @throws nothing itself; the returned codec's `encode()` throws a {@link FrameError}
 *   `ERR_FRAME_INVALID` when `mapper.encode` fails (a `FrameError` it throws is passed on), and
 *   whatever `codec.encode` throws
 * @example
 * ```ts
 * const utf8 = new TextDecoder();
 * const codec = mapCodec(new LengthPrefixedCodec(), {
 *   decode: (bytes): unknown => JSON.parse(utf8.decode(bytes)),
 *   encode: (value: unknown) => Buffer.from(JSON.stringify(value)),
 * });
 * codec.createDecoder().push(Buffer.concat(codec.encode({ hi: 1 }) as Uint8Array[])); // [{ hi: 1 }]
 * ```
 */
export function mapCodec<TFrame, TValue>(
  codec: Codec<TFrame>,
  mapper: FrameMapper<TFrame, TValue>,
): Codec<TValue> {
  return {
    createDecoder: () => new MappedDecoder(codec.createDecoder(), mapper),
    encode(value: TValue): Uint8Array | Uint8Array[] {
      let frame: TFrame;
      try {
        frame = mapper.encode(value);
      } catch (cause) {
        if (cause instanceof FrameError) throw cause;
        throw new FrameError('ERR_FRAME_INVALID', `cannot encode a value: ${messageOf(cause)}`, 0, { cause });
      }
      return codec.encode(frame);
    },
  };
}
