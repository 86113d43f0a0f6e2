// The state machine behind LengthPrefixedCodec's decoders: headers split across chunks, frames
// that span chunks (kept from the strip point on, grown as bytes arrive), and the hot loops that
// return whole frames as views of the chunk.
import { FrameError, FrameTooLargeError } from '../errors.js';
import type { LengthPrefixedDecoder } from '../length-prefixed-codec.js';
import { asBuffer } from './bytes.js';
import {
  MAX_SAFE,
  readLength,
  readLength64,
  scanVarint,
  VARINT_MAX_BYTES,
  VARINT_TOO_LONG,
  varintBigInt,
  varintValue,
} from './length-field.js';

/** The resolved layout, shared by a codec and its decoders. */
export interface Layout {
  /** 1, 2, 3, 4 or 8, or 0 for a varint. */
  readonly fieldBytes: number;
  readonly little: boolean;
  readonly offset: number;
  readonly adjustment: number;
  /** Bytes to strip, or -1 for "through the length field". */
  readonly strip: number;
  readonly max: number;
  /** Fixed-size fields: the values that give a valid frame (one range check per frame). */
  readonly minValue: number;
  readonly maxValue: number;
}

/** First allocation for a frame that spans chunks; larger frames grow by doubling. */
const INITIAL_BODY = 65_536;

export class LengthPrefixedDecoderImpl implements LengthPrefixedDecoder {
  readonly #layout: Layout;
  /** Header bytes (through the length field) of a header split across chunks. */
  readonly #header: Buffer;
  #headerLength = 0;
  /** Wire bytes of the frame in progress (header included), or -1 while reading a header. */
  #frameLength = -1;
  /** Bytes stripped from the frame in progress. */
  #strip = 0;
  /** Wire bytes of the frame in progress received so far. */
  #received = 0;
  /** The returned part of the frame in progress; it grows with what arrives. */
  #body: Buffer | null = null;
  #error: FrameError | null = null;

  constructor(layout: Layout) {
    this.#layout = layout;
    this.#header = Buffer.alloc(layout.offset + (layout.fieldBytes || VARINT_MAX_BYTES));
  }

  get bufferedSize(): number {
    return this.#frameLength >= 0 ? this.#received : this.#headerLength;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#error !== null) throw this.#error;
    const buf = asBuffer(chunk);
    const n = buf.length;
    const out: Uint8Array[] = [];
    let pos = 0;
    if (this.#frameLength >= 0) {
      pos = this.#fillFrame(buf, 0, n, out);
      if (this.#frameLength >= 0) return out;
    } else if (this.#headerLength > 0) {
      pos = this.#fillHeader(buf, out);
      if (pos < 0) return out;
      if (this.#frameLength >= 0) {
        pos = this.#fillFrame(buf, pos, n, out);
        if (this.#frameLength >= 0) return out;
      }
    }
    pos =
      this.#layout.fieldBytes !== 0 ? this.#fixedFrames(buf, pos, out) : this.#varintFrames(buf, pos, out);
    if (pos >= 0 && pos < n) {
      // Less than a header left: it fits the header buffer (see #fillHeader for varints).
      buf.copy(this.#header, 0, pos, n);
      this.#headerLength = n - pos;
    }
    return out;
  }

  /**
   * Hot loop for fixed-size fields: whole headers in `buf`, frames returned as views of it.
   * @returns where the unfinished header starts, or -1 when a frame spanning chunks was started
   */
  #fixedFrames(buf: Buffer, from: number, out: Uint8Array[]): number {
    const { fieldBytes, little, offset, adjustment, strip, minValue, maxValue } = this.#layout;
    const n = buf.length;
    const end = offset + fieldBytes;
    const s = strip < 0 ? end : strip;
    const span = end + adjustment; // frame = value + span
    let pos = from;
    while (n - pos >= end) {
      const at = pos + offset;
      // The default 4-byte field read inline: a call per frame costs measurably here.
      const value =
        fieldBytes === 4
          ? little
            ? buf.readUInt32LE(at)
            : buf.readUInt32BE(at)
          : readLength(buf, at, fieldBytes, little);
      if (value < minValue || value > maxValue) this.#badLength(buf, at, 0, value, end, s, out);
      const frame = value + span;
      if (n - pos < frame) {
        this.#begin(frame, s);
        this.#fillFrame(buf, pos, n, out);
        return -1;
      }
      out.push(buf.subarray(pos + s, pos + frame));
      pos += frame;
    }
    return pos;
  }

  /** {@link #fixedFrames} for varint fields. */
  #varintFrames(buf: Buffer, from: number, out: Uint8Array[]): number {
    const { offset, adjustment, strip, max } = this.#layout;
    const n = buf.length;
    let pos = from;
    while (pos + offset < n) {
      const size = scanVarint(buf, pos + offset, n);
      if (size === 0) break;
      if (size < 0) this.#fail(varintError(size, n - pos), out);
      const value = varintValue(buf, pos + offset, size);
      const end = offset + size;
      const s = strip < 0 ? end : strip;
      const frame = end + value + adjustment;
      if (value > MAX_SAFE || frame < end || frame < s || frame - s > max) {
        this.#badLength(buf, pos + offset, size, value, end, s, out);
      }
      if (n - pos < frame) {
        this.#begin(frame, s);
        this.#fillFrame(buf, pos, n, out);
        return -1;
      }
      out.push(buf.subarray(pos + s, pos + frame));
      pos += frame;
    }
    return pos;
  }

  end(): Uint8Array[] {
    if (this.#error !== null) throw this.#error;
    if (this.#frameLength >= 0) {
      this.#fail(
        new FrameError(
          'ERR_FRAME_TRUNCATED',
          `stream ended after ${this.#received} of ${this.#frameLength} frame bytes`,
          this.#received,
        ),
        [],
      );
    }
    if (this.#headerLength > 0) {
      const { fieldBytes, offset } = this.#layout;
      const of =
        fieldBytes === 0
          ? 'bytes of a varint length header'
          : `of ${offset + fieldBytes} length-header bytes`;
      this.#fail(
        new FrameError(
          'ERR_FRAME_TRUNCATED',
          `stream ended after ${this.#headerLength} ${of}`,
          this.#headerLength,
        ),
        [],
      );
    }
    return [];
  }

  /**
   * Adds bytes from the front of `buf` to a header split across chunks; once the length field
   * is complete, validates it and starts the frame with the header's bytes.
   * @returns the position in `buf` after the header, or -1 when `buf` ended inside it
   */
  #fillHeader(buf: Buffer, out: Uint8Array[]): number {
    const { fieldBytes, little, offset } = this.#layout;
    const h = this.#header;
    let hl = this.#headerLength;
    let pos = 0;
    let value: number;
    let size = fieldBytes;
    if (fieldBytes !== 0) {
      const take = Math.min(offset + fieldBytes - hl, buf.length);
      buf.copy(h, hl, 0, take);
      hl += take;
      pos = take;
      this.#headerLength = hl;
      if (hl < offset + fieldBytes) return -1;
      value = readLength(h, offset, fieldBytes, little);
    } else {
      if (hl < offset) {
        const take = Math.min(offset - hl, buf.length);
        buf.copy(h, hl, 0, take);
        hl += take;
        pos = take;
      }
      // Byte by byte so the header never takes bytes past the varint's end (at most 10).
      let done = false;
      while (hl >= offset && pos < buf.length && !done) {
        const byte = buf[pos++]!;
        h[hl++] = byte;
        done = (byte & 0x80) === 0 || hl === offset + VARINT_MAX_BYTES;
      }
      this.#headerLength = hl;
      if (!done) return -1;
      size = scanVarint(h, offset, hl);
      if (size < 0) this.#fail(varintError(size, hl), out);
      value = varintValue(h, offset, size);
    }
    const end = offset + size;
    const strip = this.#layout.strip < 0 ? end : this.#layout.strip;
    const frame = end + value + this.#layout.adjustment;
    if (value > MAX_SAFE || frame < end || frame < strip || frame - strip > this.#layout.max) {
      this.#badLength(h, offset, fieldBytes === 0 ? size : 0, value, end, strip, out);
    }
    this.#headerLength = 0;
    this.#begin(frame, strip);
    this.#fillFrame(h, 0, end, out);
    return pos;
  }

  #begin(frameLength: number, strip: number): void {
    this.#frameLength = frameLength;
    this.#strip = strip;
    this.#received = 0;
  }

  /**
   * Takes the next wire bytes of the frame in progress from `src[from, to)`, keeping those past
   * the stripped prefix, and emits the frame when complete. Memory follows what arrives (the
   * buffer doubles as it fills): a header announcing the maximum must not reserve it at once.
   * @returns the position in `src` after the bytes taken
   */
  #fillFrame(src: Buffer, from: number, to: number, out: Uint8Array[]): number {
    const frame = this.#frameLength;
    const strip = this.#strip;
    const received = this.#received;
    const take = Math.min(frame - received, to - from);
    const upTo = received + take;
    if (upTo > strip) {
      // Wire bytes [first, upTo) are kept; wire byte w is src[from + w - received].
      const first = Math.max(received, strip);
      let body = this.#body;
      if (body === null || upTo - strip > body.length) {
        const grown = Buffer.allocUnsafe(
          Math.min(frame - strip, Math.max(upTo - strip, body === null ? INITIAL_BODY : body.length * 2)),
        );
        if (body !== null) body.copy(grown, 0, 0, first - strip);
        body = grown;
        this.#body = grown;
      }
      src.copy(body, first - strip, from + first - received, from + take);
    }
    this.#received = upTo;
    if (upTo === frame) {
      out.push(this.#body ?? Buffer.alloc(0));
      this.#body = null;
      this.#frameLength = -1;
    }
    return from + take;
  }

  /** Throws the error for a length field that fails the layout's checks. */
  #badLength(
    src: Buffer,
    fieldAt: number,
    varint: number,
    value: number,
    end: number,
    strip: number,
    out: Uint8Array[],
  ): never {
    const { adjustment, fieldBytes, little, max } = this.#layout;
    const frame = end + value + adjustment;
    if (value > MAX_SAFE) {
      const exact = varint > 0 ? varintBigInt(src, fieldAt, varint) : readLength64(src, fieldAt, little);
      const err = new FrameTooLargeError(value, max);
      err.message = `length field ${exact} exceeds Number.MAX_SAFE_INTEGER (the maximum frame is ${max} bytes)`;
      this.#fail(err, out);
    }
    if (frame < end || frame < strip) {
      const what = frame < end ? `its ${end}-byte header` : `initialBytesToStrip (${strip})`;
      const field = fieldBytes === 0 ? 'varint' : `${fieldBytes}-byte`;
      this.#fail(
        new FrameError(
          'ERR_FRAME_INVALID',
          `${field} length field ${value} with lengthAdjustment ${adjustment} gives a frame of ${frame} bytes, shorter than ${what}`,
          end,
        ),
        out,
      );
    }
    // Small terms first: `frame - strip` would round for values near 2^53.
    this.#fail(new FrameTooLargeError(value + (end + adjustment - strip), max), out);
  }

  #fail(err: FrameError, frames: Uint8Array[]): never {
    err.frames = frames;
    this.#error = err;
    this.#body = null;
    this.#headerLength = 0;
    this.#frameLength = -1;
    throw err;
  }
}

function varintError(code: number, buffered: number): FrameError {
  return new FrameError(
    'ERR_FRAME_INVALID',
    code === VARINT_TOO_LONG
      ? `varint length field is longer than ${VARINT_MAX_BYTES} bytes`
      : 'varint length field overflows 64 bits',
    buffered,
  );
}
