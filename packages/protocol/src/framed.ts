import type { ReadOptions, StreamReader, StreamWriter } from '@asyncnet/streams';
import type { Codec, Decoder } from './codec.js';
import { FrameError } from './errors.js';

/** Bytes asked for per read while decoding. */
const READ_SIZE = 65536;

/**
 * A reader/writer pair seen as a stream of frames; made by {@link framed}.
 *
 * @example
 * ```ts
 * const conn = framed(reader, writer, new JsonLinesCodec());
 * await conn.send({ op: 'hello' });
 * for await (const msg of conn) console.log(msg);
 * ```
 */
export interface Framed<TFrame> extends AsyncIterable<TFrame> {
  /**
   * Reads the next frame.
   * @param options - `signal` to cancel (cancel-safe: no bytes are lost)
   * @returns the frame, or `null` once the peer has ended the stream cleanly
   * @throws {@link FrameTooLargeError} / {@link FrameError} for bad input (after the frames that
   *   preceded it); every later call throws the same error. The connection stays open: close
   *   or abort it. Connection errors from the reader pass through.
   */
  read(options?: ReadOptions): Promise<TFrame | null>;
  /**
   * Encodes and writes one frame, then waits for the write buffer to drain (back-pressure).
   * @param frame - the frame
   * @returns resolves when the frame may be followed by the next one
   * @throws whatever the codec's `encode()` throws (nothing is written then), the writer's errors
   */
  send(frame: TFrame): Promise<void>;
  /** Closes the connection (queued frames are flushed first) and waits until it is closed. */
  close(): Promise<void>;
  /** The reader underneath (do not read it while using this object). */
  readonly reader: StreamReader;
  /** The writer underneath. */
  readonly writer: StreamWriter;
}

class FramedImpl<TFrame> implements Framed<TFrame> {
  readonly reader: StreamReader;
  readonly writer: StreamWriter;
  readonly #codec: Codec<TFrame>;
  readonly #decoder: Decoder<TFrame>;
  #queue: TFrame[] = [];
  #head = 0;
  #ended = false;
  #error: unknown = null;

  constructor(reader: StreamReader, writer: StreamWriter, codec: Codec<TFrame>) {
    this.reader = reader;
    this.writer = writer;
    this.#codec = codec;
    this.#decoder = codec.createDecoder();
  }

  async read(options?: ReadOptions): Promise<TFrame | null> {
    for (;;) {
      if (this.#head < this.#queue.length) {
        const frame = this.#queue[this.#head++]!;
        if (this.#head === this.#queue.length) {
          this.#queue = [];
          this.#head = 0;
        }
        return frame;
      }
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      const chunk = await this.reader.read(READ_SIZE, options);
      try {
        if (chunk.byteLength === 0) {
          this.#ended = true;
          this.#queue = this.#decoder.end();
        } else {
          this.#queue = this.#decoder.push(chunk);
        }
      } catch (err) {
        this.#error = err;
        this.#queue = err instanceof FrameError ? ([...err.frames] as TFrame[]) : [];
      }
      this.#head = 0;
    }
  }

  async send(frame: TFrame): Promise<void> {
    const bytes = this.#codec.encode(frame);
    if (Array.isArray(bytes)) this.writer.writeLines(bytes);
    else this.writer.write(bytes);
    await this.writer.drain();
  }

  async close(): Promise<void> {
    this.writer.close();
    await this.writer.waitClosed();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TFrame> {
    for (;;) {
      const frame = await this.read();
      if (frame === null) return;
      yield frame;
    }
  }
}

/**
 * Wraps a reader/writer pair with a codec: read and send whole frames instead of bytes.
 * Memory stays bounded by the codec's maximum frame size plus one read.
 *
 * @param reader - the connection's reader (read it only through the result from now on)
 * @param writer - the connection's writer
 * @param codec - e.g. `new LinesCodec()`, `new JsonLinesCodec()`, `new LengthPrefixedCodec()`
 * @returns a {@link Framed} connection
 *
 * @example
 * ```ts
 * const [reader, writer] = await openConnection('127.0.0.1', port);
 * const conn = framed(reader, writer, new JsonLinesCodec<{ n: number }>());
 * await conn.send({ n: 1 });
 * console.log(await conn.read()); // { n: 2 }
 * ```
 */
export function framed<TFrame>(
  reader: StreamReader,
  writer: StreamWriter,
  codec: Codec<TFrame>,
): Framed<TFrame> {
  return new FramedImpl(reader, writer, codec);
}
