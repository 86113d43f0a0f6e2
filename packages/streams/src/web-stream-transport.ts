import type {
  ReadableStream,
  ReadableStreamDefaultReader,
  WritableStream,
  WritableStreamDefaultWriter,
} from 'node:stream/web';
import { StreamsError, WriteAfterCloseError } from './errors.js';
import { TransportCore, toError } from './internal/transport-core.js';
import {
  resolveWriteLimits,
  type StreamTransport,
  type TransportListener,
  type WriteBufferLimits,
} from './transport.js';

/** Options for {@link WebStreamTransport}. */
export interface WebStreamTransportOptions {
  /** Write-buffer high-water mark in bytes (queued here plus in `writable`, not yet written). @default 65536 */
  highWaterMark?: number | undefined;
  /** Write-buffer low-water mark in bytes. @default a quarter of the high-water mark (16384) */
  lowWaterMark?: number | undefined;
  /** Values for `getExtraInfo(name)`, e.g. `{ peername: { address, port, family } }` from a Deno `conn.remoteAddr`. */
  extraInfo?: Record<string, unknown> | undefined;
}

/** Writes below this size are copied, so callers may reuse their buffers at once (as on a socket). */
const COPY_MAX = 16_384;
const noop = (): void => {};

/**
 * A {@link StreamTransport} over a WHATWG `ReadableStream`/`WritableStream` pair, with the rules of a
 * socket transport: writes in one tick leave as one `write()` on the web writer (small ones
 * concatenated), writing pauses above the high-water mark of bytes not yet accepted by the sink and
 * resumes at the low mark, `pauseReading()` stops pulling from `readable` (its source is then held
 * back by its own queue), and a stream that errors makes the connection lost at once.
 * The connection is closed once `readable` ended and `writable` is closed, or on `close()`/`abort()`.
 * For adapter authors; most users call `fromWebStreams`.
 *
 * @example
 * ```ts
 * const transport = new WebStreamTransport(conn.readable, conn.writable, { extraInfo: { peername } });
 * const [reader, writer] = streamsFromTransport(transport);
 * ```
 */
export class WebStreamTransport implements StreamTransport {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #info: Record<string, unknown>;
  #core: TransportCore;
  #wake: (() => void) | null = null;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes handed to the web writer whose write() has not resolved yet. */
  #inFlight = 0;
  #flushScheduled = false;
  #writeClosed: string | null = null;
  #readDone = false;
  #writeDone = false;
  readonly closed: Promise<void>;

  /**
   * @param readable - bytes from the peer (`Uint8Array` chunks; strings are UTF-8 encoded); it is locked
   * @param writable - bytes to the peer; it is locked
   * @param options - water marks and `getExtraInfo` values
   * @throws `StreamsError` `ERR_INVALID_ARGUMENT` for bad water marks
   */
  constructor(
    readable: ReadableStream<Uint8Array>,
    writable: WritableStream<Uint8Array>,
    options: WebStreamTransportOptions = {},
  ) {
    this.#core = new TransportCore(this, resolveWriteLimits(options.highWaterMark, options.lowWaterMark));
    this.#info = options.extraInfo ?? {};
    this.closed = this.#core.closed;
    this.#reader = readable.getReader();
    this.#writer = writable.getWriter();
    this.#writer.closed.catch((err: unknown) => this.#fail(err));
    void this.#pump();
  }

  get error(): Error | null {
    return this.#core.error;
  }

  /** One read at a time, only while reading is wanted: a paused transport pulls nothing. */
  async #pump(): Promise<void> {
    try {
      for (;;) {
        // Nobody is listening yet: hold at most one high-water mark.
        while (!this.#core.wantsData()) {
          if (this.#core.lost) return;
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
        }
        const { value, done } = await this.#reader.read();
        if (this.#core.lost) return;
        if (done) {
          this.#readDone = true;
          this.#core.receiveEof();
          this.#maybeFinished();
          return;
        }
        const chunk = toBytes(value);
        if (chunk.byteLength > 0) this.#core.receive(chunk);
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  #wakePump(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #fail(err: unknown): void {
    if (this.#core.lost) return;
    this.#core.setError(toError(err));
    this.#reader.cancel(this.#core.error).catch(noop);
    this.#writer.abort(this.#core.error).catch(noop);
    this.#finish();
  }

  #maybeFinished(): void {
    if (this.#readDone && this.#writeDone) this.#finish();
  }

  #finish(): void {
    if (!this.#core.markLost()) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#wakePump();
    this.#core.notifyClosed();
  }

  setListener(listener: TransportListener): void {
    if (this.#core.setListener(listener)) this.#wakePump();
  }

  write(data: Uint8Array | string): void {
    if (this.#writeClosed !== null) throw new WriteAfterCloseError(this.#writeClosed);
    if (this.#core.lost) return;
    let bytes: Uint8Array;
    if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
    else if (data.byteLength < COPY_MAX) bytes = Buffer.from(data);
    else bytes = data;
    const n = bytes.byteLength;
    if (n === 0) return;
    this.#pending.push(bytes);
    this.#pendingBytes += n;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushTick, this);
    }
    this.#core.pauseWritingIfAbove(this.getWriteBufferSize());
  }

  /** Hands queued bytes to the web writer now: small writes of one tick as one chunk. */
  flush(): void {
    this.#flushScheduled = false;
    const pending = this.#pending;
    if (pending.length === 0 || this.#core.lost) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    let run: Uint8Array[] = [];
    let runBytes = 0;
    for (const chunk of pending) {
      if (chunk.byteLength < COPY_MAX) {
        run.push(chunk);
        runBytes += chunk.byteLength;
        continue;
      }
      if (run.length > 0) this.#send(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
      run = [];
      runBytes = 0;
      this.#send(chunk);
    }
    if (run.length > 0) this.#send(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
  }

  #send(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    this.#inFlight += n;
    this.#writer.write(chunk).then(
      () => {
        this.#inFlight -= n;
        this.#maybeResume();
      },
      (err: unknown) => this.#fail(err),
    );
  }

  #maybeResume(): void {
    if (!this.#core.lost) this.#core.resumeWritingIfAtOrBelow(this.getWriteBufferSize());
  }

  /** Flushes, then closes `writable` (after the chunks already queued in it); reading goes on. */
  writeEof(): void {
    if (this.#writeClosed !== null || this.#core.lost) return;
    this.#writeClosed = 'writeEof()';
    this.#closeWritable();
  }

  #closeWritable(): Promise<void> {
    this.flush();
    return this.#writer.close().then(
      () => {
        this.#writeDone = true;
        this.#maybeFinished();
      },
      (err: unknown) => this.#fail(err),
    );
  }

  canWriteEof(): boolean {
    return true;
  }

  /** Flushes and closes `writable`, then cancels `readable`. */
  close(): void {
    if (!this.#core.markClosing()) return;
    const wasOpen = this.#writeClosed === null;
    this.#writeClosed ??= 'close()';
    const writable = wasOpen ? this.#closeWritable() : this.#writer.closed.catch(noop);
    void writable.then(() => {
      if (this.#core.lost) return;
      this.#reader.cancel().catch(noop);
      this.#finish();
    });
  }

  abort(error?: Error): void {
    if (this.#core.lost) return;
    this.#writeClosed ??= 'abort()';
    this.#core.markClosing();
    this.#core.setError(error);
    this.#reader.cancel(error).catch(noop);
    this.#writer.abort(error).catch(noop);
    this.#finish();
  }

  isClosing(): boolean {
    return this.#core.isClosing();
  }

  pauseReading(): void {
    this.#core.pauseReading();
  }

  resumeReading(): void {
    if (this.#core.resumeReading()) this.#wakePump();
  }

  isReading(): boolean {
    return this.#core.isReading();
  }

  getWriteBufferSize(): number {
    return this.#pendingBytes + this.#inFlight;
  }

  setWriteBufferLimits(limits: { high?: number | undefined; low?: number | undefined }): void {
    if (!this.#core.setLimits(resolveWriteLimits(limits.high, limits.low), this.getWriteBufferSize()))
      this.#maybeResume();
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return this.#core.limits();
  }

  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    if (name === 'tls') return this.#info.tls ?? false;
    const value = this.#info[name];
    return value === undefined ? defaultValue : value;
  }

  startTls(): Promise<void> {
    return Promise.reject(new StreamsError('ERR_TLS_UPGRADE', 'startTls() is not supported on web streams'));
  }
}

function flushTick(transport: WebStreamTransport): void {
  transport.flush();
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new StreamsError('ERR_INVALID_ARGUMENT', `readable yielded a ${typeof value}, expected bytes`);
}
