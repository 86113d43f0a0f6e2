import type { Codec, Decoder } from './codec.js';
import { FrameError, FrameTooLargeError } from './errors.js';
import { LinesCodec, type LinesDecoder } from './lines-codec.js';

/** Options of {@link JsonLinesCodec}. */
export interface JsonLinesCodecOptions {
  /**
   * Longest line (one encoded JSON value) in bytes, terminator excluded.
   * @default 1048576 (1 MiB)
   */
  maxLength?: number;
}

class JsonLinesDecoder implements Decoder<unknown> {
  readonly #lines: LinesDecoder<string>;
  #error: FrameError | null = null;

  constructor(lines: LinesDecoder<string>) {
    this.#lines = lines;
  }

  get bufferedSize(): number {
    return this.#lines.bufferedSize;
  }

  push(chunk: Uint8Array): unknown[] {
    if (this.#error !== null) throw this.#error;
    let lines: string[];
    try {
      lines = this.#lines.push(chunk);
    } catch (err) {
      // Lines that completed before the bad one still count: parse them for err.frames.
      if (err instanceof FrameError) {
        err.frames = this.#parseAll(err.frames as string[], []);
        this.#error = err;
      }
      throw err;
    }
    return this.#parseAll(lines, []);
  }

  end(): unknown[] {
    if (this.#error !== null) throw this.#error;
    const last = this.#lines.end();
    if (last.length === 0 || last[0]!.trim() === '') return [];
    try {
      return [JSON.parse(last[0]!)];
    } catch (cause) {
      const err = new FrameError(
        'ERR_FRAME_TRUNCATED',
        `stream ended inside a json line of ${Buffer.byteLength(last[0]!)} bytes`,
        Buffer.byteLength(last[0]!),
        { cause },
      );
      this.#error = err;
      throw err;
    }
  }

  #parseAll(lines: string[], out: unknown[]): unknown[] {
    for (const line of lines) {
      if (line.length === 0 || line.trim() === '') continue;
      try {
        out.push(JSON.parse(line));
      } catch (cause) {
        const preview = line.length > 40 ? `${line.slice(0, 40)}…` : line;
        const err = new FrameError(
          'ERR_FRAME_INVALID',
          `invalid json line ${JSON.stringify(preview)}`,
          line.length,
          {
            cause,
          },
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
 * Newline-delimited JSON (JSON Lines / NDJSON): one JSON value per line. Blank lines are
 * skipped; a line that is not valid JSON raises {@link FrameError} `ERR_FRAME_INVALID` (with the
 * parser's error as `cause`); a last line cut off by the end of the stream raises
 * `ERR_FRAME_TRUNCATED`.
 *
 * @example
 * ```ts
 * const codec = new JsonLinesCodec();
 * codec.createDecoder().push(codec.encode({ hello: 'world' })); // [{ hello: 'world' }]
 * ```
 */
export class JsonLinesCodec<TValue = unknown> implements Codec<TValue> {
  /** Longest line in bytes, terminator excluded. */
  readonly maxLength: number;
  readonly #lines: LinesCodec<string>;

  /**
   * @param options - {@link JsonLinesCodecOptions}
   * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` for a bad `maxLength`
   */
  constructor(options: JsonLinesCodecOptions = {}) {
    this.#lines = new LinesCodec({ maxLength: options.maxLength ?? 1024 * 1024 });
    this.maxLength = this.#lines.maxLength;
  }

  /** @returns a fresh decoder; values are whatever `JSON.parse` returns, typed as `TValue` */
  createDecoder(): Decoder<TValue> & { readonly bufferedSize: number } {
    return new JsonLinesDecoder(this.#lines.createDecoder()) as unknown as Decoder<TValue> & {
      readonly bufferedSize: number;
    };
  }

  /**
   * @param value - any JSON-serialisable value
   * @returns `JSON.stringify(value)` and `\n` as UTF-8
   * @throws {@link FrameError} `ERR_FRAME_INVALID` when the value cannot be serialised (for
   *   example `undefined` or a cycle); {@link FrameTooLargeError} when it is too long
   */
  encode(value: TValue): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (cause) {
      throw new FrameError('ERR_FRAME_INVALID', `value cannot be serialised as json: ${String(cause)}`, 0, {
        cause,
      });
    }
    if (text === undefined) {
      throw new FrameError('ERR_FRAME_INVALID', `value ${String(value)} cannot be serialised as json`);
    }
    const out = Buffer.from(`${text}\n`, 'utf8');
    if (out.length - 1 > this.maxLength)
      throw new FrameTooLargeError(out.length - 1, this.maxLength, 'json line');
    return out;
  }
}
