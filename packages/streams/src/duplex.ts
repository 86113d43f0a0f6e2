import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';
import type { SocketAddress } from './transport.js';

/** Options for {@link toDuplex}. */
export interface ToDuplexOptions {
  /**
   * Most bytes the Duplex's readable side holds (`readableHighWaterMark`); `read()` never pulls more
   * from the reader than fits.
   * @default the reader's `limit` (65536)
   */
  readableHighWaterMark?: number | undefined;
  /**
   * Keep the writable side open after the readable side ended (the peer's FIN), as a `net.Socket`
   * made with `allowHalfOpen: true`. With `false`, the Duplex ends its writable side then.
   * @default true
   */
  allowHalfOpen?: boolean | undefined;
}

/** @inline */
type WriteCallback = (error?: Error | null) => void;

/**
 * A Node `Duplex` over an asyncnet `[reader, writer]` pair, shaped like a `net.Socket` where code
 * such as `node:http`, `ws` and `node:tls` looks: `remoteAddress`, `setTimeout`, `setNoDelay`,
 * `setKeepAlive`, `destroySoon`, `bytesRead`/`bytesWritten`. Made by {@link toDuplex}.
 *
 * @example
 * ```ts
 * const duplex = toDuplex(reader, writer);
 * console.log(duplex.remoteAddress, duplex.remotePort);
 * await pipeline(duplex, createWriteStream('capture.bin'));
 * ```
 */
export class ConnectionDuplex extends Duplex {
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  /** Cancels the reader's pending read when the Duplex is destroyed (reads are cancel-safe). */
  readonly #cancel = new AbortController();
  #readPending = false;
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #bytesRead = 0;
  #bytesWritten = 0;

  /** @internal Use {@link toDuplex}. */
  constructor(reader: StreamReader, writer: StreamWriter, options: ToDuplexOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? true,
      readableHighWaterMark: options.readableHighWaterMark ?? reader.limit,
      writableHighWaterMark: writer.transport.getWriteBufferLimits().high,
    });
    this.#reader = reader;
    this.#writer = writer;
    void writer.waitClosed().then(() => this.#transportClosed());
  }

  override _read(): void {
    if (this.#readPending) return;
    this.#readPending = true;
    const room = Math.max(1, this.readableHighWaterMark - this.readableLength);
    this.#reader.read(room, { signal: this.#cancel.signal }).then(
      (chunk) => {
        this.#readPending = false;
        if (this.destroyed) return;
        if (chunk.byteLength === 0) {
          this.push(null);
          return;
        }
        this.#bytesRead += chunk.byteLength;
        this.#touch();
        this.push(chunk);
      },
      (err: Error) => {
        this.#readPending = false;
        if (!this.destroyed) this.destroy(err);
      },
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    try {
      this.#writer.write(chunk);
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.#bytesWritten += chunk.byteLength;
    this.#afterWrite(callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: WriteCallback): void {
    try {
      for (const { chunk } of chunks) {
        this.#writer.write(chunk);
        this.#bytesWritten += chunk.byteLength;
      }
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.#afterWrite(callback);
  }

  /** Above the writer's high-water mark the write stays pending until `drain()`: that is the back-pressure. */
  #afterWrite(callback: WriteCallback): void {
    this.#touch();
    if (!this.#aboveMark()) {
      callback();
      return;
    }
    this.#writer.drain().then(() => callback(), callback);
  }

  #aboveMark(): boolean {
    const t = this.#writer.transport;
    return t.getWriteBufferSize() > t.getWriteBufferLimits().high;
  }

  /**
   * Like `Writable#write`, but also returns `false` while the writer is above its high-water mark
   * (not only once the Duplex's own buffer is full); `'drain'` follows once it is back at its low mark.
   */
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    const ok = super.write(chunk, encoding as BufferEncoding, callback);
    if (ok && this.writableLength > 0 && this.#aboveMark()) {
      // The pending _write callback waits for drain(); Node emits 'drain' when it and the buffer are done.
      (this as unknown as { _writableState: { needDrain: boolean } })._writableState.needDrain = true;
      return false;
    }
    return ok;
  }

  override _final(callback: WriteCallback): void {
    try {
      // TLS cannot half-close: ending the writable side closes the connection once flushed.
      if (this.#writer.canWriteEof()) this.#writer.writeEof();
      else this.#writer.close();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancel.abort();
    this.#clearTimer();
    // A Duplex that finished cleanly still has its last bytes queued: flush them. Anything else aborts.
    if (error === null && this.writableFinished) this.#writer.close();
    else this.#writer.transport.abort(error ?? undefined);
    callback(error);
  }

  /** The connection is gone: fail with its error, or close once the reader's last bytes were read. */
  #transportClosed(): void {
    if (this.destroyed) return;
    const error = this.#writer.transport.error;
    if (error !== null) {
      this.destroy(error);
      return;
    }
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  }

  #touch(): void {
    this.#timer?.refresh();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Emits `'timeout'` after `ms` without reads or writes, as `net.Socket#setTimeout` (nothing is closed).
   * @param ms - idle time in ms; 0 disables
   * @param callback - added as a `'timeout'` listener
   * @returns this
   */
  setTimeout(ms: number, callback?: () => void): this {
    this.#clearTimer();
    this.#timeoutMs = ms;
    if (callback !== undefined) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    if (ms > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.emit('timeout');
      }, ms);
      this.#timer.unref();
    }
    return this;
  }

  /** The idle timeout set with {@link ConnectionDuplex.setTimeout}, in ms (0: none). */
  get timeout(): number {
    return this.#timeoutMs;
  }

  /**
   * Sets `TCP_NODELAY` on the underlying socket, if there is one.
   * @param noDelay - disable Nagle's algorithm
   * @returns this
   */
  setNoDelay(noDelay = true): this {
    this.#socket()?.setNoDelay(noDelay);
    return this;
  }

  /**
   * Enables TCP keep-alive on the underlying socket, if there is one.
   * @param enable - turn probes on or off
   * @param initialDelay - idle ms before the first probe
   * @returns this
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#socket()?.setKeepAlive(enable, initialDelay);
    return this;
  }

  /** Ends the writable side, then destroys the Duplex once it finished (`net.Socket#destroySoon`). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Keeps the process alive while the underlying socket is open (the default). @returns this */
  ref(): this {
    this.#socket()?.ref();
    return this;
  }

  /** Lets the process exit while the underlying socket is open. @returns this */
  unref(): this {
    this.#socket()?.unref();
    return this;
  }

  /** The local address, as `net.Socket#address()`; `{}` when unknown. */
  address(): AddressInfo | Record<string, never> {
    const local = this.#local();
    return local === undefined ? {} : { address: local.address, family: local.family, port: local.port };
  }

  /** The peer's IP address, when known. */
  get remoteAddress(): string | undefined {
    return this.#peer()?.address;
  }

  /** The peer's port, when known. */
  get remotePort(): number | undefined {
    return this.#peer()?.port;
  }

  /** The peer's address family (`IPv4`/`IPv6`), when known. */
  get remoteFamily(): string | undefined {
    return this.#peer()?.family;
  }

  /** The local IP address, when known. */
  get localAddress(): string | undefined {
    return this.#local()?.address;
  }

  /** The local port, when known. */
  get localPort(): number | undefined {
    return this.#local()?.port;
  }

  /** The local address family, when known. */
  get localFamily(): string | undefined {
    return this.#local()?.family;
  }

  /** Bytes pushed to the readable side so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes handed to the writer so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Always `false`: the connection is established before the Duplex exists. */
  get connecting(): boolean {
    return false;
  }

  /** Always `false` (a `net.Socket` is pending until it connects). */
  get pending(): boolean {
    return false;
  }

  #socket(): Socket | undefined {
    return this.#writer.getExtraInfo('socket');
  }

  #peer(): SocketAddress | undefined {
    return this.#writer.getExtraInfo('peername');
  }

  #local(): SocketAddress | undefined {
    const local = this.#writer.getExtraInfo('sockname');
    return typeof local === 'object' ? local : undefined;
  }
}

/**
 * Wraps a `[reader, writer]` pair as a Node `Duplex`, so code written for `net.Socket` can use an
 * asyncnet connection: `http.Server#emit('connection', duplex)`, a `ws` WebSocket over an HTTP
 * upgrade, `tls.connect({ socket: duplex })`, `stream.pipeline()`.
 *
 * Back-pressure goes both ways: `write()` returns `false` while the writer is above its high-water
 * mark (`'drain'` follows at its low mark), and the readable side pulls from the reader only when
 * read, never holding more than its `readableHighWaterMark`. `end()` sends EOF (`writeEof()`), or on
 * TLS closes the connection once flushed; `destroy(err)` aborts the connection; a connection error
 * destroys the Duplex with that error (e.g. `ECONNRESET`).
 *
 * The Duplex owns the pair from now on: do not read from the reader or write to the writer yourself.
 *
 * @param reader - the connection's reader
 * @param writer - the connection's writer
 * @param options - readable buffer size, half-open behaviour
 * @returns a `Duplex` with `net.Socket`'s address getters and socket methods
 * @throws nothing itself; the connection's errors arrive as the Duplex's `'error'` (e.g. `ECONNRESET`,
 *   or `ConnectionClosedError` for a write after the connection was lost)
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 *
 * const http = createServer((req, res) => res.end('hello over asyncnet\n'));
 * const server = await startServer((reader, writer) => {
 *   http.emit('connection', toDuplex(reader, writer));
 * }, '127.0.0.1', 0);
 * ```
 */
export function toDuplex(
  reader: StreamReader,
  writer: StreamWriter,
  options?: ToDuplexOptions,
): ConnectionDuplex {
  return new ConnectionDuplex(reader, writer, options);
}
