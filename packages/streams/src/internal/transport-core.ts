import type { StreamTransport, TransportListener, WriteBufferLimits } from '../transport.js';

const NOOP_LISTENER: TransportListener = { data() {}, eof: () => false, closed() {} };

/** What the core calls back on its transport: only methods every transport already has. */
type TransportHost = Pick<StreamTransport, 'abort' | 'close' | 'canWriteEof'>;

/** A thrown value as an Error, for `abort()` and `closed()`. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The state every transport shares with its listener, owned here once: the listener and the bytes
 * and EOF that arrived before it, the write-pause signal and its water marks, and whether the
 * connection is reading, closing or lost. Each transport owns its source (socket, Duplex, web
 * streams, peer) and its write queue, and tells the core what happened through these methods.
 *
 * One instance per connection and one class for every transport, so the calls stay monomorphic;
 * nothing here allocates per chunk.
 */
export class TransportCore {
  readonly #host: TransportHost;
  #listener: TransportListener = NOOP_LISTENER;
  /** Chunks that arrived before `setListener`; `null` once a listener is set. */
  #early: Uint8Array[] | null = [];
  #earlyBytes = 0;
  #earlyEof = false;
  #high: number;
  #low: number;
  #writePaused = false;
  #reading = true;
  #closing = false;
  #lost = false;
  #error: Error | null = null;
  #resolveClosed!: () => void;
  /** Settles once the connection is lost (see {@link TransportCore.notifyClosed}). */
  readonly closed: Promise<void>;

  constructor(host: TransportHost, limits: WriteBufferLimits) {
    this.#host = host;
    this.#high = limits.high;
    this.#low = limits.low;
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get listener(): TransportListener {
    return this.#listener;
  }

  /** Whether `setListener` was called. */
  get listening(): boolean {
    return this.#early === null;
  }

  get error(): Error | null {
    return this.#error;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Whether reading is wanted, lost or not. */
  get reading(): boolean {
    return this.#reading;
  }

  get writePaused(): boolean {
    return this.#writePaused;
  }

  /** Keeps the first error: later ones are echoes of it. */
  setError(err: Error | null | undefined): void {
    this.#error ??= err ?? null;
  }

  /** A listener that throws fails its own connection, never the process. */
  deliver(chunk: Uint8Array): void {
    try {
      this.#listener.data(chunk);
    } catch (err) {
      this.#host.abort(toError(err));
    }
  }

  /** The listener may keep the write side open, where the transport can write EOF; otherwise it closes. */
  deliverEof(): void {
    let keepOpen = false;
    try {
      keepOpen = this.#listener.eof() === true && this.#host.canWriteEof();
    } catch (err) {
      this.#host.abort(toError(err));
      return;
    }
    if (!keepOpen) this.#host.close();
  }

  /**
   * Delivers `chunk`, or holds it until `setListener`.
   * @returns `true` when more than one high-water mark is held: the source should pause
   */
  receive(chunk: Uint8Array): boolean {
    const early = this.#early;
    if (early === null) {
      this.deliver(chunk);
      return false;
    }
    early.push(chunk);
    this.#earlyBytes += chunk.byteLength;
    return this.#earlyBytes > this.#high;
  }

  receiveEof(): void {
    if (this.#early === null) this.deliverEof();
    else this.#earlyEof = true;
  }

  /** Whether a pulled source should be read now: before a listener, up to one high-water mark. */
  wantsData(): boolean {
    if (this.#lost) return false;
    if (this.#early !== null) return this.#earlyBytes <= this.#high;
    return this.#reading;
  }

  /** Routes events to `listener`, telling it of a write pause that began before it existed. */
  listen(listener: TransportListener): Uint8Array[] | null {
    this.#listener = listener;
    const early = this.#early;
    this.#early = null;
    if (this.#writePaused) listener.writePaused?.();
    return early;
  }

  /**
   * {@link TransportCore.listen}, then delivers what arrived before it: data, EOF, and the loss.
   * @returns `true` when the source was paused for early data and should resume now
   */
  setListener(listener: TransportListener): boolean {
    const early = this.listen(listener);
    if (early !== null) for (const chunk of early) this.deliver(chunk);
    if (this.#earlyEof) {
      this.#earlyEof = false;
      this.deliverEof();
    }
    if (this.#lost) listener.closed(this.#error);
    return early !== null && this.#earlyBytes > this.#high && this.#reading && !this.#lost;
  }

  /** @returns `true` when reading was on: the transport pauses its source */
  pauseReading(): boolean {
    if (!this.#reading) return false;
    this.#reading = false;
    return true;
  }

  /** @returns `true` when reading was off: the transport resumes its source */
  resumeReading(): boolean {
    if (this.#reading) return false;
    this.#reading = true;
    return true;
  }

  isReading(): boolean {
    return this.#reading && !this.#lost;
  }

  /** @returns `false` when close already began */
  markClosing(): boolean {
    if (this.#closing) return false;
    this.#closing = true;
    return true;
  }

  isClosing(): boolean {
    return this.#closing || this.#lost;
  }

  /**
   * The connection is gone; a lost connection has nothing left to resume. The transport drops its
   * queue, then calls {@link TransportCore.notifyClosed}.
   * @returns `false` when it was already lost
   */
  markLost(): boolean {
    if (this.#lost) return false;
    this.#lost = true;
    this.#closing = true;
    this.#writePaused = false;
    return true;
  }

  notifyClosed(): void {
    this.#resolveClosed();
    this.#listener.closed(this.#error);
  }

  /** @returns `true` when writing was not paused and is now */
  pauseWriting(): boolean {
    if (this.#writePaused) return false;
    this.#writePaused = true;
    this.#listener.writePaused?.();
    return true;
  }

  /** @returns `true` when `size` bytes buffered crossed the high-water mark and writing paused now */
  pauseWritingIfAbove(size: number): boolean {
    return size > this.#high && this.pauseWriting();
  }

  resumeWritingIfAtOrBelow(size: number): void {
    if (this.#writePaused && size <= this.#low) {
      this.#writePaused = false;
      this.#listener.writeResumed?.();
    }
  }

  /**
   * @param limits - already resolved and checked by `resolveWriteLimits`
   * @param size - bytes buffered now
   * @returns `true` when writing paused now; otherwise the transport checks whether it may resume
   */
  setLimits(limits: WriteBufferLimits, size: number): boolean {
    this.#high = limits.high;
    this.#low = limits.low;
    return this.pauseWritingIfAbove(size);
  }

  limits(): WriteBufferLimits {
    return { high: this.#high, low: this.#low };
  }
}
