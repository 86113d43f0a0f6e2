import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { StreamsError, WriteAfterCloseError } from './errors.js';

/** Default write-buffer high-water mark: `drain()` waits above it. */
export const DEFAULT_HIGH_WATER_MARK = 65_536;
/** Default write-buffer low-water mark: a paused writer resumes at or below it. */
export const DEFAULT_LOW_WATER_MARK = 16_384;

/** Write-buffer limits of a transport. */
export interface WriteBufferLimits {
  /** Writing pauses when the buffer grows above this many bytes. */
  high: number;
  /** Writing resumes when the buffer falls to this many bytes. */
  low: number;
}

/**
 * Callbacks a transport delivers its events to (the core of asyncio's `Protocol`).
 * Adapter authors implement this; most users never see it.
 */
export interface TransportListener {
  /** Bytes arrived. The chunk belongs to the listener from now on. */
  data(chunk: Uint8Array): void;
  /** The peer sent EOF (FIN). Return `true` to keep the write side open; otherwise the transport closes. */
  // biome-ignore lint/suspicious/noConfusingVoidType: listeners that never keep the connection half-open return nothing
  eof(): boolean | undefined | void;
  /** The write buffer grew above the high-water mark. */
  writePaused?(): void;
  /** The write buffer fell to the low-water mark. */
  writeResumed?(): void;
  /** The connection is gone; called exactly once. `error` is `null` for a clean close or `abort()`. */
  closed(error: Error | null): void;
}

/**
 * One connection, socket-backed or in-memory: the layer StreamReader/StreamWriter and Protocol
 * callbacks both sit on. Owns flow control both ways and write coalescing.
 */
export interface StreamTransport {
  /** Queues bytes; many writes in one tick leave in one syscall. @throws WriteAfterCloseError after close/abort/writeEof */
  write(data: Uint8Array | string): void;
  /** Flushes, then sends EOF (FIN); reading goes on. */
  writeEof(): void;
  /** Whether {@link StreamTransport.writeEof} is supported (false for TLS). */
  canWriteEof(): boolean;
  /** Flushes the write buffer, then closes. */
  close(): void;
  /** Discards the write buffer and closes now. */
  abort(error?: Error): void;
  /** `true` once close, abort or connection loss began. */
  isClosing(): boolean;
  /** Stops delivering data (the peer is held back by TCP). */
  pauseReading(): void;
  /** Resumes delivering data. */
  resumeReading(): void;
  /** Whether data is being delivered. */
  isReading(): boolean;
  /** Bytes queued and not yet handed to the kernel. */
  getWriteBufferSize(): number;
  /** Sets the write-buffer high and low water marks. */
  setWriteBufferLimits(limits: { high?: number | undefined; low?: number | undefined }): void;
  /** The current write-buffer water marks. */
  getWriteBufferLimits(): WriteBufferLimits;
  /** Connection details: `peername`, `sockname`, `socket`, and for TLS `peercert`, `cipher`, `alpnProtocol`. */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  /** Routes events to `listener`. Data that arrived before any listener was set is delivered now. */
  setListener(listener: TransportListener): void;
  /** Upgrades the connection to TLS in place; the listener keeps receiving (decrypted) data. */
  startTls(options: StartTlsOptions): Promise<void>;
  /** The error the connection failed with, if any. */
  readonly error: Error | null;
  /** Settles (never rejects) once the connection is fully closed. */
  readonly closed: Promise<void>;
}

/** Options for upgrading a connection with `startTls()`. */
export type StartTlsOptions = (ConnectionOptions | TlsOptions) & {
  /** Perform the server side of the handshake. Defaults to the side the connection was made on. */
  server?: boolean | undefined;
  /** Server name for SNI and certificate checks on the client side. */
  serverHostname?: string | undefined;
};

/** How a socket transport was made, for defaults such as the TLS side. */
export interface SocketTransportOptions {
  highWaterMark?: number | undefined;
  lowWaterMark?: number | undefined;
  /** The connection was accepted by a server (TLS upgrades default to the server side). */
  serverSide?: boolean | undefined;
  /** Host name used to connect (SNI default on upgrades). */
  host?: string | undefined;
}

const NOOP_LISTENER: TransportListener = { data() {}, eof: () => false, closed() {} };
/** Above this average chunk size, flushes hand chunks to writev instead of joining them. */
const JOIN_MAX_AVG = 16_384;

/** A {@link StreamTransport} over a `net.Socket` or `tls.TLSSocket`. */
export class SocketTransport implements StreamTransport {
  #socket: Socket;
  #listener: TransportListener = NOOP_LISTENER;
  #hasListener = false;
  #early: Uint8Array[] | null = [];
  #earlyEof = false;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The last queued write, kept as a span of its ArrayBuffer so adjacent writes can extend it. */
  #tailView: Uint8Array | null = null;
  #tailBuffer: ArrayBufferLike | null = null;
  #tailStart = 0;
  #tailEnd = 0;
  /** The socket's own queue as of the last flush or drain: reading `writableLength` per write is costly. */
  #socketBuffered = 0;
  #flushScheduled = false;
  #high: number;
  #low: number;
  #writePaused = false;
  #reading = true;
  #closing = false;
  #writeClosed: string | null = null;
  #lost = false;
  #error: Error | null = null;
  #serverSide: boolean;
  #host: string | undefined;
  #peername: { address: string; family: string | undefined; port: number | undefined } | undefined;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;

  /**
   * @param socket - a connected socket (`allowHalfOpen` should be true so EOF can be handled)
   * @param options - water marks and side
   */
  constructor(socket: Socket, options: SocketTransportOptions = {}) {
    this.#socket = socket;
    this.#high = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#low = options.lowWaterMark ?? Math.min(DEFAULT_LOW_WATER_MARK, this.#high);
    checkLimits(this.#high, this.#low);
    this.#serverSide = options.serverSide ?? false;
    this.#host = options.host;
    // Kept from the start: a destroyed socket forgets its peer, and error reports need it.
    this.#peername = peerOf(socket);
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#attach(socket);
  }

  get error(): Error | null {
    return this.#error;
  }

  // Socket listeners are shared functions (called with `this` = the socket) rather than
  // per-connection closures: it keeps an idle connection small.
  static #onData = function (this: Socket, chunk: Buffer): void {
    const t = transportOf(this);
    if (t.#early !== null) t.#early.push(chunk);
    else t.#listener.data(chunk);
  };

  static #onEnd = function (this: Socket): void {
    const t = transportOf(this);
    if (t.#hasListener) t.#deliverEof();
    else t.#earlyEof = true;
  };

  static #onError = function (this: Socket, err: Error): void {
    const t = transportOf(this);
    t.#error ??= err;
  };

  static #onClose = function (this: Socket): void {
    const t = transportOf(this);
    if (t.#lost) return;
    t.#lost = true;
    t.#closing = true;
    t.#writePaused = false;
    t.#dropPending();
    t.#resolveClosed();
    t.#listener.closed(t.#error);
  };

  static #onDrain = function (this: Socket): void {
    transportOf(this).#maybeResume();
  };

  #attach(socket: Socket): void {
    (socket as SocketWithTransport)[kTransport] = this;
    socket.on('data', SocketTransport.#onData);
    socket.on('end', SocketTransport.#onEnd);
    socket.on('error', SocketTransport.#onError);
    socket.on('close', SocketTransport.#onClose);
    socket.on('drain', SocketTransport.#onDrain);
  }

  #detach(socket: Socket): void {
    socket.off('data', SocketTransport.#onData);
    socket.off('end', SocketTransport.#onEnd);
    socket.off('error', SocketTransport.#onError);
    socket.off('close', SocketTransport.#onClose);
    socket.off('drain', SocketTransport.#onDrain);
  }

  #deliverEof(): void {
    let keepOpen = false;
    try {
      keepOpen = this.#listener.eof() === true && this.canWriteEof();
    } finally {
      if (!keepOpen) this.close();
    }
  }

  setListener(listener: TransportListener): void {
    this.#listener = listener;
    this.#hasListener = true;
    const early = this.#early;
    this.#early = null;
    if (early !== null) for (const chunk of early) listener.data(chunk);
    if (this.#earlyEof) {
      this.#earlyEof = false;
      this.#deliverEof();
    }
    if (this.#lost) listener.closed(this.#error);
  }

  write(data: Uint8Array | string): void {
    if (this.#writeClosed !== null) throw new WriteAfterCloseError(this.#writeClosed);
    if (this.#lost) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const n = bytes.byteLength;
    if (n === 0) return;
    // Echo-style writers hand back adjacent slices of one received chunk: extend the span
    // instead of queueing a view per write, so the flush sends the original bytes uncopied.
    const offset = bytes.byteOffset;
    if (this.#tailBuffer === bytes.buffer && this.#tailEnd === offset) {
      this.#tailEnd = offset + n;
    } else {
      this.#materializeTail();
      this.#tailBuffer = bytes.buffer;
      this.#tailStart = offset;
      this.#tailEnd = offset + n;
      this.#tailView = bytes;
    }
    this.#pendingBytes += n;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushTick, this);
    }
    if (!this.#writePaused && this.#pendingBytes + this.#socketBuffered > this.#high) {
      this.#writePaused = true;
      this.#listener.writePaused?.();
    }
  }

  #dropPending(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#tailView = null;
    this.#tailBuffer = null;
  }

  #materializeTail(): void {
    const view = this.#tailView;
    if (view === null) return;
    this.#pending.push(
      view.byteOffset === this.#tailStart && view.byteLength === this.#tailEnd - this.#tailStart
        ? view
        : Buffer.from(this.#tailBuffer!, this.#tailStart, this.#tailEnd - this.#tailStart),
    );
    this.#tailView = null;
    this.#tailBuffer = null;
  }

  /** Hands every queued chunk to the socket now. */
  flush(): void {
    this.#flushScheduled = false;
    this.#materializeTail();
    const pending = this.#pending;
    const count = pending.length;
    if (count === 0 || this.#lost) return;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    const socket = this.#socket;
    if (count === 1) {
      socket.write(pending[0]!);
    } else if (bytes / count < JOIN_MAX_AVG) {
      socket.write(Buffer.concat(pending, bytes));
    } else {
      socket.cork();
      for (const chunk of pending) socket.write(chunk);
      socket.uncork();
    }
    this.#maybeResume();
  }

  #maybeResume(): void {
    this.#socketBuffered = this.#socket.writableLength;
    if (this.#writePaused && this.#pendingBytes + this.#socketBuffered <= this.#low) {
      this.#writePaused = false;
      this.#listener.writeResumed?.();
    }
  }

  writeEof(): void {
    if (this.#writeClosed !== null || this.#lost) return;
    if (!this.canWriteEof()) {
      throw new StreamsError('ERR_INVALID_ARGUMENT', 'writeEof() is not supported on a TLS connection');
    }
    this.#writeClosed = 'writeEof()';
    this.flush();
    this.#socket.end();
  }

  canWriteEof(): boolean {
    return !(this.#socket instanceof TLSSocket);
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#writeClosed ??= 'close()';
    this.flush();
    // destroySoon: end after the queue is flushed, then destroy, so a half-open peer cannot keep it alive.
    this.#socket.destroySoon();
  }

  abort(error?: Error): void {
    this.#writeClosed ??= 'abort()';
    this.#closing = true;
    this.#dropPending();
    if (error !== undefined) this.#error ??= error;
    this.#socket.destroy();
  }

  isClosing(): boolean {
    return this.#closing || this.#lost;
  }

  pauseReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.#socket.pause();
  }

  resumeReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#socket.resume();
  }

  isReading(): boolean {
    return this.#reading && !this.#lost;
  }

  getWriteBufferSize(): number {
    return this.#pendingBytes + this.#socket.writableLength;
  }

  setWriteBufferLimits(limits: { high?: number | undefined; low?: number | undefined }): void {
    const high = limits.high ?? (limits.low !== undefined ? 4 * limits.low : DEFAULT_HIGH_WATER_MARK);
    const low = limits.low ?? Math.floor(high / 4);
    checkLimits(high, low);
    this.#high = high;
    this.#low = low;
    if (!this.#writePaused && this.getWriteBufferSize() > high) {
      this.#writePaused = true;
      this.#listener.writePaused?.();
    } else {
      this.#maybeResume();
    }
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return { high: this.#high, low: this.#low };
  }

  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    const socket = this.#socket;
    let value: unknown;
    switch (name) {
      case 'peername':
        value = this.#peername ?? peerOf(socket);
        break;
      case 'sockname':
        value = socket.address();
        if (value !== null && typeof value === 'object' && Object.keys(value).length === 0) value = undefined;
        break;
      case 'socket':
        value = socket;
        break;
      case 'peercert':
        value = socket instanceof TLSSocket ? socket.getPeerCertificate() : undefined;
        break;
      case 'cipher':
        value = socket instanceof TLSSocket ? socket.getCipher() : undefined;
        break;
      case 'alpnProtocol':
        value = socket instanceof TLSSocket ? socket.alpnProtocol || undefined : undefined;
        break;
      case 'tls':
        value = socket instanceof TLSSocket;
        break;
    }
    return value === undefined ? defaultValue : value;
  }

  async startTls(options: StartTlsOptions): Promise<void> {
    const raw = this.#socket;
    if (raw instanceof TLSSocket) throw new StreamsError('ERR_TLS_UPGRADE', 'connection already uses TLS');
    if (this.isClosing())
      throw new StreamsError('ERR_TLS_UPGRADE', 'cannot start TLS on a closing connection');
    this.flush();
    if (raw.writableLength > 0) await new Promise<void>((resolve) => raw.once('drain', resolve));
    const { server = this.#serverSide, serverHostname, ...tlsOptions } = options;
    this.#detach(raw);
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      let tlsSocket: TLSSocket;
      const fail = (err: Error) => {
        tlsSocket.destroy();
        reject(new StreamsError('ERR_TLS_UPGRADE', `tls handshake failed: ${err.message}`, { cause: err }));
      };
      if (server) {
        tlsSocket = new TLSSocket(raw, { ...(tlsOptions as TlsOptions), isServer: true });
        tlsSocket.once('secure', () => {
          tlsSocket.off('error', fail);
          resolve(tlsSocket);
        });
      } else {
        const servername = serverHostname ?? (options as ConnectionOptions).servername ?? sniName(this.#host);
        tlsSocket = tlsConnect({ ...(tlsOptions as ConnectionOptions), socket: raw, servername });
        tlsSocket.once('secureConnect', () => {
          tlsSocket.off('error', fail);
          resolve(tlsSocket);
        });
      }
      tlsSocket.once('error', fail);
    }).catch((err: unknown) => {
      this.#attach(raw);
      raw.destroy();
      throw err;
    });
    this.#socket = secure;
    this.#attach(secure);
    if (!this.#reading) secure.pause();
  }
}

/** SNI must be a host name, never an IP literal. */
export function sniName(host: string | undefined): string | undefined {
  return host === undefined || isIP(host) !== 0 ? undefined : host;
}

const kTransport = Symbol('asyncnet.transport');
type SocketWithTransport = Socket & { [kTransport]: SocketTransport };

function transportOf(socket: Socket): SocketTransport {
  return (socket as SocketWithTransport)[kTransport];
}

function peerOf(socket: Socket) {
  return socket.remoteAddress === undefined
    ? undefined
    : { address: socket.remoteAddress, family: socket.remoteFamily, port: socket.remotePort };
}

function flushTick(transport: SocketTransport): void {
  transport.flush();
}

function checkLimits(high: number, low: number): void {
  if (!(Number.isFinite(high) && Number.isFinite(low) && low >= 0 && high >= low)) {
    throw new StreamsError(
      'ERR_INVALID_ARGUMENT',
      `write buffer limits need 0 <= low <= high, got high=${high} low=${low}`,
    );
  }
}
