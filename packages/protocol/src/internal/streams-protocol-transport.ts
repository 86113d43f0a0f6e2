import type { ExtraInfo, StartTlsOptions, StreamReader, StreamWriter } from '@asyncnet/streams';
import { ProtocolError } from '../errors.js';
import type { AnyProtocol, BufferedProtocol, Transport } from '../protocol.js';
import { feedBuffered, isBuffered, toError } from './callbacks.js';
import type { CallbackErrorHandler } from './protocol-transport.js';

/** Bytes asked for per read when pumping a reader into a protocol. */
const READ_SIZE = 65536;

/**
 * A {@link Transport} over an existing reader/writer pair: a read loop feeds the protocol,
 * writes go to the writer, `drain()` drives `pauseWriting`/`resumeWriting`.
 */
export class StreamsProtocolTransport implements Transport {
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  #protocol: AnyProtocol;
  readonly #onError: CallbackErrorHandler | undefined;
  #paused = false;
  #wakeReader: (() => void) | null = null;
  #writePaused = false;
  /** Set by the protocol's own close()/abort(): an empty read is then not the peer's EOF. */
  #closing = false;
  #failure: Error | null = null;
  #readError: Error | null = null;
  #detached = false;
  #lost = false;
  #stopped = false;
  #readCtl = new AbortController();
  #readPending = false;
  /** Bytes a read took just before a pauseReading(): delivered first after resumeReading(). */
  #heldChunk: Uint8Array | null = null;
  /** An EOF read just before a pauseReading(). */
  #heldEof = false;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;

  constructor(
    reader: StreamReader,
    writer: StreamWriter,
    protocol: AnyProtocol,
    onError?: CallbackErrorHandler,
  ) {
    this.#reader = reader;
    this.#writer = writer;
    this.#protocol = protocol;
    this.#onError = onError;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  start(): void {
    try {
      this.#protocol.connectionMade?.(this);
    } catch (err) {
      this.#fail(err);
    }
    const loopDone = this.#failure === null ? this.#readLoop() : Promise.resolve();
    // connectionLost comes after the data the reader still holds, unless reading is paused
    // (then, as with a socket, what was not read is dropped).
    void this.#writer.waitClosed().then(async () => {
      if (this.#paused) this.#stopReading();
      await loopDone;
      this.#connectionLost();
    });
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      while (this.#paused && !this.#stopped) {
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
        });
      }
      if (this.#stopped) return;
      const held = this.#heldChunk;
      if (held !== null) {
        this.#heldChunk = null;
        this.#deliverHeld(held);
        if (this.#failure !== null || this.#closing) return;
        continue;
      }
      if (this.#heldEof) {
        this.#eof();
        return;
      }
      // A BufferedProtocol names the size of each read: a chunk always fits its buffer.
      const p = this.#protocol;
      let buf: Uint8Array | null = null;
      if (isBuffered(p)) {
        try {
          buf = p.getBuffer(this.#reader.bufferedSize || READ_SIZE);
          if ((buf?.byteLength ?? 0) === 0) {
            throw new ProtocolError('ERR_INVALID_ARGUMENT', 'getBuffer() returned an empty buffer');
          }
        } catch (err) {
          this.#fail(err);
          return;
        }
      }
      let chunk: Uint8Array;
      this.#readPending = true;
      try {
        chunk = await this.#reader.read(buf === null ? READ_SIZE : buf.byteLength, {
          signal: this.#readCtl.signal,
        });
      } catch (err) {
        // Reads are cancel-safe: a read cancelled by pauseReading() or detach consumed nothing.
        if (this.#stopped) return;
        // Cancelled by pauseReading(), even when resumeReading() ran before this continuation.
        if (this.#readCtl.signal.aborted) {
          this.#readCtl = new AbortController();
          continue;
        }
        this.#readError = toError(err);
        this.#writer.transport.abort(this.#readError);
        return;
      } finally {
        this.#readPending = false;
      }
      // After close()/abort() nothing more is delivered, as in asyncio.
      if (this.#failure !== null || this.#closing) return;
      if (this.#paused) {
        // pauseReading() ran after the read had taken its bytes but before this continuation
        // (from a microtask): hold them until resumeReading(), as a socket transport does.
        if (chunk.byteLength === 0) this.#heldEof = true;
        else this.#heldChunk = chunk;
        // That pauseReading() aborted a read that had already finished: renew the signal.
        if (this.#readCtl.signal.aborted) this.#readCtl = new AbortController();
        continue;
      }
      if (chunk.byteLength === 0) {
        this.#eof();
        return;
      }
      this.#deliver(chunk, p, buf);
    }
  }

  /** The reader reached EOF: `eofReceived`, then close unless it asked to stay half-open. */
  #eof(): void {
    this.#heldEof = false;
    if (this.#closing || this.#lost) return;
    let keepOpen = false;
    try {
      keepOpen = this.#protocol.eofReceived?.() === true;
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (!keepOpen || !this.#writer.canWriteEof()) this.#writer.close();
  }

  /** Delivers a chunk held during a pause; a BufferedProtocol may pause again inside it. */
  #deliverHeld(chunk: Uint8Array): void {
    const p = this.#protocol;
    if (!isBuffered(p)) {
      this.#deliver(chunk, p, null);
      return;
    }
    try {
      const off = feedBuffered(p, chunk, () => this.#paused || this.#failure !== null || this.#closing);
      if (off < chunk.byteLength && this.#failure === null) this.#heldChunk = chunk.subarray(off);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Ends the read loop; a pending read is cancelled without consuming anything. */
  #stopReading(): void {
    this.#stopped = true;
    this.#readCtl.abort();
    this.#wake();
  }

  #deliver(chunk: Uint8Array, p: AnyProtocol, buf: Uint8Array | null): void {
    try {
      if (buf === null) {
        (p as { dataReceived?(data: Uint8Array): void }).dataReceived?.(chunk);
      } else {
        buf.set(chunk);
        (p as BufferedProtocol).bufferUpdated(chunk.byteLength);
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  #connectionLost(): void {
    if (this.#detached) this.#resolveClosed();
    if (this.#lost || this.#detached) return;
    this.#lost = true;
    this.#stopReading();
    const error = this.#failure ?? this.#readError ?? this.#writer.transport.error ?? null;
    try {
      this.#protocol.connectionLost?.(error);
    } catch (err) {
      this.#report(toError(err));
    } finally {
      this.#resolveClosed();
    }
  }

  #fail(thrown: unknown): void {
    if (this.#failure !== null) return;
    const error = toError(thrown);
    this.#failure = error;
    this.#report(error);
    this.#writer.transport.abort(error);
  }

  #report(error: Error): void {
    try {
      this.#onError?.(error, this);
    } catch {
      // never let a reporting failure escape
    }
  }

  write(data: Uint8Array | string): void {
    // Transport semantics (asyncio's too): after connectionLost a write is discarded, not thrown.
    const t = this.#writer.transport;
    t.write(data);
    if (!this.#writePaused && t.getWriteBufferSize() > t.getWriteBufferLimits().high) {
      this.#writePaused = true;
      try {
        this.#protocol.pauseWriting?.();
      } catch (err) {
        this.#fail(err);
        return;
      }
      this.#writer.drain().then(
        () => {
          this.#writePaused = false;
          if (this.#lost || this.#failure !== null) return;
          try {
            this.#protocol.resumeWriting?.();
          } catch (err) {
            this.#fail(err);
          }
        },
        () => {
          this.#writePaused = false;
        },
      );
    }
  }

  writeLines(lines: Iterable<Uint8Array | string>): void {
    for (const line of lines) this.write(line);
  }

  writeEof(): void {
    this.#writer.writeEof();
  }

  canWriteEof(): boolean {
    return this.#writer.canWriteEof();
  }

  close(): void {
    this.#closing = true;
    this.#writer.close();
  }

  abort(error?: Error): void {
    this.#closing = true;
    this.#writer.transport.abort(error);
  }

  isClosing(): boolean {
    return this.#writer.isClosing();
  }

  getExtraInfo<TName extends keyof ExtraInfo>(name: TName): ExtraInfo[TName] | undefined;
  getExtraInfo<TName extends keyof ExtraInfo, TDefault>(
    name: TName,
    defaultValue: TDefault,
  ): ExtraInfo[TName] | TDefault;
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this.#writer.getExtraInfo(name, defaultValue);
  }

  pauseReading(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (this.#readPending) this.#readCtl.abort();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#wake();
  }

  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = null;
    wake?.();
  }

  isReading(): boolean {
    return !this.#paused && !this.#lost;
  }

  setWriteBufferLimits(limits: { high?: number; low?: number }): void {
    this.#writer.transport.setWriteBufferLimits(limits);
  }

  getWriteBufferSize(): number {
    return this.#writer.transport.getWriteBufferSize();
  }

  getWriteBufferLimits(): { high: number; low: number } {
    return this.#writer.transport.getWriteBufferLimits();
  }

  getProtocol(): AnyProtocol {
    return this.#protocol;
  }

  setProtocol(protocol: AnyProtocol): void {
    this.#protocol = protocol;
  }

  startTls(options: StartTlsOptions = {}): Promise<void> {
    return this.#writer.startTls(options);
  }

  /** @internal Stops the read loop (a pending read is cancelled, consuming nothing) and returns the pair. */
  detach(): [StreamReader, StreamWriter] {
    this.#detached = true;
    this.#stopReading();
    const held = this.#heldChunk;
    this.#heldChunk = null;
    if (held !== null) {
      // Bytes the adapter took during a pause go back to the reader when they can go first;
      // otherwise (more arrived behind them, or EOF) the protocol gets them, in order, now.
      if (this.#reader.bufferedSize === 0 && !this.#reader.atEof()) this.#reader.feedData(held);
      else this.#deliverHeld(held);
    }
    if (this.#heldEof) {
      this.#heldEof = false;
      if (!this.#reader.atEof()) this.#reader.feedEof();
    }
    return [this.#reader, this.#writer];
  }
}
