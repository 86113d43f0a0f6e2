import {
  type AddressInfo,
  type Server as NetServer,
  createServer as netCreateServer,
  type Socket,
} from 'node:net';
import { type TlsOptions, createServer as tlsCreateServer } from 'node:tls';
import { type HandlerState, validateStreamOptions, wireStreams } from './connection.js';
import { abortReasonToError, StreamsError } from './errors.js';
import { untilAborted } from './internal/abortable.js';
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
  /** Listen backlog: connections the kernel queues before they are accepted. @default 511 */
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
  /** Enable TCP keep-alive probes on accepted connections. @default false */
  keepAlive?: boolean | undefined;
  /** Idle time in ms before the first keep-alive probe (with `keepAlive`); 0 keeps the OS default. @default 0 */
  keepAliveInitialDelay?: number | undefined;
  /**
   * Let several servers (or processes) bind the same port; the kernel spreads connections over them
   * (`SO_REUSEPORT`). Needs Node >= 22.12 (or >= 23.1) on Linux, FreeBSD, DragonFly BSD, Solaris or AIX;
   * elsewhere `startServer` rejects with `ERR_UNSUPPORTED`.
   * @default false
   */
  reusePort?: boolean | undefined;
  /** With host `::`, accept IPv6 only (no IPv4-mapped connections), so `0.0.0.0` can be bound separately. @default false */
  ipv6Only?: boolean | undefined;
  /**
   * Most connections open at once (TLS handshakes included), over every host. A connection over the
   * limit is closed at once, counted in {@link Server.refusedConnections} and reported to `onError`
   * with a `StreamsError` `ERR_MAX_CONNECTIONS`.
   * @default no limit
   */
  maxConnections?: number | undefined;
}

/**
 * A listening socket to serve instead of binding a new one: a listening `net.Server` (its socket is
 * taken over: it stops receiving connections itself), a `net.Socket` handle, or `{ fd }`, a listening
 * file descriptor inherited from a parent process or a service manager.
 */
export type ListeningSocket = NetServer | Socket | { fd: number };

/** Options for serving an existing listening socket: {@link startServer}`(handler, { sock })`. */
export interface ServeSocketOptions extends StartServerOptions {
  /** The listening socket to serve (asyncio's `sock=`). */
  sock: ListeningSocket;
}

/** Options for {@link Server.closeClients}. */
export interface CloseClientsOptions {
  /** Connections still open after this many ms (a peer that does not read) are aborted. @default 5000 */
  timeout?: number | undefined;
}

const defaultOnError = (error: unknown, info: ConnectionErrorInfo): void => {
  const peer = info.peername ? `${info.peername.address}:${info.peername.port}` : 'unknown peer';
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const what =
    error instanceof StreamsError && error.code === 'ERR_MAX_CONNECTIONS'
      ? `refused ${peer}`
      : `connection handler for ${peer} failed`;
  process.stderr.write(`asyncnet: ${what}: ${message}\n`);
};

/** Where one listener binds: a TCP host and port, a Unix path, or a socket to take over. */
type ListenTarget = { host: string; port: number } | { path: string } | { sock: ListeningSocket };

/**
 * A listening server (asyncio's `Server`). Returned by {@link startServer}; `@asyncnet/protocol`
 * shares it. One `Server` may listen on several hosts at once; it closes and waits for all of them.
 */
export class Server implements AsyncDisposable {
  #servers: NetServer[];
  #transports = new Set<StreamTransport>();
  /** TLS sockets still in their handshake: not yet connections, but they keep the listener from closing. */
  #handshaking = new Set<Socket>();
  #listening = false;
  #closedListener: Promise<void>;
  #stopped: Promise<void>;
  #resolveStopped!: () => void;
  #idleWaiters: (() => void)[] = [];
  #refused = 0;
  #unbound: (() => void)[] = [];

  /** @internal Use {@link startServer} or {@link startTransportServer}. */
  constructor(servers: NetServer | NetServer[]) {
    this.#servers = Array.isArray(servers) ? servers : [servers];
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    // A listener that is not listening (never bound, or closed already) emits no 'close' on close().
    this.#closedListener = Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.once('close', () => resolve());
            this.#unbound.push(() => {
              if (!s.listening) resolve();
            });
          }),
      ),
    ).then(() => {
      this.#listening = false;
      this.#resolveStopped();
    });
  }

  /**
   * @internal Starts listening: the i-th target on the i-th server. If one fails (say `EADDRINUSE`),
   * the ones already bound are closed again and the error is thrown.
   */
  async listen(
    targets: ListenTarget | ListenTarget[],
    backlog: number | undefined,
    extra: ListenExtra = {},
  ): Promise<void> {
    const list = Array.isArray(targets) ? targets : [targets];
    const results = await Promise.allSettled(
      list.map((target, i) => listenOne(this.#servers[i]!, target, backlog, extra)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      for (const s of this.#servers) if (s.listening) s.close();
      throw failed.reason;
    }
    this.#listening = true;
    for (const s of this.#servers) s.on('error', (err) => defaultOnError(err, { peername: undefined }));
  }

  /**
   * @internal Registers a connection so the server can close it and wait for it. Its `closed`
   * untracks it, unless `untrackSelf`: then its listener calls {@link Server.untrack} (no promise
   * reaction per connection).
   */
  track(transport: StreamTransport, untrackSelf = false): void {
    this.#transports.add(transport);
    if (!untrackSelf) this.untrackWhenClosed(transport);
  }

  /** @internal Untracks the connection once its transport is closed. */
  untrackWhenClosed(transport: StreamTransport): void {
    void transport.closed.then(() => this.untrack(transport));
  }

  /** @internal The connection is gone (idempotent). */
  untrack(transport: StreamTransport): void {
    if (!this.#transports.delete(transport)) return;
    if (this.#transports.size === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
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

  /** @internal Connections and handshakes in progress: what `maxConnections` counts. */
  get load(): number {
    return this.#transports.size + this.#handshaking.size;
  }

  /** @internal A connection over `maxConnections` was closed. */
  countRefused(): void {
    this.#refused++;
  }

  #dropHandshakes(): void {
    for (const socket of this.#handshaking) socket.destroy();
    this.#handshaking.clear();
  }

  /**
   * The bound address of the first listener: `AddressInfo` for TCP (with the real port when listening
   * on port 0), the path for Unix sockets. See {@link Server.addresses} for a server on several hosts.
   */
  address(): AddressInfo | string | null {
    return this.#servers[0]!.address();
  }

  /**
   * Every bound address, one per listener, in the order the hosts were given (asyncio's `sockets`).
   * With port 0 each host has its own port.
   * @returns the addresses; empty once the server is closed
   * @example
   * ```ts
   * const server = await startServer(handler, ['127.0.0.1', '::1'], 0);
   * for (const a of server.addresses()) console.log(a);
   * ```
   */
  addresses(): (AddressInfo | string)[] {
    const out: (AddressInfo | string)[] = [];
    for (const s of this.#servers) {
      const a = s.address();
      if (a !== null) out.push(a);
    }
    return out;
  }

  /** `true` while the server accepts connections. */
  isServing(): boolean {
    return this.#listening;
  }

  /** Number of open connections. */
  get connections(): number {
    return this.#transports.size;
  }

  /** Connections closed at once because `maxConnections` were already open. */
  get refusedConnections(): number {
    return this.#refused;
  }

  /**
   * Resolves when the server stops accepting connections ({@link Server.close}, or its `signal`).
   * @param options - `signal` stops only the waiting (the server keeps serving)
   * @throws `AbortedError`/`TimeoutError` when `signal` aborts first
   */
  serveForever(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    return untilAborted(this.#stopped, options?.signal, 'serveForever');
  }

  /** Stops accepting connections; open connections go on. */
  close(): void {
    this.#listening = false;
    this.#resolveStopped();
    for (const s of this.#servers) if (s.listening) s.close();
    for (const settle of this.#unbound) settle();
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

  /**
   * Resolves once every listener is closed and every connection has ended.
   * @param options - `signal` stops only the waiting (e.g. bound it with `withTimeout`, then `abortClients()`)
   * @throws `AbortedError`/`TimeoutError` when `signal` aborts first
   */
  waitClosed(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    return untilAborted(this.#allClosed(), options?.signal, 'waitClosed');
  }

  async #allClosed(): Promise<void> {
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

/** Listen options that only some targets take. */
interface ListenExtra {
  reusePort?: boolean | undefined;
  ipv6Only?: boolean | undefined;
}

function listenOne(
  server: NetServer,
  target: ListenTarget,
  backlog: number | undefined,
  extra: ListenExtra,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if ('sock' in target) {
      // listen(handle) takes over the handle of a net.Server or net.Socket, or an fd.
      server.listen(target.sock as { fd: number }, backlog, done);
      return;
    }
    const tcp =
      'host' in target ? { ipv6Only: extra.ipv6Only, ...(extra.reusePort ? { reusePort: true } : {}) } : {};
    server.listen({ ...target, ...tcp, backlog }, done);
  });
}

/**
 * Whether `net.Server#listen` honours `reusePort` here: Node >= 22.12 / >= 23.1 on the platforms
 * with `SO_REUSEPORT` load balancing. Older Node ignores the option silently, so it is refused instead.
 * @returns `null` when supported, otherwise why not
 */
export function reusePortUnsupported(
  version: string = process.versions.node,
  platform: string = process.platform,
): string | null {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const nodeOk = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  if (!nodeOk) return `reusePort needs Node >= 22.12 or >= 23.1, this is ${version}`;
  if (!['linux', 'freebsd', 'dragonfly', 'sunos', 'aix'].includes(platform))
    return `reusePort is not available on ${platform}`;
  return null;
}

/** A host to listen on, or several. @inline */
type Hosts = string | readonly string[];

/**
 * Serves an existing listening socket with `onTransport` for each connection.
 * @param onTransport - receives each accepted connection
 * @param options - `sock` to serve, and as for {@link startServer}
 * @returns the {@link Server}; closing it closes the socket
 * @throws Node's listen errors (`EBADF` for a bad fd, …); `StreamsError` `ERR_INVALID_ARGUMENT` for bad options
 * @example
 * ```ts
 * const server = await startTransportServer((t) => t.setListener(listener), { sock: { fd: 3 } });
 * ```
 */
export function startTransportServer(
  onTransport: (transport: SocketTransport) => void,
  options: ServeSocketOptions,
): Promise<Server>;
/**
 * Starts a TCP (or TLS) server calling `onTransport` for each connection, for adapter authors
 * (`@asyncnet/protocol` builds on it). The callback must set the transport's listener.
 *
 * @param onTransport - receives each accepted connection
 * @param host - address to bind, e.g. `127.0.0.1` or `::1`, or a list of them (one listener each)
 * @param port - port, 0 for any free port (each host gets its own)
 * @param options - as for {@link startServer}
 * @returns the listening {@link Server}
 * @throws Node's listen errors (`EADDRINUSE`, …); `StreamsError` `ERR_INVALID_ARGUMENT` / `ERR_UNSUPPORTED` for bad options
 * @example
 * ```ts
 * const server = await startTransportServer((t) => t.setListener(listener), '127.0.0.1', 0);
 * ```
 */
export function startTransportServer(
  onTransport: (transport: SocketTransport) => void,
  host: Hosts,
  port: number,
  options?: StartServerOptions,
): Promise<Server>;
export function startTransportServer(
  onTransport: (transport: SocketTransport) => void,
  hostOrOptions: Hosts | ServeSocketOptions,
  port?: number,
  options: StartServerOptions = {},
): Promise<Server> {
  if (isServeSocket(hostOrOptions)) return serve(onTransport, [{ sock: hostOrOptions.sock }], hostOrOptions);
  return serve(onTransport, () => tcpTargets(hostOrOptions, port), options);
}

/**
 * Like {@link startTransportServer}, on a Unix domain socket.
 * @param onTransport - receives each accepted connection
 * @param path - socket path
 * @param options - as for {@link startServer}
 * @returns the listening {@link Server}
 * @throws Node's listen errors (`EADDRINUSE`, `EACCES`, …)
 * @example
 * ```ts
 * const server = await startUnixTransportServer((t) => t.setListener(listener), '/tmp/app.sock');
 * ```
 */
export function startUnixTransportServer(
  onTransport: (transport: SocketTransport) => void,
  path: string,
  options: StartServerOptions = {},
): Promise<Server> {
  return serve(onTransport, [{ path }], options);
}

/**
 * Serves an existing listening socket (asyncio's `start_server(cb, sock=sock)`): a listening
 * `net.Server` or `net.Socket`, or `{ fd }` inherited from a parent process or a service manager.
 *
 * @param handler - called for each connection
 * @param options - `sock` to serve, and as for {@link startServer}
 * @returns the {@link Server}; closing it closes the socket
 * @throws Node's listen errors (`EBADF` for a bad fd, …); `StreamsError` `ERR_INVALID_ARGUMENT` for bad options
 * @example
 * ```ts
 * const server = await startServer(handler, { sock: { fd: 3 } }); // e.g. systemd socket activation
 * ```
 */
export function startServer(handler: ConnectionHandler, options: ServeSocketOptions): Promise<Server>;
/**
 * Starts a TCP (or TLS) server (asyncio's `start_server`). `handler(reader, writer)` runs for
 * each connection; if it throws or rejects, only that connection is closed and `onError` is told.
 * When the handler returns, the connection stays open until its writer closes it or the peer sends EOF.
 *
 * `host` may be a list, as in asyncio: one listener per host, all closed together; with port 0 each
 * host gets its own free port (see {@link Server.addresses}).
 *
 * @param handler - called for each connection
 * @param host - address to bind, e.g. `127.0.0.1`, or a list such as `['127.0.0.1', '::1']`
 * @param port - port, 0 for any free port
 * @param options - limit, TLS, backlog, signal, onError, water marks, socket options
 * @returns the listening {@link Server}
 * @throws Node's listen errors (`EADDRINUSE`, …); `StreamsError` `ERR_INVALID_ARGUMENT` for bad
 *   options, `ERR_UNSUPPORTED` for `reusePort` where this Node or OS lacks it
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
  host: Hosts,
  port: number,
  options?: StartServerOptions,
): Promise<Server>;
export function startServer(
  handler: ConnectionHandler,
  hostOrOptions: Hosts | ServeSocketOptions,
  port?: number,
  options: StartServerOptions = {},
): Promise<Server> {
  if (isServeSocket(hostOrOptions)) {
    return serve(
      handlerToTransportCallback(handler, hostOrOptions),
      [{ sock: hostOrOptions.sock }],
      hostOrOptions,
    );
  }
  return serve(handlerToTransportCallback(handler, options), () => tcpTargets(hostOrOptions, port), options);
}

/**
 * Starts a Unix domain socket server (asyncio's `start_unix_server`).
 * @param handler - called for each connection
 * @param path - socket path
 * @param options - as for {@link startServer}
 * @returns the listening {@link Server}
 * @throws Node's listen errors (`EADDRINUSE`, `EACCES`, …)
 * @example
 * ```ts
 * const server = await startUnixServer(handler, '/tmp/echo.sock');
 * ```
 */
export function startUnixServer(
  handler: ConnectionHandler,
  path: string,
  options: StartServerOptions = {},
): Promise<Server> {
  return serve(handlerToTransportCallback(handler, options), [{ path }], options);
}

function isServeSocket(value: unknown): value is ServeSocketOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'sock' in value;
}

function tcpTargets(host: Hosts, port: number | undefined): ListenTarget[] {
  const hosts = typeof host === 'string' ? [host] : [...host];
  if (hosts.length === 0)
    throw new StreamsError('ERR_INVALID_ARGUMENT', 'startServer needs at least one host, got []');
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new StreamsError('ERR_INVALID_ARGUMENT', `port must be an integer from 0 to 65535, got ${port}`);
  }
  return hosts.map((h) => ({ host: h, port }));
}

/**
 * One accepted connection's handler run: what the server knows of it (a finished handler's
 * connection closes on EOF) and what it does when the handler settles. One object per connection;
 * its methods live on the prototype.
 */
class HandlerRun implements HandlerState {
  done = false;
  eofSeen = false;
  readonly #transport: SocketTransport;
  readonly #server: Server;
  readonly #onError: (error: unknown, info: ConnectionErrorInfo) => void;

  constructor(
    transport: SocketTransport,
    server: Server,
    onError: (error: unknown, info: ConnectionErrorInfo) => void,
  ) {
    this.#transport = transport;
    this.#server = server;
    this.#onError = onError;
  }

  run(handler: ConnectionHandler, limit: number | undefined): void {
    const [reader, writer] = wireStreams(this.#transport, limit, this);
    try {
      const result = handler(reader, writer);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(
          () => this.finished(),
          (err: unknown) => this.fail(err),
        );
      } else {
        this.finished();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  finished(): void {
    this.done = true;
    if (this.eofSeen) this.#transport.close();
  }

  fail(err: unknown): void {
    const transport = this.#transport;
    transport.abort();
    try {
      this.#onError(err, { peername: transport.getExtraInfo('peername') as AddressInfo | undefined });
    } catch {
      // An onError that throws must not take the server down either.
    }
  }

  connectionClosed(): void {
    this.#server.untrack(this.#transport);
  }
}

/** The per-connection callback of `startServer`: its connections untrack themselves from the server. */
function handlerToTransportCallback(handler: ConnectionHandler, options: StartServerOptions): OnTransport {
  const onError = options.onError ?? defaultOnError;
  const { limit } = options;
  const onTransport = (transport: SocketTransport, server: Server): void => {
    new HandlerRun(transport, server, onError).run(handler, limit);
  };
  onTransport.untrackSelf = true;
  return onTransport;
}

/** Called with each accepted connection; `untrackSelf` when its listener calls `Server.untrack`. */
type OnTransport = ((transport: SocketTransport, server: Server) => void) & { untrackSelf?: boolean };

function validateServerOptions(options: StartServerOptions): void {
  validateStreamOptions(options);
  const { maxConnections, keepAliveInitialDelay, backlog } = options;
  if (maxConnections !== undefined && (!Number.isInteger(maxConnections) || maxConnections < 0)) {
    throw new StreamsError(
      'ERR_INVALID_ARGUMENT',
      `maxConnections must be a non-negative integer, got ${maxConnections}`,
    );
  }
  if (
    keepAliveInitialDelay !== undefined &&
    !(Number.isFinite(keepAliveInitialDelay) && keepAliveInitialDelay >= 0)
  ) {
    throw new StreamsError(
      'ERR_INVALID_ARGUMENT',
      `keepAliveInitialDelay must be a non-negative number of ms, got ${keepAliveInitialDelay}`,
    );
  }
  if (backlog !== undefined && (!Number.isInteger(backlog) || backlog < 0)) {
    throw new StreamsError('ERR_INVALID_ARGUMENT', `backlog must be a non-negative integer, got ${backlog}`);
  }
  if (options.reusePort) {
    const why = reusePortUnsupported();
    if (why !== null) throw new StreamsError('ERR_UNSUPPORTED', why);
  }
}

async function serve(
  onTransport: OnTransport,
  targetsOf: ListenTarget[] | (() => ListenTarget[]),
  options: StartServerOptions,
): Promise<Server> {
  const { signal, maxConnections } = options;
  // Inside the async function, so a bad host list or port rejects instead of throwing.
  const targets = typeof targetsOf === 'function' ? targetsOf() : targetsOf;
  validateServerOptions(options);
  if (signal?.aborted) throw abortReasonToError(signal, 'startServer');
  const onError = options.onError ?? defaultOnError;
  const isTls = options.tls !== undefined;
  // Applied by node:net at accept time, to the raw socket under TLS too.
  const socketOptions = {
    noDelay: options.noDelay ?? true,
    keepAlive: options.keepAlive ?? false,
    keepAliveInitialDelay: options.keepAliveInitialDelay ?? 0,
  };
  // TLS cannot half-close, and a half-open TLS server keeps failed handshakes open forever.
  const netServers = targets.map(() =>
    isTls
      ? tlsCreateServer({ ...socketOptions, ...options.tls })
      : netCreateServer({ allowHalfOpen: true, ...socketOptions }),
  );
  const server = new Server(netServers);
  const onSocket = (socket: Socket) => {
    if (isTls) {
      server.handshakeDone((socket as Socket & { _parent?: Socket })._parent ?? socket);
      if (socketOptions.noDelay) socket.setNoDelay(true);
    }
    const transport = new SocketTransport(socket, {
      highWaterMark: options.highWaterMark,
      lowWaterMark: options.lowWaterMark,
      serverSide: true,
    });
    const untrackSelf = onTransport.untrackSelf === true;
    server.track(transport, untrackSelf);
    try {
      onTransport(transport, server);
    } catch (err) {
      // The listener that would untrack it may never have been set.
      if (untrackSelf) server.untrackWhenClosed(transport);
      transport.abort();
      onError(err, { peername: undefined });
    }
  };
  // Checked on the raw socket, before a TLS handshake is spent on it.
  const onRaw = (raw: Socket) => {
    if (maxConnections !== undefined && server.load >= maxConnections) {
      refuse(server, raw, maxConnections, onError);
      return;
    }
    if (isTls) server.trackHandshake(raw);
  };
  for (const netServer of netServers) {
    // prependListener: the limit is checked before node:tls starts a handshake on the socket.
    netServer.prependListener('connection', onRaw);
    netServer.on(isTls ? 'secureConnection' : 'connection', (socket: Socket) => {
      if (socket.destroyed) return;
      onSocket(socket);
    });
    // A failed handshake concerns that client only.
    if (isTls) netServer.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
  }
  await server.listen(targets, options.backlog, { reusePort: options.reusePort, ipv6Only: options.ipv6Only });
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

function refuse(
  server: Server,
  raw: Socket,
  maxConnections: number,
  onError: (error: unknown, info: ConnectionErrorInfo) => void,
): void {
  const peername =
    raw.remoteAddress === undefined
      ? undefined
      : { address: raw.remoteAddress, family: raw.remoteFamily ?? '', port: raw.remotePort ?? 0 };
  raw.destroy();
  server.countRefused();
  const where = peername === undefined ? 'a client' : `${peername.address}:${peername.port}`;
  try {
    onError(
      new StreamsError(
        'ERR_MAX_CONNECTIONS',
        `connection from ${where} refused: maxConnections ${maxConnections} already open`,
      ),
      { peername },
    );
  } catch {
    // As for handler failures: an onError that throws must not take the server down.
  }
}
