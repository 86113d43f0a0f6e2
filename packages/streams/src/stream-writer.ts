import { abortReasonToError, ConnectionClosedError } from './errors.js';
import { untilAborted } from './internal/abortable.js';
import type { ExtraInfo, StartTlsOptions, StreamTransport } from './transport.js';

/** Returned by every `drain()` that need not wait: no allocation on the hot path. */
const RESOLVED: Promise<void> = Promise.resolve();

type DrainWaiter = { resolve: () => void; reject: (err: unknown) => void };

/**
 * The writing half of a connection (asyncio's `StreamWriter`).
 *
 * `write()` never blocks: bytes are queued and many writes in one tick leave in one syscall.
 * `await drain()` applies back-pressure: it waits while the write buffer is above the
 * high-water mark and any number of callers may await it at once.
 *
 * @example
 * ```ts
 * writer.write('hello\n');
 * await writer.drain();
 * writer.close();
 * await writer.waitClosed();
 * ```
 */
export class StreamWriter {
  /** The connection underneath (for adapter authors: buffer sizes, water marks, pause/resume). */
  readonly transport: StreamTransport;
  #paused = false;
  /** Created by the first `drain()` that has to wait: most connections never need one. */
  #drainWaiters: DrainWaiter[] | null = null;
  #lostError: Error | null = null;
  #reported: Error | null = null;
  #lost = false;

  /** @param transport - the connection to write to; the caller routes its events via `onWritePaused()` and friends (internal) */
  constructor(transport: StreamTransport) {
    this.transport = transport;
  }

  /**
   * Queues bytes (strings are UTF-8 encoded). Never blocks; pair with `await drain()`.
   * @param data - bytes or text
   * @throws {@link WriteAfterCloseError} after `close()` or `writeEof()`
   * @throws {@link ConnectionClosedError} once the connection is lost (reset, peer gone); `cause` is its error
   */
  write(data: Uint8Array | string): void {
    // The transport throws first when this side closed it, which is the more precise report.
    this.transport.write(data);
    if (this.#lost) throw this.#closedError();
  }

  /**
   * Queues each item in order.
   * @param lines - bytes or strings, written as they are (no separator is added)
   * @throws as {@link StreamWriter.write}
   */
  writeLines(lines: Iterable<Uint8Array | string>): void {
    for (const line of lines) this.write(line);
  }

  /**
   * Waits until the write buffer is at or below the low-water mark; resolves at once when it
   * is not above the high-water mark.
   * @param options - `signal` stops waiting (nothing is discarded)
   * @throws {@link ConnectionClosedError} when the connection is lost while waiting, or was lost with an
   * error before (`cause` is that error, e.g. `ECONNRESET`); an aborted `signal` gives `AbortedError`/`TimeoutError`
   */
  drain(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    // A connection that failed rejects with its error; one that closed cleanly has nothing left to wait for.
    if (this.#lost) return this.#lostError === null ? RESOLVED : Promise.reject(this.#closedError());
    if (!this.#paused) return RESOLVED;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortReasonToError(signal, 'drain'));
    return new Promise<void>((resolve, reject) => {
      const waiter: DrainWaiter = { resolve, reject };
      (this.#drainWaiters ??= []).push(waiter);
      if (signal === undefined) return;
      const onAbort = () => {
        const waiters = this.#drainWaiters;
        const i = waiters === null ? -1 : waiters.indexOf(waiter);
        if (i !== -1) waiters!.splice(i, 1);
        reject(abortReasonToError(signal, 'drain'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      waiter.reject = (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
    });
  }

  /** One error per lost connection, so every waiter and later call sees the same object. */
  #closedError(): Error {
    if (this.#reported !== null) return this.#reported;
    const cause = this.#lostError;
    let err: ConnectionClosedError;
    if (cause === null) err = new ConnectionClosedError('connection closed');
    else if (cause instanceof ConnectionClosedError) err = cause;
    else {
      const code = (cause as NodeJS.ErrnoException).code;
      err = new ConnectionClosedError(`connection lost: ${code ?? cause.message}`, { cause });
    }
    this.#reported = err;
    return err;
  }

  /** Flushes queued bytes, then closes the connection. */
  close(): void {
    this.transport.close();
  }

  /**
   * Resolves once the connection is fully closed.
   * @param options - `signal` stops waiting (the connection is left as it is: abort it to end it now)
   * @throws only when `signal` aborts: `AbortedError`/`TimeoutError`
   */
  waitClosed(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    return untilAborted(this.transport.closed, options?.signal, 'waitClosed');
  }

  /** `true` once the connection is closing or closed. */
  isClosing(): boolean {
    return this.transport.isClosing();
  }

  /** `true` when {@link StreamWriter.writeEof} is supported: plain TCP and Unix sockets, not TLS. */
  canWriteEof(): boolean {
    return this.transport.canWriteEof();
  }

  /** Flushes, then sends EOF (FIN); the peer can still answer and the reader keeps reading. */
  writeEof(): void {
    this.transport.writeEof();
  }

  /**
   * Connection details, like asyncio's `get_extra_info`. Known names are typed (see {@link ExtraInfo}).
   * @param name - `peername`, `sockname`, `socket`, `tls`, or for TLS `peercert`, `cipher`, `alpnProtocol`
   * @returns the detail, or `undefined` when it is not available
   * @example
   * ```ts
   * const peer = writer.getExtraInfo('peername'); // SocketAddress | undefined
   * console.log(`${peer?.address}:${peer?.port}`);
   * ```
   */
  getExtraInfo<TName extends keyof ExtraInfo>(name: TName): ExtraInfo[TName] | undefined;
  /**
   * Connection details with a fallback, like `get_extra_info(name, default)`.
   * @param name - a name of {@link ExtraInfo}
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
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this.transport.getExtraInfo(name, defaultValue);
  }

  /**
   * Upgrades the connection to TLS in place: the same reader and writer continue over TLS and
   * bytes already buffered in the reader are kept. A writer from `startServer` performs the server
   * side of the handshake (pass `key`/`cert`).
   * @param options - `tls.ConnectionOptions` (client) or `tls.TlsOptions` (server)
   * @throws {@link StreamsError} `ERR_TLS_UPGRADE` when the handshake fails
   */
  startTls(options: StartTlsOptions = {}): Promise<void> {
    return this.transport.startTls(options);
  }

  /** @internal Transport event: the write buffer crossed the high-water mark. */
  onWritePaused(): void {
    this.#paused = true;
  }

  /** @internal Transport event: the write buffer fell to the low-water mark. */
  onWriteResumed(): void {
    this.#paused = false;
    const waiters = this.#drainWaiters;
    if (waiters === null) return;
    this.#drainWaiters = null;
    for (const w of waiters) w.resolve();
  }

  /** @internal Transport event: the connection is gone. */
  onClosed(error: Error | null): void {
    this.#lost = true;
    this.#lostError = error;
    this.#paused = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = null;
    if (waiters === null || waiters.length === 0) return;
    const err = this.#closedError();
    for (const w of waiters) w.reject(err);
  }
}
