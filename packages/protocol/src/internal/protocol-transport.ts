import type { ExtraInfo, StartTlsOptions } from '@asyncnet/streams';
import type { StreamTransport, TransportListener } from '@asyncnet/streams/adapter';
import type { AnyProtocol, Transport } from '../protocol.js';
import { feedBuffered, isBuffered, toError } from './callbacks.js';

/** Reports an error thrown by a protocol callback (the server's or connection's `onError`). */
export type CallbackErrorHandler = (error: Error, transport: Transport) => void;

/**
 * The {@link Transport} a protocol sees for a core {@link StreamTransport} (socket or in-memory):
 * it is the transport's listener and turns its events into protocol callbacks, catching what
 * they throw.
 */
export class ProtocolTransport implements Transport {
  readonly #t: StreamTransport;
  #protocol: AnyProtocol;
  #buffered: boolean;
  readonly #onError: CallbackErrorHandler | undefined;
  /** Reading paused by the protocol. */
  #paused = false;
  /** Chunks that arrived while paused (the socket may deliver one already in flight). */
  #held: Uint8Array[] = [];
  #heldEof = false;
  #flushScheduled = false;
  #failed = false;
  /** close() or abort() was called: like asyncio, no more data is delivered. */
  #closing = false;
  #lost = false;
  #detached = false;
  /** The chunk a BufferedProtocol is being fed and how far (a detach mid-chunk takes the rest). */
  readonly #feed: { chunk: Uint8Array | null; off: number } = { chunk: null, off: 0 };
  /** Inside {@link ProtocolTransport.start} until `connectionMade` has returned. */
  #starting = false;
  /** The core reported the connection lost before `connectionMade` returned. */
  #lostWhileStarting: Error | null | undefined = undefined;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;

  constructor(transport: StreamTransport, protocol: AnyProtocol, onError?: CallbackErrorHandler) {
    this.#t = transport;
    this.#protocol = protocol;
    this.#buffered = isBuffered(protocol);
    this.#onError = onError;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /**
   * Becomes the core transport's listener, then calls `connectionMade`, then delivers what came
   * early. The listener is set first so that writes in `connectionMade` already reach
   * `pauseWriting` (an asyncio producer writes there until told to pause); data, EOF and loss
   * that the core reports meanwhile wait until `connectionMade` has returned.
   */
  start(): void {
    const listener: TransportListener = {
      data: (chunk) => this.#onData(chunk),
      eof: () => this.#onEof(),
      writePaused: () => this.#onWritePaused(),
      writeResumed: () => this.#onWriteResumed(),
      closed: (error) => this.#onClosed(error),
    };
    this.#starting = true;
    try {
      this.#t.setListener(listener);
      try {
        this.#protocol.connectionMade?.(this);
      } catch (err) {
        this.#fail(err);
      }
    } finally {
      this.#starting = false;
    }
    if (this.#held.length > 0 || this.#heldEof) this.flushHeld();
    const lost = this.#lostWhileStarting;
    if (lost !== undefined && !this.#detached) {
      this.#lostWhileStarting = undefined;
      this.#onClosed(lost);
    }
  }

  // --- TransportListener: events from the core --------------------------------------------

  #onData(chunk: Uint8Array): void {
    if (this.#failed || this.#detached || this.#closing) return;
    if (this.#paused || this.#starting || this.#held.length > 0) {
      this.#held.push(chunk);
      return;
    }
    this.#deliver(chunk);
  }

  #onEof(): boolean {
    if (this.#failed || this.#detached || this.#closing) return false;
    if (this.#paused || this.#starting || this.#held.length > 0) {
      // Deliver it after the held data; keep the write side open until the protocol decides.
      this.#heldEof = true;
      return true;
    }
    return this.#deliverEof();
  }

  #onWritePaused(): void {
    if (this.#failed) return;
    try {
      this.#protocol.pauseWriting?.();
    } catch (err) {
      this.#fail(err);
    }
  }

  #onWriteResumed(): void {
    if (this.#failed) return;
    try {
      this.#protocol.resumeWriting?.();
    } catch (err) {
      this.#fail(err);
    }
  }

  #onClosed(error: Error | null): void {
    if (this.#lost) return;
    if (this.#starting) {
      // connectionLost must follow connectionMade (and the data that came before the loss).
      this.#lostWhileStarting = error;
      return;
    }
    this.#lost = true;
    // Nothing is delivered after connectionLost, not even an EOF held during pauseReading().
    this.#held = [];
    this.#heldEof = false;
    try {
      this.#protocol.connectionLost?.(error);
    } catch (err) {
      this.#report(toError(err));
    } finally {
      this.#resolveClosed();
    }
  }

  // --- Transport: the protocol's side -----------------------------------------------------

  write(data: Uint8Array | string): void {
    this.#t.write(data);
  }

  writeLines(lines: Iterable<Uint8Array | string>): void {
    for (const line of lines) this.#t.write(line);
  }

  writeEof(): void {
    this.#t.writeEof();
  }

  canWriteEof(): boolean {
    return this.#t.canWriteEof();
  }

  close(): void {
    this.#closing = true;
    this.#held = [];
    this.#t.close();
  }

  abort(error?: Error): void {
    this.#closing = true;
    this.#held = [];
    this.#t.abort(error);
  }

  isClosing(): boolean {
    return this.#t.isClosing();
  }

  getExtraInfo<TName extends keyof ExtraInfo>(name: TName): ExtraInfo[TName] | undefined;
  getExtraInfo<TName extends keyof ExtraInfo, TDefault>(
    name: TName,
    defaultValue: TDefault,
  ): ExtraInfo[TName] | TDefault;
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this.#t.getExtraInfo(name, defaultValue);
  }

  pauseReading(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#t.pauseReading();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if ((this.#held.length > 0 || this.#heldEof) && !this.#flushScheduled) {
      // Deliver held data on the next tick, like asyncio (never from inside resumeReading()).
      this.#flushScheduled = true;
      process.nextTick(flushHeld, this);
    }
    this.#t.resumeReading();
  }

  isReading(): boolean {
    return !this.#paused && this.#t.isReading();
  }

  setWriteBufferLimits(limits: { high?: number; low?: number }): void {
    this.#t.setWriteBufferLimits(limits);
  }

  getWriteBufferSize(): number {
    return this.#t.getWriteBufferSize();
  }

  getWriteBufferLimits(): { high: number; low: number } {
    return this.#t.getWriteBufferLimits();
  }

  getProtocol(): AnyProtocol {
    return this.#protocol;
  }

  setProtocol(protocol: AnyProtocol): void {
    this.#protocol = protocol;
    this.#buffered = isBuffered(protocol);
  }

  startTls(options: StartTlsOptions = {}): Promise<void> {
    return this.#t.startTls(options);
  }

  // --- internals --------------------------------------------------------------------------

  /** @internal The core transport underneath. */
  get streamTransport(): StreamTransport {
    return this.#t;
  }

  /**
   * @internal Stops routing events to the protocol and hands back what was held, so the
   * connection can be given to a reader/writer pair.
   */
  detach(): { held: Uint8Array[]; eof: boolean } {
    this.#detached = true;
    // No connectionLost from now on, but `closed` still settles when the connection ends.
    void this.#t.closed.then(() => this.#resolveClosed());
    // Called from bufferUpdated() in the middle of a chunk: the rest of it comes first.
    const { chunk, off } = this.#feed;
    const rest = chunk !== null && off < chunk.byteLength ? [chunk.subarray(off)] : [];
    const held = { held: [...rest, ...this.#held], eof: this.#heldEof };
    this.#held = [];
    this.#heldEof = false;
    if (this.#paused) {
      this.#paused = false;
      this.#t.resumeReading();
    }
    return held;
  }

  /** @internal */
  flushHeld(): void {
    this.#flushScheduled = false;
    while (
      this.#held.length > 0 &&
      !this.#paused &&
      !this.#failed &&
      !this.#detached &&
      !this.#closing &&
      !this.#lost
    ) {
      this.#deliver(this.#held.shift()!);
    }
    if (
      this.#held.length === 0 &&
      this.#heldEof &&
      !this.#paused &&
      !this.#failed &&
      !this.#detached &&
      !this.#closing
    ) {
      this.#heldEof = false;
      if (!this.#deliverEof() || !this.#t.canWriteEof()) this.#t.close();
    }
  }

  #deliver(chunk: Uint8Array): void {
    try {
      if (!this.#buffered) {
        (this.#protocol as { dataReceived?(data: Uint8Array): void }).dataReceived?.(chunk);
        return;
      }
      const feed = this.#feed;
      feed.chunk = chunk;
      feed.off = 0;
      let off: number;
      try {
        off = feedBuffered(
          this.#protocol as never,
          chunk,
          () => this.#paused || this.#failed || this.#closing || this.#detached,
          feed,
        );
      } finally {
        feed.chunk = null;
      }
      if (off < chunk.byteLength && !this.#failed && !this.#detached) this.#held.unshift(chunk.subarray(off));
    } catch (err) {
      this.#fail(err);
    }
  }

  #deliverEof(): boolean {
    try {
      return this.#protocol.eofReceived?.() === true;
    } catch (err) {
      this.#fail(err);
      return false;
    }
  }

  /** A callback threw: report it, then abort so `connectionLost` receives the error. */
  #fail(thrown: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#held = [];
    const error = toError(thrown);
    this.#report(error);
    this.#t.abort(error);
  }

  #report(error: Error): void {
    try {
      this.#onError?.(error, this);
    } catch {
      // An onError that throws must not take the server down.
    }
  }
}

function flushHeld(t: ProtocolTransport): void {
  t.flushHeld();
}
