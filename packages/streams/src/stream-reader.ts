import { asBuffer } from './buffer-view.js';
import {
  abortReasonToError,
  IncompleteReadError,
  LimitOverrunError,
  ReadPendingError,
  StreamsError,
} from './errors.js';
import { ByteQueue } from './internal/byte-queue.js';

/** Default buffer limit for readers: 64 KiB, as in asyncio. */
export const DEFAULT_LIMIT = 65_536;

/** Options accepted by every read. */
export interface ReadOptions {
  /** Cancels the read. Nothing is consumed by a cancelled read. */
  signal?: AbortSignal | undefined;
}

/** A separator for {@link StreamReader.readUntil}: a string (UTF-8), bytes, or a list of either. */
export type Separator = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

/** What a reader needs from its connection to apply back-pressure. */
export interface ReadFlowControl {
  pauseReading(): void;
  resumeReading(): void;
}

/** Options for {@link StreamReader}. */
export interface StreamReaderOptions {
  /**
   * Maximum line / separator-search length, and the flow-control unit: the connection is paused
   * when more than `2 * limit` bytes are buffered and resumed at `limit`.
   * @default 65536
   */
  limit?: number | undefined;
  /** The connection to pause and resume; none for a reader fed by hand. */
  flowControl?: ReadFlowControl | undefined;
}

const NEWLINE: Uint8Array = Buffer.from('\n');
const EMPTY: Buffer = Buffer.alloc(0);
/**
 * Shared by every reader that has not received a byte yet. Never pushed to (feedData swaps in a
 * queue of its own first), so every read of it sees an empty queue.
 */
const EMPTY_QUEUE = new ByteQueue();

type Waiter = { resolve: () => void; reject: (err: unknown) => void };

/** A `read()` that found nothing to return; `parked` while it waits for a wake-up. */
type PendingRead = {
  n: number;
  resolve: (bytes: Buffer) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  parked: boolean;
  onAbort: (() => void) | null;
};

/**
 * The reading half of a connection (asyncio's `StreamReader`).
 *
 * Bytes are buffered as a list of chunks; results are `Buffer` views where possible (no copy).
 * Only one read may be pending at a time. Every read is cancel-safe: a read that is aborted
 * consumes nothing.
 *
 * @example
 * ```ts
 * const [reader, writer] = await openConnection('127.0.0.1', 8888);
 * const greeting = await reader.readLine();
 * const header = await reader.readExactly(4);
 * for await (const line of reader) console.log(line.toString());
 * ```
 */
export class StreamReader implements AsyncIterable<Buffer> {
  /** Maximum line / separator-search length in bytes. */
  readonly limit: number;
  /** {@link EMPTY_QUEUE} until the first bytes arrive: an idle connection allocates no queue. */
  #queue: ByteQueue = EMPTY_QUEUE;
  #eof = false;
  #exception: Error | null = null;
  #waiter: Waiter | null = null;
  /** The `read()` waiting for data, if any (other reads wait through `#waiter`). */
  #pendingRead: PendingRead | null = null;
  /**
   * The read in progress, from its start until it settles, so a second one is refused. A token
   * rather than a flag: a cancelled read releases the reader at once, and its late cleanup must
   * not release a read started after it.
   */
  #owner: object | null = null;
  #flow: ReadFlowControl | undefined;
  #paused = false;

  /** @param options - buffer limit and the connection to apply back-pressure to */
  constructor(options: StreamReaderOptions = {}) {
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new StreamsError('ERR_INVALID_ARGUMENT', `limit must be a positive integer, got ${limit}`);
    }
    this.limit = limit;
    this.#flow = options.flowControl;
  }

  /** Bytes currently buffered and not yet read. */
  get bufferedSize(): number {
    return this.#queue.size;
  }

  /** `true` once EOF was fed and every buffered byte was read. */
  atEof(): boolean {
    return this.#eof && this.#queue.size === 0;
  }

  /** The error the connection failed with, or `null`. */
  exception(): Error | null {
    return this.#exception;
  }

  /**
   * Appends received bytes (for transports, adapters and tests).
   * @param chunk - bytes received; kept by reference (small chunks are copied together once many are buffered)
   */
  feedData(chunk: Uint8Array): void {
    if (this.#eof) throw new StreamsError('ERR_INVALID_ARGUMENT', 'feedData() after feedEof()');
    if (chunk.byteLength === 0) return;
    let queue = this.#queue;
    if (queue === EMPTY_QUEUE) {
      queue = new ByteQueue();
      this.#queue = queue;
    }
    queue.push(asBuffer(chunk));
    this.#wake();
    if (!this.#paused && this.#flow !== undefined && this.#queue.size > 2 * this.limit) {
      this.#paused = true;
      this.#flow.pauseReading();
    }
  }

  /** Marks the end of the stream (for transports, adapters and tests). */
  feedEof(): void {
    this.#eof = true;
    this.#wake();
  }

  /**
   * Fails the stream: pending and future reads that cannot be served from the buffer reject
   * with `err`.
   * @param err - the connection's error
   */
  setException(err: Error): void {
    this.#exception = err;
    const pending = this.#pendingRead;
    if (pending !== null && pending.parked) {
      this.#settleRead(pending);
      pending.reject(err);
    }
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.reject(err);
    }
  }

  /**
   * Reads up to `n` bytes, returning as soon as any are available; with `n < 0` (the default)
   * reads until EOF. Returns an empty result at EOF.
   *
   * @param n - maximum bytes to return, or -1 for everything until EOF
   * @param options - `signal` to cancel
   * @returns the bytes read
   * @throws the connection's error, `AbortedError` / `TimeoutError` when cancelled
   */
  read(n = -1, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isInteger(n)) {
      return Promise.reject(
        new StreamsError('ERR_INVALID_ARGUMENT', `read() needs an integer byte count, got ${n}`),
      );
    }
    if (this.#owner !== null) return Promise.reject(new ReadPendingError('read'));
    if (n === 0) return Promise.resolve(EMPTY);
    if (this.#canRead(n)) return Promise.resolve(this.#consumeRead(n));
    const signal = options?.signal;
    if (this.#exception !== null) return Promise.reject(this.#exception);
    if (signal?.aborted) return Promise.reject(abortReasonToError(signal, 'read'));
    // No async frame and no per-wait promise: an idle connection parked in read() holds one promise
    // and one small record.
    return new Promise<Buffer>((resolve, reject) => {
      const pending: PendingRead = { n, resolve, reject, signal, parked: false, onAbort: null };
      this.#owner = pending;
      this.#pendingRead = pending;
      if (signal !== undefined) {
        pending.onAbort = () => {
          // Woken and about to retry: the retry sees the abort if it has to wait again.
          if (!pending.parked) return;
          this.#settleRead(pending);
          pending.reject(abortReasonToError(signal, 'read'));
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#park(pending);
    });
  }

  /** Whether `read(n)` can complete now: some bytes (or EOF) for `n > 0`, EOF for `n < 0`. */
  #canRead(n: number): boolean {
    return n < 0 ? this.#eof : this.#queue.size > 0 || this.#eof;
  }

  #consumeRead(n: number): Buffer {
    const size = this.#queue.size;
    return this.#consume(n < 0 ? size : Math.min(n, size));
  }

  #park(pending: PendingRead): void {
    // Never wait with the connection paused: that would deadlock a reader below its limit.
    if (this.#paused) {
      this.#paused = false;
      this.#flow?.resumeReading();
    }
    pending.parked = true;
  }

  /** Runs a microtask after the wake-up (as an awaited wait would), so bytes fed in the same tick are included. */
  #retryRead(pending: PendingRead): void {
    if (this.#pendingRead !== pending) return;
    if (this.#canRead(pending.n)) {
      this.#settleRead(pending);
      pending.resolve(this.#consumeRead(pending.n));
      return;
    }
    if (this.#exception !== null) {
      this.#settleRead(pending);
      pending.reject(this.#exception);
      return;
    }
    if (pending.signal?.aborted) {
      this.#settleRead(pending);
      pending.reject(abortReasonToError(pending.signal, 'read'));
      return;
    }
    this.#park(pending);
  }

  /** Releases the reader from `pending` (the caller resolves or rejects it). */
  #settleRead(pending: PendingRead): void {
    pending.parked = false;
    this.#pendingRead = null;
    if (this.#owner === pending) this.#owner = null;
    if (pending.onAbort !== null) pending.signal!.removeEventListener('abort', pending.onAbort);
  }

  /**
   * Reads exactly `n` bytes.
   * @param n - bytes to read
   * @param options - `signal` to cancel
   * @returns exactly `n` bytes
   * @throws {@link IncompleteReadError} at EOF, with the bytes that did arrive (they are consumed)
   */
  async readExactly(n: number, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isInteger(n) || n < 0) {
      throw new StreamsError('ERR_INVALID_ARGUMENT', `readExactly() needs a non-negative integer, got ${n}`);
    }
    if (this.#owner !== null) throw new ReadPendingError('readExactly');
    const owner = {};
    this.#owner = owner;
    try {
      while (this.#queue.size < n) {
        if (this.#eof) throw new IncompleteReadError(this.#consume(this.#queue.size), n);
        await this.#wait('readExactly', options?.signal);
      }
      return this.#consume(n);
    } finally {
      if (this.#owner === owner) this.#owner = null;
    }
  }

  /**
   * Reads one line, including its `\n`. At EOF returns the unterminated rest, then an empty
   * result. Unlike asyncio, a line longer than `limit` throws and **keeps** the data buffered.
   *
   * @param options - `signal` to cancel
   * @returns the line with its terminator, a last partial line, or empty at EOF
   * @throws {@link LimitOverrunError} when no `\n` is found within `limit` bytes
   */
  readLine(options?: ReadOptions): Promise<Buffer> {
    // Fast path: a whole line already buffered resolves without an extra async frame.
    const line = this.#owner !== null ? null : this.#queue.takeLine(this.limit);
    if (line !== null) {
      if (this.#paused) this.#resumeIfBelowLimit();
      return Promise.resolve(line);
    }
    return this.#readLineSlow(options);
  }

  async #readLineSlow(options?: ReadOptions): Promise<Buffer> {
    try {
      return await this.#readUntil([NEWLINE], 'readLine', options?.signal);
    } catch (err) {
      if (err instanceof IncompleteReadError) return err.partial;
      throw err;
    }
  }

  /**
   * Reads up to and including `separator`. With a list of separators the earliest match wins
   * (on a tie, the longest separator).
   *
   * @param separator - string, bytes, or a list of either
   * @param options - `signal` to cancel
   * @returns the data including the separator
   * @throws {@link LimitOverrunError} past `limit` (data stays buffered),
   *   {@link IncompleteReadError} at EOF without a separator (`partial` holds the rest, consumed)
   */
  readUntil(separator: Separator = '\n', options?: ReadOptions): Promise<Buffer> {
    return this.#readUntil(toSeparators(separator), 'readUntil', options?.signal);
  }

  async #readUntil(seps: Uint8Array[], method: string, signal: AbortSignal | undefined): Promise<Buffer> {
    if (this.#owner !== null) throw new ReadPendingError(method);
    const owner = {};
    this.#owner = owner;
    try {
      return await this.#searchUntil(seps, method, signal);
    } finally {
      if (this.#owner === owner) this.#owner = null;
    }
  }

  async #searchUntil(seps: Uint8Array[], method: string, signal: AbortSignal | undefined): Promise<Buffer> {
    let maxLen = 0;
    for (const sep of seps) maxLen = Math.max(maxLen, sep.byteLength);
    let from = 0;
    for (;;) {
      let best = -1;
      let bestLen = 0;
      for (const sep of seps) {
        const at = this.#queue.indexOf(sep, from);
        if (at !== -1 && (best === -1 || at < best || (at === best && sep.byteLength > bestLen))) {
          best = at;
          bestLen = sep.byteLength;
        }
      }
      if (best !== -1) {
        if (best > this.limit) {
          throw new LimitOverrunError(
            `separator is found, but chunk is longer than limit ${this.limit}`,
            best,
          );
        }
        return this.#consume(best + bestLen);
      }
      const size = this.#queue.size;
      // Only the last maxLen-1 bytes could still start a separator; past that the limit is certain.
      const searched = size - maxLen + 1;
      if (searched > this.limit) {
        throw new LimitOverrunError(
          `separator is not found, and chunk exceeds the limit ${this.limit}`,
          searched,
        );
      }
      if (this.#eof) throw new IncompleteReadError(this.#consume(size), null);
      from = Math.max(0, size - maxLen + 1);
      await this.#wait(method, signal);
    }
  }

  /** Async iteration yields lines until EOF, like `async for line in reader`. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: (): Promise<IteratorResult<Buffer>> => {
        const line = this.#owner !== null ? null : this.#queue.takeLine(this.limit);
        if (line !== null) {
          if (this.#paused) this.#resumeIfBelowLimit();
          return Promise.resolve({ value: line, done: false });
        }
        return this.#readLineSlow().then((line) =>
          line.byteLength === 0 ? { value: undefined, done: true } : { value: line, done: false },
        );
      },
      return: (): Promise<IteratorResult<Buffer>> => Promise.resolve({ value: undefined, done: true }),
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<Buffer>;
  }

  #consume(n: number): Buffer {
    const out = this.#queue.take(n);
    if (this.#paused) this.#resumeIfBelowLimit();
    return out;
  }

  #resumeIfBelowLimit(): void {
    if (this.#queue.size <= this.limit) {
      this.#paused = false;
      this.#flow?.resumeReading();
    }
  }

  #wait(method: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.#exception !== null) return Promise.reject(this.#exception);
    if (signal?.aborted) return Promise.reject(abortReasonToError(signal, method));
    // Never wait with the connection paused: that would deadlock a reader below its limit.
    if (this.#paused) {
      this.#paused = false;
      this.#flow?.resumeReading();
    }
    return new Promise<void>((resolve, reject) => {
      if (signal === undefined) {
        this.#waiter = { resolve, reject };
        return;
      }
      const onAbort = () => {
        if (this.#waiter === waiter) this.#waiter = null;
        // Cancelled: the reader is free for the next read right away.
        this.#owner = null;
        reject(abortReasonToError(signal, method));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#waiter = waiter;
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #wake(): void {
    const pending = this.#pendingRead;
    if (pending !== null) {
      if (pending.parked) {
        pending.parked = false;
        queueMicrotask(() => this.#retryRead(pending));
      }
      return;
    }
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.resolve();
    }
  }
}

function toSeparators(separator: Separator): Uint8Array[] {
  const list =
    typeof separator === 'string' || separator instanceof Uint8Array ? [separator] : [...separator];
  if (list.length === 0)
    throw new StreamsError('ERR_INVALID_ARGUMENT', 'readUntil() needs at least one separator');
  return list.map((sep) => {
    const bytes = typeof sep === 'string' ? Buffer.from(sep, 'utf8') : sep;
    if (bytes.byteLength === 0)
      throw new StreamsError('ERR_INVALID_ARGUMENT', 'readUntil() separator is empty');
    return bytes;
  });
}
