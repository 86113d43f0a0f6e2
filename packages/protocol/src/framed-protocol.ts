import type { Codec, Decoder } from './codec.js';
import { FrameError, ProtocolError } from './errors.js';
import type { Protocol, Transport } from './protocol.js';

/**
 * A {@link Protocol} that decodes its byte stream with a codec and hands over whole frames:
 * the callback-style twin of {@link framed}. Subclass it and override `frameReceived`, or pass
 * an `onFrame` callback.
 *
 * On bad input (`FrameTooLargeError`, `FrameError`) the frames before it are still delivered,
 * then `frameError(err)` runs; by default it aborts the connection, so `connectionLost(err)`
 * follows; it runs once and later data is ignored. After `close()`/`abort()` in `frameReceived`,
 * the remaining frames of that chunk are not delivered. Overriding `connectionMade` or
 * `eofReceived`? Call `super`'s.
 *
 * @example
 * ```ts
 * class Shout extends FramedProtocol<string> {
 *   constructor() { super(new LinesCodec()); }
 *   override frameReceived(line: string) { this.send(line.toUpperCase()); }
 * }
 * await createServer(() => new Shout(), '127.0.0.1', 0);
 * ```
 */
export class FramedProtocol<TFrame> implements Protocol {
  /** The codec frames are decoded and encoded with. */
  readonly codec: Codec<TFrame>;
  /** The connection, once `connectionMade` ran. */
  transport: Transport | null = null;
  readonly #onFrame: ((frame: TFrame, protocol: FramedProtocol<TFrame>) => void) | undefined;
  #decoder: Decoder<TFrame> | null = null;

  /**
   * @param codec - the framing
   * @param onFrame - called for each frame, instead of overriding `frameReceived`
   */
  constructor(codec: Codec<TFrame>, onFrame?: (frame: TFrame, protocol: FramedProtocol<TFrame>) => void) {
    this.codec = codec;
    this.#onFrame = onFrame;
  }

  /**
   * Stores the transport and creates this connection's decoder.
   * @param transport - the connection
   */
  connectionMade(transport: Transport): void {
    this.transport = transport;
    this.#decoder = this.codec.createDecoder();
  }

  /**
   * Decodes `data` and calls `frameReceived` for each complete frame.
   * @param data - received bytes
   */
  dataReceived(data: Uint8Array): void {
    const decoder = this.#decoder;
    if (decoder === null) return;
    let frames: TFrame[];
    try {
      frames = decoder.push(data);
    } catch (err) {
      this.#failed(err);
      return;
    }
    this.#deliver(frames);
  }

  /**
   * Delivers a last unterminated frame, if the codec allows one.
   * @returns `undefined`: the transport closes after the peer's EOF (override to half-close)
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: overrides may return true to stay half-open
  eofReceived(): boolean | undefined | void {
    const decoder = this.#decoder;
    if (decoder === null) return undefined;
    let frames: TFrame[];
    try {
      frames = decoder.end();
    } catch (err) {
      this.#failed(err);
      return undefined;
    }
    this.#deliver(frames);
    return undefined;
  }

  /**
   * One decoded frame. Override it, or pass `onFrame` to the constructor.
   * @param frame - the frame
   */
  frameReceived(frame: TFrame): void {
    this.#onFrame?.(frame, this);
  }

  /**
   * The input could not be decoded. By default the connection is aborted with `error` (queued
   * writes are discarded), so `connectionLost(error)` follows. Override it to reply first and
   * `close()` gracefully instead.
   * @param error - {@link FrameTooLargeError} or {@link FrameError}
   */
  frameError(error: FrameError): void {
    this.transport?.abort(error);
  }

  /**
   * Encodes and writes one frame (never blocks; use `pauseWriting`/`resumeWriting` or the
   * transport's buffer size for back-pressure).
   * @param frame - the frame
   * @throws whatever the codec's `encode()` throws; `ERR_WRITE_AFTER_CLOSE` after close;
   *   {@link ProtocolError} `ERR_TRANSPORT_CLOSED` before `connectionMade`
   */
  send(frame: TFrame): void {
    const transport = this.transport;
    if (transport === null)
      throw new ProtocolError('ERR_TRANSPORT_CLOSED', 'send() before connectionMade: no transport yet');
    const bytes = this.codec.encode(frame);
    if (Array.isArray(bytes)) transport.writeLines(bytes);
    else transport.write(bytes);
  }

  /**
   * Hands `frames` to `frameReceived` in order, stopping once the transport is closing: after
   * `close()` or `abort()` in a `frameReceived`, the rest of the chunk is not delivered (as in
   * asyncio, no data after close), so a handler never writes into a closed transport.
   */
  #deliver(frames: readonly TFrame[]): void {
    for (const frame of frames) {
      if (this.transport?.isClosing() === true) return;
      this.frameReceived(frame);
    }
  }

  #failed(err: unknown): void {
    if (!(err instanceof FrameError)) throw err;
    // The decoder is finished: it would throw this same error (with the same frames) again on
    // every later chunk, so later data is ignored and frameError runs once.
    this.#decoder = null;
    this.#deliver(err.frames as TFrame[]);
    if (this.transport?.isClosing() === true) return;
    this.frameError(err);
  }
}
