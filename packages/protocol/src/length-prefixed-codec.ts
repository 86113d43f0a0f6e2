import type { Codec, Decoder } from './codec.js';
import { checkInteger, FrameError, FrameTooLargeError, ProtocolError } from './errors.js';
import { asBuffer } from './internal/bytes.js';

/** Options of {@link LengthPrefixedCodec}. */
export interface LengthPrefixedCodecOptions {
  /**
   * Size of the unsigned length header in bytes. The length counts the payload only.
   * @default 4
   */
  lengthBytes?: 1 | 2 | 4;
  /**
   * Byte order of the length header.
   * @default 'big'
   */
  byteOrder?: 'big' | 'little';
  /**
   * Largest payload in bytes. A header announcing more raises {@link FrameTooLargeError} before
   * any of the payload is buffered.
   * @default 8388608 (8 MiB)
   */
  maxFrameLength?: number;
}

/** The decoder of a {@link LengthPrefixedCodec}. */
export interface LengthPrefixedDecoder extends Decoder<Uint8Array> {
  /** Bytes of the unfinished frame (header included) held right now. */
  readonly bufferedSize: number;
}

/** First allocation for a payload that spans chunks; larger payloads grow by doubling. */
const INITIAL_BODY = 65_536;

class LengthPrefixedDecoderImpl implements LengthPrefixedDecoder {
  readonly #lengthBytes: number;
  readonly #little: boolean;
  readonly #max: number;
  readonly #header: Buffer;
  #headerLength = 0;
  /** The payload being filled across chunks, or null between frames. */
  /** The payload being filled; it grows with what arrives, up to `#bodyLength`. */
  #body: Buffer | null = null;
  /** Payload length the header announced. */
  #bodyLength = 0;
  #bodyFilled = 0;
  #error: FrameError | null = null;

  constructor(lengthBytes: number, little: boolean, max: number) {
    this.#lengthBytes = lengthBytes;
    this.#little = little;
    this.#max = max;
    this.#header = Buffer.alloc(lengthBytes);
  }

  get bufferedSize(): number {
    return this.#body === null ? this.#headerLength : this.#lengthBytes + this.#bodyFilled;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#error !== null) throw this.#error;
    const buf = asBuffer(chunk);
    const n = buf.length;
    const lb = this.#lengthBytes;
    const max = this.#max;
    const out: Uint8Array[] = [];
    let pos = 0;
    if (this.#body !== null) {
      pos = this.#fillBody(buf, 0, out);
      if (this.#body !== null) return out;
    } else if (this.#headerLength > 0) {
      // Finish a header split across chunks, then its payload.
      const take = Math.min(lb - this.#headerLength, n);
      buf.copy(this.#header, this.#headerLength, 0, take);
      this.#headerLength += take;
      pos = take;
      if (this.#headerLength < lb) return out;
      this.#headerLength = 0;
      const length = this.#readLength(this.#header, 0);
      if (length > max) this.#fail(new FrameTooLargeError(length, max), out);
      this.#startBody(length);
      pos = this.#fillBody(buf, pos, out);
      if (this.#body !== null) return out;
    }
    // Hot loop: whole headers in this chunk, locals only.
    const little = this.#little;
    while (n - pos >= lb) {
      let length: number;
      if (lb === 4) length = little ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
      else if (lb === 2) length = little ? buf.readUInt16LE(pos) : buf.readUInt16BE(pos);
      else length = buf[pos]!;
      pos += lb;
      if (length > max) this.#fail(new FrameTooLargeError(length, max), out);
      if (n - pos >= length) {
        out.push(buf.subarray(pos, pos + length));
        pos += length;
      } else {
        this.#startBody(length);
        this.#fillBody(buf, pos, out);
        return out;
      }
    }
    if (pos < n) {
      buf.copy(this.#header, 0, pos, n);
      this.#headerLength = n - pos;
    }
    return out;
  }

  /** Copies payload bytes from `buf[pos..]`; emits the frame when complete. Returns the new position. */
  /**
   * Starts a payload of `length` bytes that spans chunks. Memory follows what actually arrives
   * (the buffer doubles as it fills, up to `length`): a 4-byte header announcing the maximum
   * must not make the decoder reserve the whole maximum at once.
   */
  #startBody(length: number): void {
    this.#body = Buffer.allocUnsafe(Math.min(length, INITIAL_BODY));
    this.#bodyLength = length;
    this.#bodyFilled = 0;
  }

  #fillBody(buf: Buffer, pos: number, out: Uint8Array[]): number {
    let body = this.#body!;
    const filled = this.#bodyFilled;
    const take = Math.min(this.#bodyLength - filled, buf.length - pos);
    if (filled + take > body.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#bodyLength, Math.max(filled + take, body.length * 2)));
      body.copy(grown, 0, 0, filled);
      body = grown;
      this.#body = grown;
    }
    buf.copy(body, filled, pos, pos + take);
    this.#bodyFilled = filled + take;
    if (this.#bodyFilled === this.#bodyLength) {
      out.push(body);
      this.#body = null;
    }
    return pos + take;
  }

  end(): Uint8Array[] {
    if (this.#error !== null) throw this.#error;
    if (this.#body !== null) {
      this.#fail(
        new FrameError(
          'ERR_FRAME_TRUNCATED',
          `stream ended after ${this.#bodyFilled} of ${this.#bodyLength} payload bytes`,
          this.bufferedSize,
        ),
        [],
      );
    }
    if (this.#headerLength > 0) {
      this.#fail(
        new FrameError(
          'ERR_FRAME_TRUNCATED',
          `stream ended after ${this.#headerLength} of ${this.#lengthBytes} length-header bytes`,
          this.#headerLength,
        ),
        [],
      );
    }
    return [];
  }

  #readLength(b: Buffer, at: number): number {
    switch (this.#lengthBytes) {
      case 1:
        return b[at]!;
      case 2:
        return this.#little ? b.readUInt16LE(at) : b.readUInt16BE(at);
      default:
        return this.#little ? b.readUInt32LE(at) : b.readUInt32BE(at);
    }
  }

  #fail(err: FrameError, frames: Uint8Array[]): never {
    err.frames = frames;
    this.#error = err;
    this.#body = null;
    this.#headerLength = 0;
    throw err;
  }
}

/**
 * Frames as an unsigned length header (1, 2 or 4 bytes, big- or little-endian) followed by the
 * payload. Payloads that arrive whole in one chunk are returned as views of it (no copy).
 *
 * @example
 * ```ts
 * const codec = new LengthPrefixedCodec({ lengthBytes: 2, maxFrameLength: 1024 });
 * const bytes = Buffer.concat(codec.encode(Buffer.from('hi')));   // <00 02 68 69>
 * codec.createDecoder().push(bytes);                             // [<68 69>]
 * ```
 */
export class LengthPrefixedCodec implements Codec<Uint8Array> {
  /** Size of the length header in bytes. */
  readonly lengthBytes: 1 | 2 | 4;
  /** Byte order of the length header. */
  readonly byteOrder: 'big' | 'little';
  /** Largest payload in bytes (never more than the header can express). */
  readonly maxFrameLength: number;

  /**
   * @param options - {@link LengthPrefixedCodecOptions}
   * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` for a bad `lengthBytes`, `byteOrder` or `maxFrameLength`
   */
  constructor(options: LengthPrefixedCodecOptions = {}) {
    const lb = options.lengthBytes ?? 4;
    if (lb !== 1 && lb !== 2 && lb !== 4) {
      throw new ProtocolError('ERR_INVALID_ARGUMENT', `lengthBytes must be 1, 2 or 4, got ${String(lb)}`);
    }
    const order = options.byteOrder ?? 'big';
    if (order !== 'big' && order !== 'little') {
      throw new ProtocolError(
        'ERR_INVALID_ARGUMENT',
        `byteOrder must be 'big' or 'little', got ${String(order)}`,
      );
    }
    this.lengthBytes = lb;
    this.byteOrder = order;
    const max = checkInteger('maxFrameLength', options.maxFrameLength ?? 8 * 1024 * 1024, 0, 2 ** 32 - 1);
    this.maxFrameLength = Math.min(max, 2 ** (8 * lb) - 1);
  }

  /** @returns a fresh decoder */
  createDecoder(): LengthPrefixedDecoder {
    return new LengthPrefixedDecoderImpl(this.lengthBytes, this.byteOrder === 'little', this.maxFrameLength);
  }

  /**
   * @param frame - the payload
   * @returns `[header, payload]` (the payload is not copied)
   * @throws {@link FrameTooLargeError} when the payload exceeds `maxFrameLength`
   */
  encode(frame: Uint8Array): Uint8Array[] {
    const n = frame.byteLength;
    if (n > this.maxFrameLength) throw new FrameTooLargeError(n, this.maxFrameLength);
    const header = Buffer.allocUnsafe(this.lengthBytes);
    const little = this.byteOrder === 'little';
    if (this.lengthBytes === 1) header[0] = n;
    else if (this.lengthBytes === 2) little ? header.writeUInt16LE(n) : header.writeUInt16BE(n);
    else little ? header.writeUInt32LE(n) : header.writeUInt32BE(n);
    return [header, frame];
  }
}
