import type { Codec, Decoder } from './codec.js';
import { checkInteger, FrameError, FrameTooLargeError, ProtocolError } from './errors.js';
import { MAX_SAFE, varintSize, writeLength, writeVarint } from './internal/length-field.js';
import { type Layout, LengthPrefixedDecoderImpl } from './internal/length-prefixed-decoder.js';

/**
 * Options of {@link LengthPrefixedCodec}. The layout follows netty's `LengthFieldBasedFrameDecoder`.
 *
 * @example
 * ```ts
 * // A 2-byte length of the whole message at offset 1 of a 4-byte header; keep the last header byte.
 * const options: LengthPrefixedCodecOptions = {
 *   lengthBytes: 2, lengthFieldOffset: 1, lengthAdjustment: -3, initialBytesToStrip: 3,
 * };
 * ```
 */
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

/**
 * The decoder of a {@link LengthPrefixedCodec}.
 *
 * @example
 * ```ts
 * const decoder = new LengthPrefixedCodec().createDecoder();
 * decoder.push(Buffer.from([0, 0, 0, 5, 0x68])); // [] (4 of the 5 payload bytes are missing)
 * decoder.bufferedSize;                          // 5
 * ```
 */
export interface LengthPrefixedDecoder extends Decoder<Uint8Array> {
  /**
   * Bytes of the unfinished frame received so far (header included). Stripped bytes are
   * counted but not held, so memory stays under the header plus `maxFrameLength`.
   */
  readonly bufferedSize: number;
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
