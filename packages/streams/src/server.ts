import {
  type AddressInfo,
  type Server as NetServer,
  createServer as netCreateServer,
  type Socket,
} from 'node:net';
import { type TlsOptions, createServer as tlsCreateServer } from 'node:tls';
import { type HandlerState, validateStreamOptions, wireStreams } from './connection.js';
import { abortReasonToError } from './errors.js';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';
import { SocketTransport, type StreamTransport } from './transport.js';

/** Called with each new connection's reader and writer; may be async. */
export type ConnectionHandler = (reader: StreamReader, writer: StreamWriter) => void | Promise<void>;

/** Where a handler failure happened, passed to `onError`. */
export interface ConnectionErrorInfo {
  /** The peer's address, when known. */
  peername: AddressInfo | undefined;
}

/** Options for {@link startServer} and {@link startUnixServer}. */
export interface StartServerOptions {
  /** Reader buffer limit for each connection. @default 65536 */
  limit?: number | undefined;
  /** Serve TLS with these options (`key` and `cert` at least). @default plain TCP */
  tls?: TlsOptions | undefined;
  /** Listen backlog. @default 511 */
  backlog?: number | undefined;
  /** Closing the signal closes the server (listener and clients). */
  signal?: AbortSignal | undefined;
  /** Handler failures. The failing connection is closed; the server keeps serving. @default logs one line to stderr */
  onError?: ((error: unknown, info: ConnectionErrorInfo) => void) | undefined;
  /** Per-connection write-buffer high-water mark. @default 65536 */
  highWaterMark?: number | undefined;
  /** Per-connection write-buffer low-water mark. @default a quarter of the high-water mark (16384) */
  lowWaterMark?: number | undefined;
  /** Disable Nagle's algorithm on accepted TCP connections. @default true */
  noDelay?: boolean | undefined;
}

/** Options for {@link Server.closeClients}. */
export interface CloseClientsOptions {
  /** Connections still open after this many ms (a peer that does not read) are aborted. @default 5000 */
  timeout?: number | undefined;
}

const defaultOnError = (error: unknown, info: ConnectionErrorInfo): void => {
  const peer = info.peername ? `${info.peername.address}:${info.peername.port}` : 'unknown peer';
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`asyncnet: connection handler for ${peer} failed: ${message}\n`);
};

/**
 * A listening server (asyncio's `Server`). Returned by {@link startServer}; `@asyncnet/protocol`
 * shares it.
 */
export class Server implements AsyncDisposable {
  #server: NetServer;
  #transports = new Set<StreamTransport>();
  /** TLS sockets still in their handshake: not yet connections, but they keep the listener from closing. */
  #handshaking = new Set<Socket>();
  #listening = false;
  #closedListener: Promise<void>;
  #resolveListenerClosed!: () => void;
  #stopped: Promise<void>;
  #resolveStopped!: () => void;
  #idleWaiters: (() => void)[] = [];

  /** @internal Use {@link startServer} or {@link startTransportServer}. */
  constructor(server: NetServer) {
    this.#server = server;
    this.#closedListener = new Promise((resolve) => {
      this.#resolveListenerClosed = resolve;
    });
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    server.on('close', () => {
      this.#listening = false;
      this.#resolveStopped();
      this.#resolveListenerClosed();
    });
  }

  /** @internal Starts listening. */
  async listen(
    target: { host: string; port: number } | { path: string },
    backlog: number | undefined,
  ): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ ...target, backlog }, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    this.#listening = true;
    this.#server.on('error', (err) => defaultOnError(err, { peername: undefined }));
  }

  /** @internal Registers a connection so the server can close it and wait for it. */
  track(transport: StreamTransport): void {
    this.#transports.add(transport);
    void transport.closed.then(() => {
      this.#transports.delete(transport);
      if (this.#transports.size === 0 && this.#idleWaiters.length > 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** @internal Tracks a raw socket until its TLS handshake completes or fails. */
  trackHandshake(socket: Socket): void {
    this.#handshaking.add(socket);
    socket.once('close', () => this.#handshaking.delete(socket));
  }

  /** @internal The handshake finished: the socket is now tracked as a connection. */
  handshakeDone(socket: Socket): void {
    this.#handshaking.delete(socket);
  }

  #dropHandshakes(): void {
    for (const socket of this.#handshaking) socket.destroy();
    this.#handshaking.clear();
  }

  /** The bound address: `AddressInfo` for TCP (with the real port when listening on port 0), the path for Unix sockets. */
  address(): AddressInfo | string | null {
    return this.#server.address();
  }

  /** `true` while the server accepts connections. */
  isServing(): boolean {
    return this.#listening;
  }

  /** Number of open connections. */
  get connections(): number {
    return this.#transports.size;
  }

  /** Resolves when the server stops accepting connections ({@link Server.close}, or its `signal`). */
  serveForever(): Promise<void> {
    return this.#stopped;
  }

  /** Stops accepting connections; open connections go on. */
  close(): void {
    this.#listening = false;
    this.#resolveStopped();
    if (!this.#server.listening) {
      this.#resolveListenerClosed();
      return;
    }
    this.#server.close();
  }

  /**
   * Closes every open connection gracefully: queued bytes are flushed, then the connection is
   * closed. Connections still open after `timeout` ms are aborted, so {@link Server.waitClosed}
   * cannot hang.
   * @param options - `timeout` before stragglers are aborted
   */
  closeClients(options: CloseClientsOptions = {}): void {
    const timeout = options.timeout ?? 5000;
    this.#dropHandshakes();
    const targets = [...this.#transports];
    for (const t of targets) t.close();
    if (targets.length === 0) return;
    const timer = setTimeout(() => {
      for (const t of targets) t.abort();
    }, timeout);
    timer.unref();
    void Promise.all(targets.map((t) => t.closed)).then(() => clearTimeout(timer));
  }

  /** Destroys every open connection now, discarding queued bytes. */
  abortClients(): void {
    this.#dropHandshakes();
    for (const t of [...this.#transports]) t.abort();
  }

  /** Resolves once the listener is closed and every connection has ended. */
  async waitClosed(): Promise<void> {
    await this.#closedListener;
    if (this.#transports.size === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** `await using server = await startServer(...)`: closes the listener, closes clients and waits. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    this.closeClients();
    await this.waitClosed();
  }
}

/**
 * Starts a TCP (or TLS) server calling `onTransport` for each connection, for adapter authors
 * (`@asyncnet/protocol` builds on it). The callback must set the transport's listener.
 *
 * @param onTransport - receives each accepted connection
 * @param host - address to bind, e.g. `127.0.0.1` or `::1`
 * @param port - port, 0 for any free port
 * @param options - as for {@link startServer}
 */
export function startTransportServer(
  onTransport: (transport: SocketTransport) => void,
  host: string,
  port: number,
  options: StartServerOptions = {},
): Promise<Server> {
  return serve(onTransport, { host, port }, options);
}

/**
 * Like {@link startTransportServer}, on a Unix domain socket.
 * @param onTransport - receives each accepted connection
 * @param path - socket path
 * @param options - as for {@link startServer}
 */
export function startUnixTransportServer(
  onTransport: (transport: SocketTransport) => void,
  path: string,
  options: StartServerOptions = {},
): Promise<Server> {
  return serve(onTransport, { path }, options);
}

/**
 * Starts a TCP (or TLS) server (asyncio's `start_server`). `handler(reader, writer)` runs for
 * each connection; if it throws or rejects, only that connection is closed and `onError` is told.
 * When the handler returns, the connection stays open until its writer closes it or the peer sends EOF.
 *
 * @param handler - called for each connection
 * @param host - address to bind, e.g. `127.0.0.1`
 * @param port - port, 0 for any free port
 * @param options - limit, TLS, backlog, signal, onError, water marks
 * @returns the listening {@link Server}
 * @example
 * ```ts
 * const server = await startServer(async (reader, writer) => {
 *   for await (const line of reader) {
 *     writer.write(line);
 *     await writer.drain();
 *   }
 *   writer.close();
 * }, '127.0.0.1', 0);
 * ```
 */
export function startServer(
  handler: ConnectionHandler,
  host: string,
  port: number,
  options: StartServerOptions = {},
): Promise<Server> {
  return serve(handlerToTransportCallback(handler, options), { host, port }, options);
}

/**
 * Starts a Unix domain socket server (asyncio's `start_unix_server`).
 * @param handler - called for each connection
 * @param path - socket path
 * @param options - as for {@link startServer}
 */
export function startUnixServer(
  handler: ConnectionHandler,
  path: string,
  options: StartServerOptions = {},
): Promise<Server> {
  return serve(handlerToTransportCallback(handler, options), { path }, options);
}

function handlerToTransportCallback(handler: ConnectionHandler, options: StartServerOptions) {
  const onError = options.onError ?? defaultOnError;
  return (transport: SocketTransport): void => {
    const state: HandlerState = { done: false, eofSeen: false };
    const [reader, writer] = wireStreams(transport, options.limit, state);
    const finished = () => {
      state.done = true;
      if (state.eofSeen) transport.close();
    };
    const fail = (err: unknown) => {
      transport.abort();
      try {
        onError(err, { peername: transport.getExtraInfo('peername') as AddressInfo | undefined });
      } catch {
        // An onError that throws must not take the server down either.
      }
    };
    try {
      const result = handler(reader, writer);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(finished, fail);
      } else {
        finished();
      }
    } catch (err) {
      fail(err);
    }
  };
}

async function serve(
  onTransport: (transport: SocketTransport) => void,
  target: { host: string; port: number } | { path: string },
  options: StartServerOptions,
): Promise<Server> {
  const { signal } = options;
  validateStreamOptions(options);
  if (signal?.aborted) throw abortReasonToError(signal, 'startServer');
  // TLS cannot half-close, and a half-open TLS server keeps failed handshakes open forever.
  const netServer = options.tls
    ? tlsCreateServer(options.tls)
    : netCreateServer({ allowHalfOpen: true, noDelay: options.noDelay ?? true });
  const server = new Server(netServer);
  const isTls = options.tls !== undefined;
  if (isTls) netServer.on('connection', (raw: Socket) => server.trackHandshake(raw));
  netServer.on(isTls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (isTls) {
      server.handshakeDone((socket as Socket & { _parent?: Socket })._parent ?? socket);
      if (options.noDelay !== false) socket.setNoDelay(true);
    }
    const transport = new SocketTransport(socket, {
      highWaterMark: options.highWaterMark,
      lowWaterMark: options.lowWaterMark,
      serverSide: true,
    });
    server.track(transport);
    try {
      onTransport(transport);
    } catch (err) {
      transport.abort();
      (options.onError ?? defaultOnError)(err, { peername: undefined });
    }
  });
  if (isTls) {
    // A failed handshake concerns that client only.
    netServer.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
  }
  await server.listen(target, options.backlog);
  if (signal !== undefined) {
    const stop = () => {
      server.close();
      server.closeClients();
    };
    // The signal may have fired while we were binding.
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  }
  return server;
}
