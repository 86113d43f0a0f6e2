import { isIP, type Socket } from 'node:net';
import type { CipherNameAndProtocol, ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  abortReasonToError,
  ConnectionClosedError,
  StreamsError,
  TimeoutError,
  WriteAfterCloseError,
} from './errors.js';
import { setLongTimeout } from './internal/long-timeout.js';
import { TransportCore } from './internal/transport-core.js';

/** Default write-buffer high-water mark: `drain()` waits above it. */
export const DEFAULT_HIGH_WATER_MARK = 65_536;
/** Default write-buffer low-water mark: a paused writer resumes at or below it. */
export const DEFAULT_LOW_WATER_MARK = 16_384;

/** An IP endpoint, as `getExtraInfo('peername')` and `getExtraInfo('sockname')` report it. */
export interface SocketAddress {
  /** IP address, e.g. `127.0.0.1` or `::1` (`memory` for in-memory pairs). */
  address: string;
  /** Port number. */
  port: number;
  /** `IPv4` or `IPv6` (`memory` for in-memory pairs). */
  family: string;
}

/** What `getExtraInfo(name)` returns for each known name (asyncio's `get_extra_info` keys). */
export interface ExtraInfo {
  /** The remote endpoint; absent for Unix sockets. */
  peername: SocketAddress;
  /** The local endpoint, or the path of a Unix socket when Node reports one. */
  sockname: SocketAddress | string;
  /** The underlying `net.Socket` (a `tls.TLSSocket` once TLS is in use). */
  socket: Socket;
  /** The peer's certificate (TLS only). */
  peercert: PeerCertificate;
  /** The negotiated cipher (TLS only). */
  cipher: CipherNameAndProtocol;
  /** The protocol chosen by ALPN (TLS only, when one was negotiated). */
  alpnProtocol: string;
  /** Whether the connection is using TLS. */
  tls: boolean;
}

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
  /** Cancels the handshake (the connection is closed). */
  signal?: AbortSignal | undefined;
  /** Handshake deadline in ms; the connection is closed when it passes. @default 60000 */
  handshakeTimeout?: number | undefined;
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

const bufferCopy = Buffer.prototype.copy;

/** Writes below this size are copied into the arena; larger ones are queued by reference. */
const COPY_MAX = 16_384;
const ARENA_SIZE = 65_536;

/** A {@link StreamTransport} over a `net.Socket` or `tls.TLSSocket`. */
export class SocketTransport implements StreamTransport {
  #socket: Socket;
  #core: TransportCore;
  /** Chunks ready for the socket, in order; small writes are first copied into `#arena`. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Small writes are copied here (asyncio copies too), so callers may reuse their buffers at once. */
  #arena: Buffer | null = null;
  #arenaStart = 0;
  #arenaEnd = 0;
  /** Set while `startTls()` runs: writes queue up and leave over TLS once it is established. */
  #upgrading: TLSSocket | null = null;
  #tlsPending = false;
  /** Only `startTls()` waits for a flush: created then. */
  #flushWaiters: (() => void)[] | null = null;
  /** The socket's own queue as of the last flush or drain: reading `writableLength` per write is costly. */
  #socketBuffered = 0;
  #flushScheduled = false;
  #writeClosed: string | null = null;
  #serverSide: boolean;
  #host: string | undefined;
  #peername: { address: string; family: string | undefined; port: number | undefined } | undefined;
  readonly closed: Promise<void>;

  /**
   * @param socket - a connected socket (`allowHalfOpen` should be true so EOF can be handled)
   * @param options - water marks and side
   */
  constructor(socket: Socket, options: SocketTransportOptions = {}) {
    this.#socket = socket;
    this.#core = new TransportCore(this, resolveWriteLimits(options.highWaterMark, options.lowWaterMark));
    this.#serverSide = options.serverSide ?? false;
    this.#host = options.host;
    // Kept from the start: a destroyed socket forgets its peer, and error reports need it.
    this.#peername = peerOf(socket);
    this.closed = this.#core.closed;
    this.#attach(socket);
  }

  get error(): Error | null {
    return this.#core.error;
  }

  // Socket listeners are shared functions (called with `this` = the socket) rather than
  // per-connection closures: it keeps an idle connection small.
  static #onData = function (this: Socket, chunk: Buffer): void {
    // Nobody is listening yet: hold at most one high-water mark, then let TCP hold the peer back.
    if (transportOf(this).#core.receive(chunk)) this.pause();
  };

  static #onEnd = function (this: Socket): void {
    transportOf(this).#core.receiveEof();
  };

  // An error means the socket is already destroyed: the connection is lost now, not at a 'close'
  // that a writer spinning on drain() could keep from ever arriving.
  static #onError = function (this: Socket, err: Error): void {
    const t = transportOf(this);
    t.#core.setError(err);
    t.#finish();
  };

  static #onClose = function (this: Socket): void {
    transportOf(this).#finish();
  };

  /** The connection is gone: runs once, whichever way it ended. */
  #finish(): void {
    if (!this.#core.markLost()) return;
    this.#dropPending();
    this.#core.notifyClosed();
  }

  /**
   * Called by the socket once a flushed chunk reached the kernel. Made at the first flush: a
   * connection that never writes does not pay for the closure.
   */
  #afterWrite: ((err?: Error | null) => void) | null = null;

  #written(err?: Error | null): void {
    if (!err) {
      this.#maybeResume();
      return;
    }
    // ERR_STREAM_DESTROYED only echoes a destroy whose own error (or clean close) is reported by
    // the socket; anything else (EPIPE, ECONNRESET) is the connection's failure.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_DESTROYED') this.#core.setError(err);
    this.#lostIfDestroyed();
  }

  /** A destroyed socket reports an empty buffer: treat it as lost, never as drained. */
  #lostIfDestroyed(): boolean {
    const socket = this.#socket;
    if (!socket.destroyed) return this.#core.lost;
    if (!this.#core.lost) {
      this.#core.setError(socket.errored);
      this.#finish();
    }
    return true;
  }

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

  setListener(listener: TransportListener): void {
    if (this.#core.setListener(listener)) this.#socket.resume();
  }

  write(data: Uint8Array | string): void {
    if (this.#writeClosed !== null) throw new WriteAfterCloseError(this.#writeClosed);
    const core = this.#core;
    if (core.lost) return;
    let n: number;
    if (typeof data === 'string') {
      n = this.#copyString(data);
    } else {
      n = data.byteLength;
      if (n === 0) return;
      if (n < COPY_MAX) this.#copyBytes(data, n);
      else {
        // Large chunks are queued by reference, as node:net does: no copy on the bulk path.
        this.#sealArena();
        this.#pending.push(data);
      }
    }
    this.#pendingBytes += n;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushTick, this);
    }
    core.pauseWritingIfAbove(this.#pendingBytes + this.#socketBuffered);
  }

  #copyBytes(data: Uint8Array, n: number): void {
    let arena = this.#arena;
    if (arena === null || this.#arenaEnd + n > arena.byteLength) arena = this.#newArena(n);
    // Buffer's copy beats TypedArray#set for small chunks (about 20 vs 40 ns for a 64-byte line), and
    // works on any Uint8Array.
    bufferCopy.call(data, arena, this.#arenaEnd);
    this.#arenaEnd += n;
  }

  #copyString(text: string): number {
    // Three bytes per UTF-16 unit is the UTF-8 worst case, so a write that fits cannot truncate.
    if (text.length * 3 < COPY_MAX) {
      let arena = this.#arena;
      if (arena === null || this.#arenaEnd + text.length * 3 > arena.byteLength)
        arena = this.#newArena(text.length * 3);
      const n = arena.write(text, this.#arenaEnd, 'utf8');
      this.#arenaEnd += n;
      return n;
    }
    const bytes = Buffer.from(text, 'utf8');
    this.#sealArena();
    this.#pending.push(bytes);
    return bytes.byteLength;
  }

  /** Regions already handed to the socket are never written again: a full arena is replaced, not reset. */
  #newArena(atLeast: number): Buffer {
    this.#sealArena();
    const arena = Buffer.allocUnsafeSlow(Math.max(ARENA_SIZE, atLeast));
    this.#arena = arena;
    this.#arenaStart = 0;
    this.#arenaEnd = 0;
    return arena;
  }

  #sealArena(): void {
    if (this.#arenaEnd > this.#arenaStart) {
      this.#pending.push(this.#arena!.subarray(this.#arenaStart, this.#arenaEnd));
      this.#arenaStart = this.#arenaEnd;
    }
  }

  #dropPending(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#arenaStart = this.#arenaEnd;
    const waiters = this.#flushWaiters;
    if (waiters === null) return;
    this.#flushWaiters = null;
    for (const w of waiters) w();
  }

  /** Hands every queued chunk to the socket now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#tlsPending) return;
    this.#flushNow();
  }

  #flushNow(): void {
    if (this.#lostIfDestroyed()) return;
    this.#sealArena();
    const pending = this.#pending;
    const count = pending.length;
    if (count === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    const socket = this.#socket;
    const afterWrite = (this.#afterWrite ??= (err) => this.#written(err));
    if (count === 1) {
      socket.write(pending[0]!, afterWrite);
    } else {
      socket.cork();
      for (let i = 0; i < count - 1; i++) socket.write(pending[i]!);
      socket.write(pending[count - 1]!, afterWrite);
      socket.uncork();
    }
    this.#maybeResume();
  }

  #maybeResume(): void {
    if (this.#lostIfDestroyed()) return;
    const buffered = this.#socket.writableLength;
    this.#socketBuffered = buffered;
    this.#core.resumeWritingIfAtOrBelow(this.#pendingBytes + buffered);
    const waiters = this.#flushWaiters;
    if (buffered === 0 && waiters !== null) {
      this.#flushWaiters = null;
      for (const w of waiters) w();
    }
  }

  /** Hands queued bytes to the socket and resolves once they reached the kernel (or the connection is gone). */
  #flushed(): Promise<void> {
    this.#flushNow();
    if (this.#core.lost || this.#socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      (this.#flushWaiters ??= []).push(resolve);
    });
  }

  writeEof(): void {
    if (this.#writeClosed !== null || this.#core.lost) return;
    if (!this.canWriteEof()) {
      throw new StreamsError('ERR_INVALID_ARGUMENT', 'writeEof() is not supported on a TLS connection');
    }
    if (this.#tlsPending) {
      throw new StreamsError('ERR_INVALID_ARGUMENT', 'writeEof() while a TLS upgrade is in progress');
    }
    this.#writeClosed = 'writeEof()';
    this.flush();
    this.#socket.end();
  }

  canWriteEof(): boolean {
    return !(this.#socket instanceof TLSSocket);
  }

  close(): void {
    if (!this.#core.markClosing()) return;
    this.#writeClosed ??= 'close()';
    if (this.#tlsPending) {
      // Mid-handshake there is nothing to flush over: give up the upgrade.
      this.abort();
      return;
    }
    this.flush();
    // destroySoon: end after the queue is flushed, then destroy, so a half-open peer cannot keep it alive.
    this.#socket.destroySoon();
  }

  abort(error?: Error): void {
    this.#writeClosed ??= 'abort()';
    this.#core.markClosing();
    this.#dropPending();
    this.#core.setError(error);
    this.#upgrading?.destroy();
    this.#socket.destroy();
  }

  isClosing(): boolean {
    return this.#core.isClosing();
  }

  pauseReading(): void {
    if (this.#core.pauseReading()) this.#socket.pause();
  }

  resumeReading(): void {
    if (this.#core.resumeReading()) this.#socket.resume();
  }

  isReading(): boolean {
    return this.#core.isReading();
  }

  getWriteBufferSize(): number {
    return this.#pendingBytes + this.#socket.writableLength;
  }

  setWriteBufferLimits(limits: { high?: number | undefined; low?: number | undefined }): void {
    if (!this.#core.setLimits(resolveWriteLimits(limits.high, limits.low), this.getWriteBufferSize()))
      this.#maybeResume();
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return this.#core.limits();
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
      case 'peercert': {
        // node:tls answers {} when the peer sent no certificate and null once the socket is gone.
        const cert = socket instanceof TLSSocket ? socket.getPeerCertificate() : null;
        value = cert !== null && Object.keys(cert).length > 0 ? cert : undefined;
        break;
      }
      case 'cipher':
        value = socket instanceof TLSSocket ? (socket.getCipher() ?? undefined) : undefined;
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
    if (this.#tlsPending) throw new StreamsError('ERR_TLS_UPGRADE', 'a TLS upgrade is already in progress');
    if (this.isClosing())
      throw new StreamsError('ERR_TLS_UPGRADE', 'cannot start TLS on a closing connection');
    const {
      server = this.#serverSide,
      serverHostname,
      signal,
      handshakeTimeout = 60_000,
      ...tlsOptions
    } = options;
    if (signal?.aborted) throw abortReasonToError(signal, 'startTls');
    // Bytes written before this call leave in plaintext now; later writes wait for the TLS socket.
    const flushed = this.#flushed();
    this.#tlsPending = true;
    try {
      await flushed;
      if (this.#core.lost)
        throw new StreamsError('ERR_TLS_UPGRADE', 'connection closed before the TLS handshake');
      await this.#handshake(raw, server, serverHostname, signal, handshakeTimeout, tlsOptions);
    } finally {
      this.#tlsPending = false;
    }
    if (this.#core.isClosing()) {
      // close() was called during the handshake and already aborted.
      this.#socket.destroy();
      return;
    }
    this.flush();
  }

  async #handshake(
    raw: Socket,
    server: boolean,
    serverHostname: string | undefined,
    signal: AbortSignal | undefined,
    handshakeTimeout: number,
    tlsOptions: ConnectionOptions | TlsOptions,
  ): Promise<void> {
    this.#detach(raw);
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const tlsSocket = server
        ? new TLSSocket(raw, { ...(tlsOptions as TlsOptions), isServer: true })
        : tlsConnect({
            ...(tlsOptions as ConnectionOptions),
            socket: raw,
            servername: serverHostname ?? (tlsOptions as ConnectionOptions).servername ?? sniName(this.#host),
          });
      this.#upgrading = tlsSocket;
      const cancelTimer = setLongTimeout(
        () => fail(new TimeoutError(`tls handshake timed out after ${handshakeTimeout} ms`)),
        handshakeTimeout,
      );
      const onAbort = () => fail(abortReasonToError(signal!, 'startTls'));
      const onClose = () => fail(new ConnectionClosedError('connection closed during the TLS handshake'));
      const done = () => {
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        tlsSocket.off('error', fail);
        tlsSocket.off('close', onClose);
        tlsSocket.off('end', onClose);
        raw.off('close', onClose);
        raw.off('end', onClose);
      };
      function fail(err: Error): void {
        done();
        // Destroying may still emit an error: it is already reported through the rejection.
        tlsSocket.on('error', () => {});
        tlsSocket.destroy();
        raw.destroy();
        reject(
          err instanceof StreamsError
            ? err
            : new StreamsError('ERR_TLS_UPGRADE', `tls handshake failed: ${err.message}`, { cause: err }),
        );
      }
      tlsSocket.once(server ? 'secure' : 'secureConnect', () => {
        done();
        resolve(tlsSocket);
      });
      tlsSocket.once('error', fail);
      tlsSocket.once('close', onClose);
      tlsSocket.once('end', onClose);
      raw.once('close', onClose);
      raw.once('end', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    }).catch((err: unknown) => {
      this.#upgrading = null;
      this.#core.setError(err as Error);
      this.#finish();
      throw err;
    });
    this.#upgrading = null;
    this.#socket = secure;
    this.#attach(secure);
    if (!this.#core.reading) secure.pause();
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

/**
 * Fills in missing water marks the asyncio way (high defaults to 4 × low or 64 KiB, low to a quarter
 * of high) and validates them: the one rule for options, constructors and `setWriteBufferLimits`.
 */
export function resolveWriteLimits(high: number | undefined, low: number | undefined): WriteBufferLimits {
  const h = high ?? (low !== undefined ? 4 * low : DEFAULT_HIGH_WATER_MARK);
  const l = low ?? Math.floor(h / 4);
  checkLimits(h, l);
  return { high: h, low: l };
}

function checkLimits(high: number, low: number): void {
  if (!(Number.isFinite(high) && Number.isFinite(low) && low >= 0 && high >= low)) {
    throw new StreamsError(
      'ERR_INVALID_ARGUMENT',
      `write buffer limits need 0 <= low <= high, got high=${high} low=${low}`,
    );
  }
}
