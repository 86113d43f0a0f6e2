import { streamsFromTransport } from './connection.js';
import { StreamsError, WriteAfterCloseError } from './errors.js';
import { TransportCore } from './internal/transport-core.js';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';
import {
  resolveWriteLimits,
  type StreamTransport,
  type TransportListener,
  type WriteBufferLimits,
} from './transport.js';

/** Options for {@link createStreamPair}: fault injection for tests. */
export interface StreamPairOptions {
  /** Reader buffer limit on both ends. @default 65536 */
  limit?: number | undefined;
  /** Deliver each write split into random chunks of 1 to `maxChunk` bytes. @default false */
  chunking?: 'random' | false | undefined;
  /** Largest chunk when `chunking` is `'random'`. @default 7 */
  maxChunk?: number | undefined;
  /** Delay before each chunk is delivered, in ms. @default 0 */
  delayMs?: number | undefined;
  /** Seed for the chunking PRNG, so a failing case can be replayed. @default 1 */
  seed?: number | undefined;
  /** Write-buffer high-water mark on both ends. @default 65536 */
  highWaterMark?: number | undefined;
  /** Write-buffer low-water mark on both ends. @default a quarter of the high-water mark (16384) */
  lowWaterMark?: number | undefined;
}

/** One end of an in-memory connection: `[reader, writer]`. */
export type StreamEnd = [StreamReader, StreamWriter];

/**
 * Creates two connected in-memory ends with no socket: what one end writes, the other reads.
 * Flow control, EOF, half-close and `reset()` behave like TCP, so protocol code can be tested
 * without the network, including at hostile chunk boundaries.
 *
 * @param options - limit, random chunking, delay, seed
 * @returns `[clientEnd, serverEnd]`, each `[reader, writer]`
 * @example
 * ```ts
 * const [[reader], [, writer]] = createStreamPair({ chunking: 'random' });
 * writer.write('hello\n');
 * await reader.readLine(); // 'hello\n', however it was split
 * ```
 */
export function createStreamPair(options: StreamPairOptions = {}): [StreamEnd, StreamEnd] {
  const [a, b] = createTransportPair(options);
  return [streamsFromTransport(a, options), streamsFromTransport(b, options)];
}

/**
 * Creates two connected in-memory transports, for adapter authors.
 * @param options - as for {@link createStreamPair}
 */
export function createTransportPair(options: StreamPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const rng = mulberry32(options.seed ?? 1);
  const a = new MemoryTransport(options, rng);
  const b = new MemoryTransport(options, rng);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

type Item = Uint8Array | 'eof';

/** An in-memory {@link StreamTransport}; see {@link createTransportPair}. */
export class MemoryTransport implements StreamTransport {
  /** @internal */
  peer!: MemoryTransport;
  #core: TransportCore;
  #outbox: Item[] = [];
  #outBytes = 0;
  #delivering = false;
  #writeClosed: string | null = null;
  #eofDelivered = false;
  #eofQueued = false;
  #closeAfterFlush = false;
  readonly closed: Promise<void>;
  #opts: StreamPairOptions;
  #rng: () => number;

  /** @internal */
  constructor(options: StreamPairOptions, rng: () => number) {
    this.#opts = options;
    this.#rng = rng;
    this.#core = new TransportCore(this, resolveWriteLimits(options.highWaterMark, options.lowWaterMark));
    this.closed = this.#core.closed;
  }

  get error(): Error | null {
    return this.#core.error;
  }

  setListener(listener: TransportListener): void {
    // Nothing is held here before a listener: the peer's outbox holds it, and the pump moves it.
    this.#core.listen(listener);
    this.#pump();
    if (this.#core.lost) listener.closed(this.#core.error);
  }

  write(data: Uint8Array | string): void {
    if (this.#writeClosed !== null) throw new WriteAfterCloseError(this.#writeClosed);
    if (this.#core.lost) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.byteLength === 0) return;
    if (this.#opts.chunking === 'random') {
      const max = Math.max(1, this.#opts.maxChunk ?? 7);
      for (let i = 0; i < bytes.byteLength; ) {
        const n = 1 + Math.floor(this.#rng() * max);
        this.#outbox.push(bytes.subarray(i, i + n));
        i += n;
      }
    } else {
      this.#outbox.push(bytes);
    }
    this.#outBytes += bytes.byteLength;
    this.#core.pauseWritingIfAbove(this.#outBytes);
    this.peer.#schedule();
  }

  writeEof(): void {
    if (this.#writeClosed !== null || this.#core.lost) return;
    this.#writeClosed = 'writeEof()';
    this.#eofQueued = true;
    this.#outbox.push('eof');
    this.peer.#schedule();
  }

  canWriteEof(): boolean {
    return true;
  }

  close(): void {
    if (!this.#core.markClosing()) return;
    this.#writeClosed ??= 'close()';
    // Like TCP close: queued bytes and EOF still reach the peer, then this end is closed for good.
    this.#closeAfterFlush = true;
    if (!this.#eofQueued) {
      this.#eofQueued = true;
      this.#outbox.push('eof');
    }
    this.peer.#schedule();
  }

  abort(error?: Error): void {
    if (this.#core.lost) return;
    this.#writeClosed ??= 'abort()';
    // Queued bytes are discarded; the peer sees EOF, as after a socket is destroyed.
    this.#outbox = this.#eofDelivered ? [] : ['eof'];
    this.#outBytes = 0;
    this.#finish(error ?? null);
    this.peer.#schedule();
  }

  /** Simulates a connection reset: both ends fail with `ECONNRESET`, queued bytes are lost. */
  reset(): void {
    const err = connectionReset();
    this.#outbox = [];
    this.#outBytes = 0;
    this.peer.#outbox = [];
    this.peer.#outBytes = 0;
    this.#finish(err);
    this.peer.#finish(err);
  }

  isClosing(): boolean {
    return this.#core.isClosing();
  }

  pauseReading(): void {
    this.#core.pauseReading();
  }

  resumeReading(): void {
    if (this.#core.resumeReading()) this.#schedule();
  }

  isReading(): boolean {
    return this.#core.isReading();
  }

  getWriteBufferSize(): number {
    return this.#outBytes;
  }

  setWriteBufferLimits(limits: { high?: number | undefined; low?: number | undefined }): void {
    if (!this.#core.setLimits(resolveWriteLimits(limits.high, limits.low), this.#outBytes))
      this.#afterDequeue();
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return this.#core.limits();
  }

  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    if (name === 'peername' || name === 'sockname') return { address: 'memory', family: 'memory', port: 0 };
    return defaultValue;
  }

  startTls(): Promise<void> {
    return Promise.reject(new StreamsError('ERR_TLS_UPGRADE', 'an in-memory connection cannot start TLS'));
  }

  #schedule(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    const delay = this.#opts.delayMs ?? 0;
    if (delay > 0) setTimeout(() => this.#pump(), delay);
    else setImmediate(() => this.#pump());
  }

  /** Moves items from the peer's outbox to this end's listener, honouring pauseReading. */
  #pump(): void {
    this.#delivering = false;
    const src = this.peer;
    if (this.#core.lost) {
      // Writing to a closed end: data earns a reset, a bare EOF is a clean close.
      const onlyEof = src.#outbox.every((item) => item === 'eof');
      src.#outbox = [];
      src.#outBytes = 0;
      src.#finish(onlyEof ? null : connectionReset());
      return;
    }
    if (!this.#core.listening) return;
    const listener = this.#core.listener;
    const oneAtATime = (this.#opts.delayMs ?? 0) > 0;
    while (this.#core.reading && src.#outbox.length > 0 && !this.#core.lost) {
      const item = src.#outbox.shift()!;
      if (item === 'eof') {
        src.#eofDelivered = true;
        if (src.#closeAfterFlush) src.#finish(null);
        const keepOpen = listener.eof() === true;
        if (!keepOpen) this.close();
        if (this.#eofDelivered && src.#eofDelivered) {
          // Both directions are finished: the connection is closed.
          this.#finish(null);
          src.#finish(null);
        }
        continue;
      }
      src.#outBytes -= item.byteLength;
      src.#afterDequeue();
      listener.data(item);
      if (oneAtATime) break;
    }
    if (src.#outbox.length > 0 && this.#core.reading) this.#schedule();
  }

  #afterDequeue(): void {
    this.#core.resumeWritingIfAtOrBelow(this.#outBytes);
  }

  #finish(error: Error | null): void {
    // A lost connection has nothing left to resume: no writeResumed after closed().
    if (!this.#core.markLost()) return;
    this.#core.setError(error);
    this.#core.notifyClosed();
    // Bytes the peer queued for this end will never be read: like TCP's RST for unread data, the
    // pump resets the peer. Without it a peer paused on drain() would wait forever.
    if (this.peer.#outBytes > 0) this.#schedule();
  }
}

function connectionReset(): Error {
  return Object.assign(new Error('read ECONNRESET (injected)'), {
    code: 'ECONNRESET',
    errno: -104,
    syscall: 'read',
  });
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
