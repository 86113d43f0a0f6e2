import type { Codec, Decoder } from './codec.js';
import { checkInteger } from './errors.js';

/**
 * Options of {@link BytesCodec}.
 *
 * @example
 * ```ts
 * const codec = new BytesCodec({ capacity: 16 * 1024 }); // frames of at most 16 KiB
 * ```
 */
export interface BytesCodecOptions {
  /**
   * Largest frame in bytes: a longer chunk is returned as several views of it, each at most
   * `capacity` bytes (no copy, no error). `Infinity` returns every chunk whole.
   * @default Infinity
   */
  capacity?: number;
}

class BytesDecoder implements Decoder<Uint8Array> {
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Always 0: a pass-through decoder never holds bytes. */
  get bufferedSize(): number {
    return 0;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const n = chunk.byteLength;
    if (n === 0) return [];
    const cap = this.#capacity;
    if (n <= cap) return [chunk];
    const out: Uint8Array[] = [];
    for (let at = 0; at < n; at += cap) out.push(chunk.subarray(at, Math.min(n, at + cap)));
    return out;
  }

  end(): Uint8Array[] {
    return [];
  }
}

/**
 * The pass-through codec (tokio-util's `BytesCodec`): every chunk is a frame, as it arrives,
 * and `encode()` returns its argument. Useful where an API takes a codec but the protocol is a
 * raw byte stream, and as the outer codec of {@link mapCodec}. Empty chunks give no frame.
 *
 * @example
 * ```ts
 * const decoder = new BytesCodec({ capacity: 4 }).createDecoder();
 * decoder.push(Buffer.from('abcdef')); // [<61 62 63 64>, <65 66>], views of the chunk
 * ```
 */
export class BytesCodec implements Codec<Uint8Array> {
  /** Largest frame in bytes (`Infinity`: chunks are never split). */
  readonly capacity: number;

  /**
   * @param options - {@link BytesCodecOptions}
   * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` when `capacity` is not a positive
   *   integer or `Infinity`
   */
  constructor(options: BytesCodecOptions = {}) {
    const capacity = options.capacity ?? Number.POSITIVE_INFINITY;
    this.capacity =
      capacity === Number.POSITIVE_INFINITY
        ? capacity
        : checkInteger('capacity', capacity, 1, Number.MAX_SAFE_INTEGER);
  }

  /** @returns a fresh decoder; it holds nothing between chunks, so `end()` always returns `[]` */
  createDecoder(): Decoder<Uint8Array> & { readonly bufferedSize: number } {
    return new BytesDecoder(this.capacity);
  }

  /**
   * @param frame - bytes to send
   * @returns `frame` itself (not copied)
   */
  encode(frame: Uint8Array): Uint8Array {
    return frame;
  }
}
