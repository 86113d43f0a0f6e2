import type { Codec, Decoder } from './codec.js';
import { checkInteger, FrameError, FrameTooLargeError, ProtocolError } from './errors.js';
import { asBuffer } from './internal/bytes.js';
import {
  readLength,
  readLength64,
  scanVarint,
  VARINT_MAX_BYTES,
  VARINT_TOO_LONG,
  varintBigInt,
  varintSize,
  varintValue,
  writeLength,
  writeVarint,
} from './internal/length-field.js';

/** Options of {@link LengthPrefixedCodec}. The layout follows netty's `LengthFieldBasedFrameDecoder`. */
export interface LengthPrefixedCodecOptions {
  /**
   * Size of the unsigned length field in bytes, or `'varint'` for a protobuf-style varint
   * (unsigned LEB128, 1 to 10 bytes).
   * @default 4
   */
  lengthBytes?: 1 | 2 | 3 | 4 | 8 | 'varint';
  /**
   * Byte order of a fixed-size length field (a varint has its own order).
   * @default 'big'
   */
  byteOrder?: 'big' | 'little';
  /**
   * Bytes before the length field (other header fields). At most 65535.
   * @default 0
   */
  lengthFieldOffset?: number;
  /**
   * Added to the length field's value to get the number of bytes that follow the length field.
   * Negative when the length counts the header too (`-(lengthFieldOffset + lengthBytes)` for a
   * length of the whole frame), positive when more header follows the length field.
   * @default 0
   */
  lengthAdjustment?: number;
  /**
   * Bytes removed from the front of each frame before it is returned: a number, or `'header'`
   * for everything up to the end of the length field (`lengthFieldOffset` + the field).
   * @default 'header'
   */
  initialBytesToStrip?: number | 'header';
  /**
   * Largest frame in bytes, counted as returned (after stripping); with the default layout,
   * the payload. A length field announcing more raises {@link FrameTooLargeError} before any of
   * the frame is buffered. Capped at what the length field can express.
   * @default 8388608 (8 MiB)
   */
  maxFrameLength?: number;
}

/** The decoder of a {@link LengthPrefixedCodec}. */
export interface LengthPrefixedDecoder extends Decoder<Uint8Array> {
  /**
   * Bytes of the unfinished frame received so far (header included). Stripped bytes are
   * counted but not held, so memory stays under the header plus `maxFrameLength`.
   */
  readonly bufferedSize: number;
}

/** The resolved layout, shared by a codec and its decoders. */
interface Layout {
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
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

class LengthPrefixedDecoderImpl implements LengthPrefixedDecoder {
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

/**
 * Frames with an unsigned length field, configured like netty's `LengthFieldBasedFrameDecoder`
 * and tokio-util's `LengthDelimitedCodec`: the field (1, 2, 3, 4 or 8 bytes in either byte
 * order, or a varint) sits `lengthFieldOffset` bytes into the header; a frame on the wire is
 * the header through the length field, then `value + lengthAdjustment` bytes; the first
 * `initialBytesToStrip` bytes are dropped from what decoding returns. The default is a 4-byte
 * big-endian length of the payload, header stripped. Frames that arrive whole in one chunk are
 * returned as views of it (no copy).
 *
 * `encode()` is the inverse where it can be: when every stripped byte belongs to the length
 * field (which it writes). With other header fields before the length field, pass
 * `initialBytesToStrip: 0` and put them at the front of the frame; see {@link canEncode}.
 *
 * @example
 * ```ts
 * const codec = new LengthPrefixedCodec({ lengthBytes: 2, maxFrameLength: 1024 });
 * const bytes = Buffer.concat(codec.encode(Buffer.from('hi')));   // <00 02 68 69>
 * codec.createDecoder().push(bytes);                             // [<68 69>]
 * ```
 */
export class LengthPrefixedCodec implements Codec<Uint8Array> {
  /** Size of the length field in bytes, or `'varint'`. */
  readonly lengthBytes: 1 | 2 | 3 | 4 | 8 | 'varint';
  /** Byte order of a fixed-size length field. */
  readonly byteOrder: 'big' | 'little';
  /** Bytes before the length field. */
  readonly lengthFieldOffset: number;
  /** Added to the length field's value to get the bytes that follow the field. */
  readonly lengthAdjustment: number;
  /** Bytes stripped from each decoded frame, or `'header'` (through the length field). */
  readonly initialBytesToStrip: number | 'header';
  /** Largest frame in bytes, after stripping (never more than the length field can express). */
  readonly maxFrameLength: number;
  /**
   * Whether {@link encode} is defined: every stripped byte must be part of the length field,
   * and a varint needs the default layout (offset 0, header stripped).
   */
  readonly canEncode: boolean;
  readonly #layout: Layout;
  /** Shortest frame `encode()` accepts: the header bytes it must carry, and the adjustment. */
  readonly #minEncode: number;

  /**
   * @param options - {@link LengthPrefixedCodecOptions}
   * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` for a bad option, or a layout in which
   *   no frame is valid (for example `lengthAdjustment: -300` with a 1-byte field)
   */
  constructor(options: LengthPrefixedCodecOptions = {}) {
    const lb = options.lengthBytes ?? 4;
    if (lb !== 1 && lb !== 2 && lb !== 3 && lb !== 4 && lb !== 8 && lb !== 'varint') {
      throw new ProtocolError(
        'ERR_INVALID_ARGUMENT',
        `lengthBytes must be 1, 2, 3, 4, 8 or 'varint', got ${String(lb)}`,
      );
    }
    const order = options.byteOrder ?? 'big';
    if (order !== 'big' && order !== 'little') {
      throw new ProtocolError(
        'ERR_INVALID_ARGUMENT',
        `byteOrder must be 'big' or 'little', got ${String(order)}`,
      );
    }
    const offset = checkInteger('lengthFieldOffset', options.lengthFieldOffset ?? 0, 0, 65_535);
    const adjustment = checkInteger('lengthAdjustment', options.lengthAdjustment ?? 0, -(2 ** 32), 2 ** 32);
    const stripOption = options.initialBytesToStrip ?? 'header';
    const strip =
      stripOption === 'header' ? -1 : checkInteger('initialBytesToStrip', stripOption, 0, 2 ** 32 - 1);
    let max = checkInteger('maxFrameLength', options.maxFrameLength ?? 8 * 1024 * 1024, 0, 2 ** 32 - 1);
    const fieldBytes = lb === 'varint' ? 0 : lb;
    let minValue = 0;
    let maxValue = MAX_SAFE;
    if (fieldBytes !== 0) {
      const end = offset + fieldBytes;
      const s = strip < 0 ? end : strip;
      const valueMax = fieldBytes === 8 ? MAX_SAFE : 2 ** (8 * fieldBytes) - 1;
      // value + adjustment must reach the end of the header and the strip point.
      if (Math.max(0, -adjustment, s - end - adjustment) > valueMax) {
        throw new ProtocolError(
          'ERR_INVALID_ARGUMENT',
          `lengthAdjustment ${adjustment} and initialBytesToStrip ${s} leave no frame a ${fieldBytes}-byte length field can announce`,
        );
      }
      max = Math.min(max, valueMax + end + adjustment - s);
      // Valid: the frame reaches the end of the header and the strip point, and fits `max`.
      minValue = Math.max(0, -adjustment, s - end - adjustment);
      maxValue = Math.min(valueMax, max + s - end - adjustment);
    }
    this.lengthBytes = lb;
    this.byteOrder = order;
    this.lengthFieldOffset = offset;
    this.lengthAdjustment = adjustment;
    this.initialBytesToStrip = stripOption;
    this.maxFrameLength = max;
    this.#layout = {
      fieldBytes,
      little: order === 'little',
      offset,
      adjustment,
      strip,
      max,
      minValue,
      maxValue,
    };
    if (fieldBytes === 0) {
      this.canEncode = offset === 0 && strip < 0;
      this.#minEncode = Math.max(0, adjustment);
    } else {
      const end = offset + fieldBytes;
      const s = strip < 0 ? end : strip;
      this.canEncode = s === 0 || (offset === 0 && s <= end);
      this.#minEncode = end - s + Math.max(0, adjustment);
    }
  }

  /** @returns a fresh decoder */
  createDecoder(): LengthPrefixedDecoder {
    return new LengthPrefixedDecoderImpl(this.#layout);
  }

  /**
   * Encodes one frame as decoding returns it: the header bytes that are not stripped stay at
   * the front of `frame` (their length field is overwritten in the copy that is sent).
   * @param frame - the frame, after stripping: with the default layout, the payload
   * @returns `[header, rest of the frame]` (the payload is not copied)
   * @throws {@link FrameTooLargeError} when the frame exceeds `maxFrameLength`;
   *   {@link FrameError} `ERR_FRAME_INVALID` when it is shorter than the header bytes it must
   *   carry (or than `lengthAdjustment`); {@link ProtocolError} `ERR_INVALID_ARGUMENT` when the
   *   layout is decode-only ({@link canEncode} is `false`)
   * @example
   * ```ts
   * // netty's "length field at offset 2": the 0xCAFE field before it is part of the frame.
   * const codec = new LengthPrefixedCodec({ lengthBytes: 3, lengthFieldOffset: 2, initialBytesToStrip: 0 });
   * const frame = Buffer.from('cafe000000' + '48454c4c4f', 'hex');   // length field left as zeros
   * Buffer.concat(codec.encode(frame));                             // <ca fe 00 00 05 48 45 4c 4c 4f>
   * ```
   */
  encode(frame: Uint8Array): Uint8Array[] {
    const n = frame.byteLength;
    const { fieldBytes, little, offset, adjustment, strip, max } = this.#layout;
    if (n > max) throw new FrameTooLargeError(n, max);
    if (!this.canEncode) {
      throw new ProtocolError(
        'ERR_INVALID_ARGUMENT',
        `cannot encode with lengthFieldOffset ${offset} and initialBytesToStrip ${this.initialBytesToStrip}` +
          (fieldBytes === 0
            ? ': a varint length field needs offset 0 and the header stripped'
            : ': the stripped bytes are not all length field, so the encoder cannot know them'),
      );
    }
    if (n < this.#minEncode) {
      throw new FrameError(
        'ERR_FRAME_INVALID',
        `frame of ${n} bytes is shorter than the ${this.#minEncode} bytes this layout needs (the header bytes it carries and lengthAdjustment ${adjustment})`,
        n,
      );
    }
    if (fieldBytes === 0) {
      const value = n - adjustment;
      const header = Buffer.allocUnsafe(varintSize(value));
      writeVarint(header, 0, value);
      return [header, frame];
    }
    const end = offset + fieldBytes;
    const s = strip < 0 ? end : strip;
    const header = Buffer.allocUnsafe(end);
    // Header bytes the frame carries (before and inside the length field): copied, never
    // written into the caller's frame.
    if (s < end) header.set(frame.subarray(0, end - s), s);
    writeLength(header, offset, s + n - end - adjustment, fieldBytes, little);
    return [header, s < end ? frame.subarray(end - s) : frame];
  }
}
