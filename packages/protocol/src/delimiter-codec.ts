import type { Codec, Decoder } from './codec.js';
import { checkEncoding, checkInteger, FrameError, FrameTooLargeError, ProtocolError } from './errors.js';
import { Accumulator, asBuffer } from './internal/bytes.js';
import { preview } from './lines-codec.js';

/** Options of {@link DelimiterCodec}. */
export interface DelimiterCodecOptions {
  /**
   * One delimiter or several (strings are UTF-8 encoded). When several could end a frame, the
   * one that is complete first wins; on a tie the longer one (so `['\r\n', '\n']` strips both).
   * `encode()` appends the first.
   */
  delimiters: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /**
   * Longest frame in bytes, delimiter excluded. A longer frame raises
   * {@link FrameTooLargeError} as soon as it is certain; a decoder buffers at most
   * `maxLength + longest delimiter - 1` bytes.
   * @default 65536
   */
  maxLength?: number;
  /**
   * `'utf8'` yields frames as strings; `null` yields them as bytes (`Uint8Array`).
   * @default 'utf8'
   */
  encoding?: 'utf8' | null;
  /**
   * Whether `end()` returns a last frame without a delimiter. When `false`, such a frame raises
   * {@link FrameError} `ERR_FRAME_TRUNCATED` instead.
   * @default true
   */
  allowUnterminated?: boolean;
}

/** Splits a byte stream on one or more delimiters; frames never include the delimiter. */
export interface DelimiterCodec<TFrame extends string | Uint8Array = string> extends Codec<TFrame> {
  /** Longest frame in bytes, delimiter excluded. */
  readonly maxLength: number;
  /** The delimiters as bytes, in the order given. */
  readonly delimiters: readonly Uint8Array[];
  /**
   * @param frame - the frame, without terminator
   * @returns the frame's bytes followed by the terminator, in one array
   */
  encode(frame: TFrame): Uint8Array;
  /** @returns a fresh decoder */
  createDecoder(): DelimiterDecoder<TFrame>;
}

/** The decoder of a {@link DelimiterCodec}. */
export interface DelimiterDecoder<TFrame> extends Decoder<TFrame> {
  /** Bytes of the unfinished frame held right now. */
  readonly bufferedSize: number;
}

/** Constructor of {@link DelimiterCodec}: strings by default, bytes with `encoding: null`. */
export interface DelimiterCodecConstructor {
  new (options: DelimiterCodecOptions & { encoding?: 'utf8' }): DelimiterCodec<string>;
  new (options: DelimiterCodecOptions & { encoding: null }): DelimiterCodec<Uint8Array>;
  new (options: DelimiterCodecOptions): DelimiterCodec<string | Uint8Array>;
}

type Frame = string | Uint8Array;

class DelimiterDecoderImpl implements DelimiterDecoder<Frame> {
  readonly #ds: readonly Buffer[];
  readonly #maxDelim: number;
  readonly #max: number;
  readonly #text: boolean;
  readonly #allowUnterminated: boolean;
  /** Per delimiter: its next index in the current chunk, -1 for none left, -2 for unknown. */
  readonly #next: Int32Array;
  readonly #acc = new Accumulator();
  #error: FrameError | null = null;

  constructor(ds: readonly Buffer[], max: number, text: boolean, allowUnterminated: boolean) {
    this.#ds = ds;
    this.#maxDelim = Math.max(...ds.map((d) => d.length));
    this.#max = max;
    this.#text = text;
    this.#allowUnterminated = allowUnterminated;
    this.#next = new Int32Array(ds.length);
  }

  get bufferedSize(): number {
    return this.#acc.length;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#error !== null) throw this.#error;
    const buf = asBuffer(chunk);
    const n = buf.length;
    const ds = this.#ds;
    const k = ds.length;
    const next = this.#next;
    const max = this.#max;
    const out: Frame[] = [];
    let pos = 0;
    const acc = this.#acc;
    if (acc.length > 0) {
      // The frame in progress may end in a delimiter that started in the pending bytes.
      let bestEnd = -1;
      let bestLen = 0;
      let inPending = 0;
      for (let i = 0; i < k; i++) {
        const d = ds[i]!;
        const len = d.length;
        for (let j = Math.min(len - 1, acc.length); j >= 1; j--) {
          const rest = len - j;
          if (rest > n) continue;
          if (endsWith(acc.buf, acc.length, d, j) && buf.compare(d, j, len, 0, rest) === 0) {
            if (bestEnd === -1 || rest < bestEnd || (rest === bestEnd && len > bestLen)) {
              bestEnd = rest;
              bestLen = len;
              inPending = j;
            }
            break;
          }
        }
        const idx = buf.indexOf(d);
        next[i] = idx;
        if (idx !== -1) {
          const end = idx + len;
          if (bestEnd === -1 || end < bestEnd || (end === bestEnd && len > bestLen)) {
            bestEnd = end;
            bestLen = len;
            inPending = 0;
          }
        }
      }
      if (bestEnd === -1) {
        this.#appendPending(buf, 0, out);
        return out;
      }
      const keep = acc.length - inPending;
      const to = inPending > 0 ? 0 : bestEnd - bestLen;
      const len = keep + to;
      if (len > max) this.#fail(new FrameTooLargeError(len, max), out);
      out.push(this.#text ? acc.takeString(buf, 0, to, keep) : acc.take(buf, 0, to, keep));
      pos = bestEnd;
    } else {
      next.fill(-2);
    }
    const text = this.#text;
    while (pos < n) {
      let bestEnd = -1;
      let bestLen = 0;
      for (let i = 0; i < k; i++) {
        let idx = next[i]!;
        if (idx === -1) continue;
        const len = ds[i]!.length;
        if (idx < pos) {
          idx = buf.indexOf(ds[i]!, pos);
          next[i] = idx;
          if (idx === -1) continue;
        }
        const end = idx + len;
        if (bestEnd === -1 || end < bestEnd || (end === bestEnd && len > bestLen)) {
          bestEnd = end;
          bestLen = len;
        }
      }
      if (bestEnd === -1) break;
      const to = bestEnd - bestLen;
      if (to - pos > max) this.#fail(new FrameTooLargeError(to - pos, max), out);
      out.push(text ? buf.toString('utf8', pos, to) : buf.subarray(pos, to));
      pos = bestEnd;
    }
    if (pos < n) this.#appendPending(buf, pos, out);
    return out;
  }

  end(): Frame[] {
    if (this.#error !== null) throw this.#error;
    const acc = this.#acc;
    const len = acc.length;
    if (len === 0) return [];
    if (!this.#allowUnterminated) {
      this.#fail(
        new FrameError('ERR_FRAME_TRUNCATED', `stream ended inside a frame of ${len} bytes`, len),
        [],
      );
    }
    if (len > this.#max) this.#fail(new FrameTooLargeError(len, this.#max), []);
    return [this.#text ? acc.takeString(null, 0, 0) : acc.take(null, 0, 0)];
  }

  /** Keeps `buf[from..]` pending, failing first when it can no longer be a frame of at most `max` bytes. */
  #appendPending(buf: Buffer, from: number, out: Frame[]): void {
    const len = this.#acc.length + buf.length - from;
    if (len > this.#max + this.#maxDelim - 1) this.#fail(new FrameTooLargeError(len, this.#max), out);
    this.#acc.append(buf, from, buf.length);
  }

  #fail(err: FrameError, frames: Frame[]): never {
    err.frames = frames;
    this.#error = err;
    this.#acc.reset();
    throw err;
  }
}

/** Whether `buf[0, length)` ends with the first `j` bytes of `d`. */
function endsWith(buf: Buffer, length: number, d: Buffer, j: number): boolean {
  return buf.compare(d, 0, j, length - j, length) === 0;
}

class DelimiterCodecImpl implements DelimiterCodec<Frame> {
  readonly maxLength: number;
  readonly delimiters: readonly Buffer[];
  readonly #text: boolean;
  readonly #allowUnterminated: boolean;

  constructor(options: DelimiterCodecOptions) {
    const raw = options?.delimiters;
    const list = typeof raw === 'string' || raw instanceof Uint8Array ? [raw] : raw;
    if (!Array.isArray(list) || list.length === 0) {
      throw new ProtocolError(
        'ERR_INVALID_ARGUMENT',
        `delimiters must be a non-empty list, got ${String(raw)}`,
      );
    }
    this.delimiters = list.map((d: string | Uint8Array) => {
      const b = typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d);
      if (b.length === 0) throw new ProtocolError('ERR_INVALID_ARGUMENT', 'delimiters must not be empty');
      return b;
    });
    this.maxLength = checkInteger('maxLength', options.maxLength ?? 65536, 0, 2 ** 31 - 1);
    this.#text = checkEncoding(options.encoding) !== null;
    this.#allowUnterminated = options.allowUnterminated ?? true;
  }

  createDecoder(): DelimiterDecoder<Frame> {
    return new DelimiterDecoderImpl(this.delimiters, this.maxLength, this.#text, this.#allowUnterminated);
  }

  encode(frame: Frame): Uint8Array {
    const bytes = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : asBuffer(frame);
    const n = bytes.length;
    if (n > this.maxLength) throw new FrameTooLargeError(n, this.maxLength);
    const d = this.delimiters[0]!;
    const out = Buffer.allocUnsafe(n + d.length);
    bytes.copy(out, 0);
    d.copy(out, n);
    // The encoded frame must decode back to exactly this frame: no delimiter may complete
    // earlier, nor complete at the end while being longer than the appended one (the decoder
    // prefers the longer delimiter, which would eat the end of the frame).
    for (const other of this.delimiters) {
      const idx = out.indexOf(other);
      if (idx !== -1 && (idx + other.length < out.length || other.length > d.length)) {
        throw new FrameError(
          'ERR_FRAME_INVALID',
          `frame ${JSON.stringify(preview(bytes))} contains the delimiter ${JSON.stringify(other.toString('latin1'))}`,
          n,
        );
      }
    }
    return out;
  }
}

/**
 * Splits a byte stream on one or more delimiters, bounded by `maxLength`.
 *
 * @param options - {@link DelimiterCodecOptions}
 * @returns a codec; frames are strings by default, `Uint8Array`s with `encoding: null`
 * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` for no or empty delimiters or a bad `maxLength`
 *
 * @example
 * ```ts
 * const codec = new DelimiterCodec({ delimiters: '\0', maxLength: 4096 });
 * codec.createDecoder().push(Buffer.from('a\0b\0')); // ['a', 'b']
 * ```
 */
export const DelimiterCodec: DelimiterCodecConstructor = DelimiterCodecImpl as DelimiterCodecConstructor;
