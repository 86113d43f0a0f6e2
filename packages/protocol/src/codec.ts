/**
 * An incremental frame decoder created by a {@link Codec}. Feed it bytes in any chunking; it
 * returns every frame completed so far and keeps at most about the codec's maximum frame size
 * of unfinished input.
 *
 * Binary frames may be views into the chunks you pushed (no copy), so do not modify a chunk
 * after pushing it.
 *
 * @example
 * ```ts
 * const decoder = new LinesCodec().createDecoder();
 * decoder.push(Buffer.from('a\nb')); // ['a']
 * decoder.end();                     // ['b']
 * ```
 */
export interface Decoder<TFrame> {
  /**
   * Decodes the frames completed by `chunk`.
   * @param chunk - the next bytes of the stream
   * @returns the frames completed by this chunk, in order (often empty)
   * @throws {@link FrameTooLargeError} / {@link FrameError} when the input is bad; the decoder is
   *   then finished and keeps throwing the same error
   */
  push(chunk: Uint8Array): TFrame[];
  /**
   * Signals the end of the stream.
   * @returns a last unterminated frame, when the codec allows one
   * @throws {@link FrameError} `ERR_FRAME_TRUNCATED` when the stream ended inside a frame that
   *   cannot be completed
   */
  end(): TFrame[];
}

/**
 * A two-way framing codec: `createDecoder()` splits a byte stream into frames, `encode()` turns
 * one frame into bytes ready to write.
 *
 * @example
 * ```ts
 * const codec: Codec<string> = new LinesCodec();
 * writer.write(codec.encode('hello') as Uint8Array);
 * ```
 */
export interface Codec<TFrame> {
  /**
   * @returns a fresh decoder with its own state (one per connection)
   */
  createDecoder(): Decoder<TFrame>;
  /**
   * Encodes one frame, terminator or length prefix included.
   * @param frame - the frame to encode
   * @returns the bytes, or several byte arrays to write in order (saves a copy)
   * @throws {@link FrameTooLargeError} when the frame exceeds the codec's maximum;
   *   {@link FrameError} `ERR_FRAME_INVALID` when it cannot be framed (for example a line that
   *   contains a line terminator)
   */
  encode(frame: TFrame): Uint8Array | Uint8Array[];
}
