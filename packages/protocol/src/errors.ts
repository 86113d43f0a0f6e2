import { brandError, hasErrorBrand } from '@asyncnet/streams/adapter';
/**
 * Every `code` a {@link ProtocolError} can carry.
 * @example
 * ```ts
 * if (err instanceof ProtocolError && err.code === 'ERR_FRAME_TOO_LARGE') transport.abort(err);
 * ```
 */
export type ProtocolErrorCode =
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_FRAME_TRUNCATED'
  | 'ERR_FRAME_INVALID'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_TRANSPORT_CLOSED';

/**
 * Base class of every error thrown by `@asyncnet/protocol`.
 *
 * Errors from the core (`@asyncnet/streams`) and Node's socket errors (`ECONNRESET`, …) pass
 * through unchanged, so `err.code` is always the thing to switch on.
 *
 * @example
 * ```ts
 * try { decoder.push(chunk); } catch (err) {
 *   if (err instanceof ProtocolError && err.code === 'ERR_FRAME_TOO_LARGE') transport.abort(err);
 * }
 * ```
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  /** Stable, machine-readable reason. */
  readonly code: ProtocolErrorCode;

  /**
   * @param code - stable error code
   * @param message - lowercase description naming the value that failed
   * @param options - `cause`, when there is one
   */
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    brandError(this, new.target, 'protocol');
  }

  /** `instanceof` works across duplicate copies of this package (see `hasErrorBrand` in `@asyncnet/streams`). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being asked about
    return hasErrorBrand(this, value, 'protocol');
  }
}

/**
 * Malformed or truncated framed input: `ERR_FRAME_TRUNCATED` (the stream ended inside a frame)
 * or `ERR_FRAME_INVALID` (a frame could not be decoded, for example bad JSON; `cause` is the
 * parser's error). Also the base class of {@link FrameTooLargeError}.
 *
 * After a decoder throws, it is finished: every later `push()`/`end()` throws the same error,
 * because the byte stream can no longer be split into frames reliably. Frames completed earlier
 * in the same `push()` are in {@link FrameError.frames}.
 *
 * @example
 * ```ts
 * try { frames = decoder.end(); } catch (err) {
 *   if (err instanceof FrameError && err.code === 'ERR_FRAME_TRUNCATED') console.log(err.buffered);
 * }
 * ```
 */
export class FrameError extends ProtocolError {
  override name = 'FrameError';
  /** Bytes of the bad or unfinished frame the decoder was holding when it failed. */
  readonly buffered: number;
  /** Complete frames decoded by the failing `push()` before the bad one (usually empty). */
  frames: readonly unknown[] = [];

  /**
   * @param code - `ERR_FRAME_TRUNCATED`, `ERR_FRAME_INVALID` or `ERR_FRAME_TOO_LARGE`
   * @param message - lowercase description naming the value that failed
   * @param buffered - bytes of the bad or unfinished frame
   * @param options - `cause`, when there is one
   */
  constructor(
    code: 'ERR_FRAME_TRUNCATED' | 'ERR_FRAME_INVALID' | 'ERR_FRAME_TOO_LARGE',
    message: string,
    buffered = 0,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.buffered = buffered;
  }
}

/**
 * A frame is longer than the codec's maximum (`maxLength` / `maxFrameLength`). Raised as soon as
 * that is certain, before the frame is buffered, so a decoder never holds more than about the
 * maximum.
 *
 * @example
 * ```ts
 * const codec = new LinesCodec({ maxLength: 4 });
 * try { codec.createDecoder().push(Buffer.from('toolong\n')); }
 * catch (err) { if (err instanceof FrameTooLargeError) console.log(err.length, err.maxLength); }
 * ```
 */
export class FrameTooLargeError extends FrameError {
  override name = 'FrameTooLargeError';
  /** The frame's length in bytes, or a lower bound when the end was not seen yet. */
  readonly length: number;
  /** The codec's maximum frame length in bytes. */
  readonly maxLength: number;

  /**
   * @param length - the frame's length, or a lower bound
   * @param maxLength - the limit it exceeds
   * @param what - what kind of frame (`line`, `frame`, …)
   */
  constructor(length: number, maxLength: number, what = 'frame') {
    super(
      'ERR_FRAME_TOO_LARGE',
      `${what} of ${length} bytes exceeds the maximum of ${maxLength} bytes`,
      length,
    );
    this.length = length;
    this.maxLength = maxLength;
  }
}

/** @internal Throws `ERR_INVALID_ARGUMENT` when `value` is not an integer in `[min, max]`. */
export function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError(
      'ERR_INVALID_ARGUMENT',
      `${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * @internal Validates a text codec's `encoding` option: `'utf8'` (the default) or `null` for
 * bytes. Anything else would silently decode as UTF-8.
 * @param value - the option as given
 * @returns `'utf8'` or `null`
 * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` for any other value
 */
export function checkEncoding(value: unknown): 'utf8' | null {
  if (value === undefined || value === 'utf8') return 'utf8';
  if (value === null) return null;
  throw new ProtocolError('ERR_INVALID_ARGUMENT', `encoding must be 'utf8' or null, got ${String(value)}`);
}
