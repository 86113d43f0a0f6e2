import type { Codec, Decoder } from './codec.js';
import { checkEncoding, checkInteger, FrameError, FrameTooLargeError } from './errors.js';
import { Accumulator, asBuffer } from './internal/bytes.js';

const LF = 10;
const CR = 13;

/** Options of {@link LinesCodec}. */
export interface LinesCodecOptions {
  /**
   * Longest line in bytes, terminator excluded. A longer line raises {@link FrameTooLargeError}
   * as soon as it is certain, so a decoder buffers at most `maxLength + 1` bytes.
   * @default 65536
   */
  maxLength?: number;
  /**
   * `'utf8'` yields lines as strings; `null` yields them as bytes (`Uint8Array`).
   * @default 'utf8'
   */
  encoding?: 'utf8' | null;
  /**
   * Whether `end()` returns a last line that has no terminator. When `false`, such a line
   * raises {@link FrameError} `ERR_FRAME_TRUNCATED` instead.
   * @default true
   */
  allowUnterminated?: boolean;
}

/**
 * Splits a byte stream into lines. Accepts `\n` and `\r\n`; frames never include the
 * terminator; `encode()` appends `\n`. Each byte is searched once, whatever the chunking.
 */
export interface LinesCodec<TLine extends string | Uint8Array = string> extends Codec<TLine> {
  /** Longest line in bytes, terminator excluded. */
  readonly maxLength: number;
  /** `'utf8'` or `null` (bytes). */
  readonly encoding: 'utf8' | null;
  /** Whether `end()` returns a last unterminated line. */
  readonly allowUnterminated: boolean;
  /**
   * @param frame - the frame, without terminator
   * @returns the frame's bytes followed by the terminator, in one array
   */
  encode(frame: TLine): Uint8Array;
  /** @returns a fresh {@link LinesDecoder} */
  createDecoder(): LinesDecoder<TLine>;
}

/** Constructor of {@link LinesCodec}: strings by default, bytes with `encoding: null`. */
export interface LinesCodecConstructor {
  new (options?: LinesCodecOptions & { encoding?: 'utf8' }): LinesCodec<string>;
  new (options: LinesCodecOptions & { encoding: null }): LinesCodec<Uint8Array>;
  new (options?: LinesCodecOptions): LinesCodec<string | Uint8Array>;
}

/** The decoder of a {@link LinesCodec}. */
export interface LinesDecoder<TLine> extends Decoder<TLine> {
  /** Bytes of the unfinished line held right now (at most `maxLength + 1`). */
  readonly bufferedSize: number;
}

class LinesDecoderImpl implements LinesDecoder<string | Uint8Array> {
  readonly #max: number;
  readonly #text: boolean;
  readonly #allowUnterminated: boolean;
  readonly #acc = new Accumulator();
  #error: FrameError | null = null;

  constructor(max: number, text: boolean, allowUnterminated: boolean) {
    this.#max = max;
    this.#text = text;
    this.#allowUnterminated = allowUnterminated;
  }

  get bufferedSize(): number {
    return this.#acc.length;
  }

  push(chunk: Uint8Array): Array<string | Uint8Array> {
    if (this.#error !== null) throw this.#error;
    const buf = asBuffer(chunk);
    const n = buf.length;
    const max = this.#max;
    const text = this.#text;
    const out: Array<string | Uint8Array> = [];
    let start = 0;
    const acc = this.#acc;
    if (acc.length > 0) {
      const nl = buf.indexOf(LF);
      if (nl === -1) {
        this.#appendPending(buf, 0, out);
        return out;
      }
      // The line is the pending bytes plus buf[0, nl); drop a '\r' before the '\n' wherever it is.
      let keep = acc.length;
      let end = nl;
      if (nl > 0) {
        if (buf[nl - 1] === CR) end--;
      } else if (acc.buf[keep - 1] === CR) {
        keep--;
      }
      const len = keep + end;
      if (len > max) this.#fail(new FrameTooLargeError(len, max, 'line'), out);
      out.push(text ? acc.takeString(buf, 0, end, keep) : acc.take(buf, 0, end, keep));
      start = nl + 1;
    }
    if (text) start = this.#splitText(buf, start, out);
    else {
      while (start < n) {
        const nl = buf.indexOf(LF, start);
        if (nl === -1) break;
        const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
        if (end - start > max) this.#fail(new FrameTooLargeError(end - start, max, 'line'), out);
        out.push(buf.subarray(start, end));
        start = nl + 1;
      }
    }
    if (start < n) this.#appendPending(buf, start, out);
    return out;
  }

  /**
   * Text mode: decodes every complete line of `buf[start..]` with one UTF-8 decode and slices
   * the string. A line of `n` UTF-16 units has between `n` and `3n` bytes, so the exact byte
   * length is only needed when `max / 3 < n <= max`; then a byte cursor catches up over the
   * '\n's it has not passed yet ('\n' is ASCII, so bytes and string agree line by line). Every
   * byte is still searched at most once. Returns the offset after the last '\n'.
   */
  #splitText(buf: Buffer, start: number, out: Array<string | Uint8Array>): number {
    const last = buf.lastIndexOf(LF);
    if (last < start) return start;
    const max = this.#max;
    const s = buf.toString('utf8', start, last + 1);
    const end = s.length;
    // Byte cursor: `bi` is the byte offset where line number `bLine` starts.
    let bi = start;
    let bLine = 0;
    let line = 0;
    let si = 0;
    while (si < end) {
      const sj = s.indexOf('\n', si);
      const send = sj > si && s.charCodeAt(sj - 1) === 13 ? sj - 1 : sj;
      const units = send - si;
      if (units > max) this.#fail(new FrameTooLargeError(units, max, 'line'), out);
      if (units * 3 > max) {
        while (bLine < line) {
          bi = buf.indexOf(LF, bi) + 1;
          bLine++;
        }
        const bj = buf.indexOf(LF, bi);
        const bytes = (bj > bi && buf[bj - 1] === CR ? bj - 1 : bj) - bi;
        if (bytes > max) this.#fail(new FrameTooLargeError(bytes, max, 'line'), out);
        bi = bj + 1;
        bLine++;
      }
      out.push(s.slice(si, send));
      si = sj + 1;
      line++;
    }
    return last + 1;
  }

  end(): Array<string | Uint8Array> {
    if (this.#error !== null) throw this.#error;
    const acc = this.#acc;
    if (acc.length === 0) return [];
    if (!this.#allowUnterminated) {
      this.#fail(
        new FrameError(
          'ERR_FRAME_TRUNCATED',
          `stream ended inside a line of ${acc.length} bytes`,
          acc.length,
        ),
        [],
      );
    }
    // A lone '\r' at EOF is the first half of a '\r\n' terminator.
    const keep = acc.buf[acc.length - 1] === CR ? acc.length - 1 : acc.length;
    if (keep > this.#max) this.#fail(new FrameTooLargeError(keep, this.#max, 'line'), []);
    return [this.#text ? acc.takeString(null, 0, 0, keep) : acc.take(null, 0, 0, keep)];
  }

  /**
   * Keeps `buf[from..]` as the start of the next line, failing first when the pending bytes can
   * no longer be a line of at most `max` bytes (one more byte is allowed for a '\r').
   */
  #appendPending(buf: Buffer, from: number, out: Array<string | Uint8Array>): void {
    const len = this.#acc.length + buf.length - from;
    const max = this.#max;
    const lastByte = from < buf.length ? buf[buf.length - 1] : this.#acc.buf[this.#acc.length - 1];
    if (len > max + 1 || (len === max + 1 && lastByte !== CR)) {
      this.#fail(new FrameTooLargeError(len, max, 'line'), out);
    }
    this.#acc.append(buf, from, buf.length);
  }

  #fail(err: FrameError, frames: unknown[]): never {
    err.frames = frames;
    this.#error = err;
    this.#acc.reset();
    throw err;
  }
}

class LinesCodecImpl implements LinesCodec<string | Uint8Array> {
  readonly maxLength: number;
  readonly encoding: 'utf8' | null;
  readonly allowUnterminated: boolean;

  constructor(options: LinesCodecOptions = {}) {
    this.maxLength = checkInteger('maxLength', options.maxLength ?? 65536, 0, 2 ** 31 - 1);
    this.encoding = checkEncoding(options.encoding);
    this.allowUnterminated = options.allowUnterminated ?? true;
  }

  createDecoder(): LinesDecoder<string | Uint8Array> {
    return new LinesDecoderImpl(this.maxLength, this.encoding !== null, this.allowUnterminated);
  }

  encode(line: string | Uint8Array): Uint8Array {
    const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : asBuffer(line);
    const n = bytes.length;
    if (n > this.maxLength) throw new FrameTooLargeError(n, this.maxLength, 'line');
    if (bytes.indexOf(LF) !== -1 || (n > 0 && bytes[n - 1] === CR)) {
      throw new FrameError(
        'ERR_FRAME_INVALID',
        `line ${JSON.stringify(preview(bytes))} contains a line terminator`,
        n,
      );
    }
    const out = Buffer.allocUnsafe(n + 1);
    bytes.copy(out, 0);
    out[n] = LF;
    return out;
  }
}

/** @internal A short printable excerpt of `bytes` for error messages. */
export function preview(bytes: Buffer): string {
  const s = bytes.toString('utf8', 0, Math.min(bytes.length, 40));
  return bytes.length > 40 ? `${s}…` : s;
}

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), bounded by `maxLength`.
 *
 * @param options - {@link LinesCodecOptions}
 * @returns a codec; its frames are strings by default, `Uint8Array`s with `encoding: null`
 * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` for a bad `maxLength`
 *
 * @example
 * ```ts
 * const decoder = new LinesCodec({ maxLength: 1024 }).createDecoder();
 * decoder.push(Buffer.from('a\r\nb\n')); // ['a', 'b']
 * new LinesCodec().encode('hi');        // <Buffer 68 69 0a>
 * ```
 */
export const LinesCodec: LinesCodecConstructor = LinesCodecImpl as LinesCodecConstructor;
