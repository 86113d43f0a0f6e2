import type { ExtraInfo, StartTlsOptions } from '@asyncnet/streams';

/**
 * asyncio's `Protocol`: callbacks for one stream connection. Every method is optional.
 *
 * Order: `connectionMade` first, then any number of `dataReceived` (and the flow-control
 * callbacks), at most one `eofReceived`, and `connectionLost` exactly once on every path. An
 * exception thrown from a callback aborts that connection, is passed to `connectionLost` and to
 * the server's `onError`, and never takes the server down.
 *
 * @example
 * ```ts
 * class EchoProtocol implements Protocol {
 *   transport!: Transport;
 *   connectionMade(transport: Transport) { this.transport = transport; }
 *   dataReceived(data: Uint8Array) { this.transport.write(data); }
 * }
 * ```
 */
export interface Protocol {
  /**
   * The connection is established.
   * @param transport - the connection; keep it to write
   */
  connectionMade?(transport: Transport): void;
  /**
   * Bytes arrived. The chunk is yours to keep (it is not reused).
   * @param data - the bytes
   */
  dataReceived?(data: Uint8Array): void;
  /**
   * The peer sent EOF (FIN).
   * @returns `true` to keep the write side open (half-close) so the protocol can still reply;
   *   anything else closes the transport
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most protocols return nothing here
  eofReceived?(): boolean | undefined | void;
  /**
   * The connection is gone; called exactly once.
   * @param error - `null` for a clean close or `abort()`, else the reason (a socket error, or the
   *   exception a callback threw)
   */
  connectionLost?(error: Error | null): void;
  /** The transport's write buffer grew above its high-water mark: stop writing. */
  pauseWriting?(): void;
  /** The write buffer fell to the low-water mark: writing may go on. */
  resumeWriting?(): void;
}

/**
 * asyncio's `BufferedProtocol`: received bytes are copied straight into a buffer the protocol
 * owns, instead of being handed over as new chunks.
 *
 * @example
 * ```ts
 * class Counter implements BufferedProtocol {
 *   buf = new Uint8Array(65536); total = 0;
 *   getBuffer() { return this.buf; }
 *   bufferUpdated(n: number) { this.total += n; }
 * }
 * ```
 */
export interface BufferedProtocol extends Omit<Protocol, 'dataReceived'> {
  /**
   * @param sizeHint - bytes waiting to be delivered (a hint; any non-empty buffer works)
   * @returns a buffer to receive into; its first `bufferUpdated(n)` bytes are filled
   */
  getBuffer(sizeHint: number): Uint8Array;
  /**
   * @param nbytes - how many bytes were written to the start of the last `getBuffer()` result
   */
  bufferUpdated(nbytes: number): void;
}

/**
 * Either kind of stream protocol; the transport checks for `getBuffer` to tell them apart.
 * @example
 * ```ts
 * const p: AnyProtocol = useBuffers ? new CountingBufferedProtocol() : new EchoProtocol();
 * ```
 */
export type AnyProtocol = Protocol | BufferedProtocol;

/**
 * asyncio's `Transport`: the connection a {@link Protocol} writes to and controls.
 *
 * @example
 * ```ts
 * transport.write('hello\n');
 * transport.pauseReading();
 * setTimeout(() => transport.resumeReading(), 100);
 * transport.close();
 * ```
 */
export interface Transport {
  /**
   * Queues bytes (strings as UTF-8); never blocks. Writes in one tick leave in one syscall.
   * @param data - bytes or text
   * @throws `WriteAfterCloseError` (`ERR_WRITE_AFTER_CLOSE`, from `@asyncnet/streams`) after
   *   `close()`, `abort()` or `writeEof()`
   */
  write(data: Uint8Array | string): void;
  /**
   * Queues each item in order (no separator is added).
   * @param lines - bytes or strings
   */
  writeLines(lines: Iterable<Uint8Array | string>): void;
  /** Flushes, then sends EOF (FIN); data keeps arriving. @throws `StreamsError` on TLS */
  writeEof(): void;
  /** @returns whether {@link Transport.writeEof} is supported (not on TLS) */
  canWriteEof(): boolean;
  /** Flushes queued bytes, then closes. `connectionLost(null)` follows. */
  close(): void;
  /**
   * Discards queued bytes and closes now.
   * @param error - passed on to `connectionLost` (default `null`)
   */
  abort(error?: Error): void;
  /** @returns `true` once closing or closed */
  isClosing(): boolean;
  /**
   * Connection details, as asyncio's `get_extra_info`.
   * @param name - `peername`, `sockname`, `socket`, or on TLS `peercert`, `cipher`, `alpnProtocol`
   * @returns the detail, or `undefined` when it is not available; known names are typed (see
   *   `ExtraInfo` in `@asyncnet/streams`)
   */
  getExtraInfo<TName extends keyof ExtraInfo>(name: TName): ExtraInfo[TName] | undefined;
  /**
   * Connection details with a fallback, as `get_extra_info(name, default)`.
   * @param name - a name of `ExtraInfo` (from `@asyncnet/streams`)
   * @param defaultValue - returned when the detail is not available
   * @returns the detail, or `defaultValue`
   */
  getExtraInfo<TName extends keyof ExtraInfo, TDefault>(
    name: TName,
    defaultValue: TDefault,
  ): ExtraInfo[TName] | TDefault;
  /**
   * A detail under any other name (untyped).
   * @param name - the detail's name
   * @param defaultValue - returned when the detail is not available
   * @returns the detail, or `defaultValue`
   */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  /** Stops `dataReceived` until {@link Transport.resumeReading}; nothing is lost. */
  pauseReading(): void;
  /** Resumes delivery, starting with anything held while paused. */
  resumeReading(): void;
  /** @returns whether data is being delivered */
  isReading(): boolean;
  /**
   * Sets the write-buffer water marks for `pauseWriting` / `resumeWriting`.
   * @param limits - `high` (default 64 KiB, or 4 x `low`) and `low` (default `high / 4`)
   * @throws `StreamsError` `ERR_INVALID_ARGUMENT` unless `0 <= low <= high`
   */
  setWriteBufferLimits(limits: { high?: number; low?: number }): void;
  /** @returns bytes queued and not yet handed to the kernel */
  getWriteBufferSize(): number;
  /** @returns the current water marks */
  getWriteBufferLimits(): { high: number; low: number };
  /** @returns the protocol receiving this transport's events */
  getProtocol(): AnyProtocol;
  /**
   * Routes further events to another protocol (asyncio's `set_protocol`); it does not get
   * `connectionMade`.
   * @param protocol - the new protocol
   */
  setProtocol(protocol: AnyProtocol): void;
  /**
   * Upgrades the connection to TLS in place (asyncio's `loop.start_tls`); the protocol keeps
   * receiving decrypted data.
   * @param options - `tls.ConnectionOptions` (client) or `tls.TlsOptions` (server side)
   * @returns resolves after the handshake
   * @throws `StreamsError` `ERR_TLS_UPGRADE` when the handshake fails
   */
  startTls(options?: StartTlsOptions): Promise<void>;
  /** Settles (never rejects) after `connectionLost` has run (or, after {@link detachStreams}, once the connection ends). */
  readonly closed: Promise<void>;
}
