import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
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

/** Options for {@link DuplexTransport} and {@link fromDuplex}. */
export interface DuplexTransportOptions {
  /** Write-buffer high-water mark in bytes. @default 65536 */
  highWaterMark?: number | undefined;
  /** Write-buffer low-water mark in bytes. @default a quarter of the high-water mark (16384) */
  lowWaterMark?: number | undefined;
}

/** Options for {@link fromDuplex}. */
export interface FromDuplexOptions extends DuplexTransportOptions {
  /** Reader buffer limit (see {@link StreamReader.limit}). @default 65536 */
  limit?: number | undefined;
}

/** Writes below this size are copied, so callers may reuse their buffers at once (as on a socket). */
const COPY_MAX = 16_384;

/**
 * A {@link StreamTransport} over any Node `Duplex` (an HTTP upgrade socket, an ssh2 channel, a child
 * process's stdio joined with `Duplex.from`, a `ConnectionDuplex`), with the rules of a socket
 * transport: writes in one tick are coalesced (corked into one `_writev` where the Duplex has one),
 * writing pauses above the high-water mark or while the Duplex's `write()` returned `false`, and
 * resumes at the low mark after its `'drain'`; `pauseReading()` pauses the Duplex; an `'error'` makes
 * the connection lost at once. For adapter authors; most users call {@link fromDuplex}.
 *
 * `writeEof()` ends the Duplex's writable side and reading goes on, on a `tls.TLSSocket` too (Node sends
 * close_notify and keeps reading, unlike asyncnet's own TLS transport). To keep writing after the
 * peer's EOF, the Duplex must keep its writable side open once its readable side ended
 * (`allowHalfOpen`, the default for a plain `Duplex`). It must emit `'close'` (the default, `emitClose`).
 *
 * @example
 * ```ts
 * const transport = new DuplexTransport(upgradeSocket, { highWaterMark: 256 * 1024 });
 * runOnTransport(transport, new MyProtocol()); // e.g. @asyncnet/protocol's adapter
 * ```
 */
export class DuplexTransport implements StreamTransport {
  #duplex: Duplex;
  #core: TransportCore;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #flushScheduled = false;
  /** The Duplex's write() returned false: paused until its 'drain', whatever our own count says. */
  #needDrain = false;
  #writeClosed: string | null = null;
  readonly closed: Promise<void>;

  /**
   * @param duplex - the stream to run the connection over; it is put in flowing mode
   * @param options - write-buffer water marks
   * @throws `StreamsError` `ERR_INVALID_ARGUMENT` for bad water marks
   */
  constructor(duplex: Duplex, options: DuplexTransportOptions = {}) {
    this.#duplex = duplex;
    this.#core = new TransportCore(this, resolveWriteLimits(options.highWaterMark, options.lowWaterMark));
    this.closed = this.#core.closed;
    duplex.on('data', this.#onData);
    duplex.on('end', this.#onEnd);
    duplex.on('error', this.#onError);
    duplex.on('close', this.#onClose);
    duplex.on('drain', this.#onDrain);
    if (duplex.closed) process.nextTick(this.#onClose);
  }

  get error(): Error | null {
    return this.#core.error;
  }

  #onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    // Nobody is listening yet: hold at most one high-water mark, then let the Duplex hold the rest.
    if (this.#core.receive(bytes)) this.#duplex.pause();
  };

  #onEnd = (): void => {
    this.#core.receiveEof();
  };

  #onError = (err: Error): void => {
    this.#core.setError(err);
    this.#finish();
  };

  #onClose = (): void => {
    this.#core.setError(this.#duplex.errored as Error | null);
    this.#finish();
  };

  #onDrain = (): void => {
    this.#needDrain = false;
    this.#maybeResume();
  };

  #afterWrite = (err?: Error | null): void => {
    if (!err) {
      this.#maybeResume();
      return;
    }
    // ERR_STREAM_DESTROYED echoes a destroy whose own error (or clean close) is reported by 'error'/'close'.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_DESTROYED') this.#core.setError(err);
    if (this.#duplex.destroyed) this.#finish();
  };

  #finish(): void {
    if (!this.#core.markLost()) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    const d = this.#duplex;
    d.off('data', this.#onData);
    d.off('end', this.#onEnd);
    d.off('drain', this.#onDrain);
    // 'error' stays handled: a late error from a destroyed Duplex must not crash the process.
    if (!d.destroyed) d.destroy();
    this.#core.notifyClosed();
  }

  setListener(listener: TransportListener): void {
    if (this.#core.setListener(listener)) this.#duplex.resume();
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
    if (!this.#core.writePaused) this.#core.pauseWritingIfAbove(this.getWriteBufferSize());
  }

  /** Hands every queued chunk to the Duplex now. */
  flush(): void {
    this.#flushScheduled = false;
    const pending = this.#pending;
    const count = pending.length;
    if (count === 0 || this.#lostIfDestroyed()) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    const d = this.#duplex;
    let ok: boolean;
    if (count === 1) {
      ok = d.write(pending[0], this.#afterWrite);
    } else {
      d.cork();
      for (let i = 0; i < count - 1; i++) d.write(pending[i]);
      ok = d.write(pending[count - 1], this.#afterWrite);
      d.uncork();
    }
    if (!ok && !d.destroyed) {
      this.#needDrain = true;
      this.#core.pauseWriting();
    }
    this.#maybeResume();
  }

  /** A destroyed Duplex reports an empty buffer: treat it as lost, never as drained. */
  #lostIfDestroyed(): boolean {
    if (!this.#core.lost && this.#duplex.destroyed) {
      this.#core.setError(this.#duplex.errored as Error | null);
      this.#finish();
    }
    return this.#core.lost;
  }

  #maybeResume(): void {
    if (this.#lostIfDestroyed() || !this.#core.writePaused || this.#needDrain) return;
    this.#core.resumeWritingIfAtOrBelow(this.getWriteBufferSize());
  }

  /** Flushes, then ends the Duplex's writable side (on a `TLSSocket`: close_notify, and reading goes on). */
  writeEof(): void {
    if (this.#writeClosed !== null || this.#core.lost) return;
    this.#writeClosed = 'writeEof()';
    this.flush();
    this.#duplex.end();
  }

  /** Always `true`: any Duplex can end its writable side and keep reading. */
  canWriteEof(): boolean {
    return true;
  }

  close(): void {
    if (!this.#core.markClosing()) return;
    this.#writeClosed ??= 'close()';
    this.flush();
    // destroySoon: end once flushed, then destroy, so a half-open peer cannot keep it alive.
    const d = this.#duplex;
    if (d.writable) d.end();
    if (d.writableFinished) d.destroy();
    else d.once('finish', () => d.destroy());
  }

  abort(error?: Error): void {
    this.#writeClosed ??= 'abort()';
    this.#core.markClosing();
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#core.setError(error);
    this.#duplex.destroy();
  }

  isClosing(): boolean {
    return this.#core.isClosing();
  }

  pauseReading(): void {
    if (this.#core.pauseReading()) this.#duplex.pause();
  }

  resumeReading(): void {
    if (this.#core.resumeReading() && !this.#core.lost) this.#duplex.resume();
  }

  isReading(): boolean {
    return this.#core.isReading();
  }

  getWriteBufferSize(): number {
    return this.#pendingBytes + (this.#core.lost ? 0 : this.#duplex.writableLength);
  }

  setWriteBufferLimits(limits: { high?: number | undefined; low?: number | undefined }): void {
    if (!this.#core.setLimits(resolveWriteLimits(limits.high, limits.low), this.getWriteBufferSize()))
      this.#maybeResume();
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return this.#core.limits();
  }

  /**
   * `peername`/`sockname` from the Duplex's `remoteAddress`/`remotePort`/`remoteFamily` and
   * `address()` (a `net.Socket` or a `ConnectionDuplex` has them), `socket` when it is a
   * `net.Socket`, `duplex` (the Duplex itself), `tls`, and the TLS details of a `TLSSocket`.
   */
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    const d = this.#duplex as Duplex & Partial<Socket>;
    let value: unknown;
    switch (name) {
      case 'peername':
        value =
          typeof d.remoteAddress === 'string'
            ? { address: d.remoteAddress, family: d.remoteFamily, port: d.remotePort }
            : undefined;
        break;
      case 'sockname': {
        const a = typeof d.address === 'function' ? d.address() : undefined;
        value = a !== null && typeof a === 'object' && Object.keys(a).length > 0 ? a : undefined;
        break;
      }
      case 'socket':
        value = d instanceof Socket ? d : undefined;
        break;
      case 'duplex':
        value = d;
        break;
      case 'tls':
        value = d instanceof TLSSocket;
        break;
      case 'peercert':
        value = d instanceof TLSSocket ? d.getPeerCertificate() : undefined;
        break;
      case 'cipher':
        value = d instanceof TLSSocket ? d.getCipher() : undefined;
        break;
      case 'alpnProtocol':
        value = d instanceof TLSSocket ? d.alpnProtocol || undefined : undefined;
        break;
    }
    return value === undefined ? defaultValue : value;
  }

  /** Not supported over a generic Duplex: wrap it first (`tls.connect({ socket: duplex })`) and pass the TLS socket. */
  startTls(): Promise<void> {
    return Promise.reject(
      new StreamsError(
        'ERR_TLS_UPGRADE',
        'startTls() is not supported on a Duplex transport: pass tls.connect({ socket: duplex }) to fromDuplex() instead',
      ),
    );
  }
}

function flushTick(transport: DuplexTransport): void {
  transport.flush();
}

/**
 * Runs asyncio-style streams over any Node `Duplex`: an HTTP upgrade socket, a `tls.TLSSocket`, an
 * ssh2 channel, `Duplex.from({ readable: child.stdout, writable: child.stdin })`. Flow control is a
 * socket's: the reader pauses the Duplex past `2 x limit` buffered bytes and resumes it at `limit`;
 * `drain()` waits while more than the high-water mark is queued or the Duplex's `write()` returned
 * `false`, until its `'drain'` and the low mark. A Duplex `'error'` fails reads and `drain()` at once.
 *
 * @param duplex - the stream to wrap; the reader and writer own it from now on
 * @param options - reader limit and write-buffer water marks
 * @returns `[reader, writer]`
 * @throws `StreamsError` `ERR_INVALID_ARGUMENT` for a bad limit or water marks
 * @example
 * ```ts
 * server.on('upgrade', async (req, socket) => {
 *   const [reader, writer] = fromDuplex(socket);
 *   writer.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
 *   for await (const line of reader) writer.write(line);
 * });
 * ```
 */
export function fromDuplex(duplex: Duplex, options: FromDuplexOptions = {}): [StreamReader, StreamWriter] {
  return streamsFromTransport(new DuplexTransport(duplex, options), options);
}
