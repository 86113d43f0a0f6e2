import type { LookupFunction } from 'node:net';
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { abortReasonToError, StreamsError, TimeoutError } from './errors.js';
import { setLongTimeout } from './internal/long-timeout.js';
import { StreamReader } from './stream-reader.js';
import { StreamWriter } from './stream-writer.js';
import {
  resolveWriteLimits,
  SocketTransport,
  type StreamTransport,
  sniName,
  type TransportListener,
} from './transport.js';

/** Options for {@link openConnection} and {@link openUnixConnection}. */
export interface OpenConnectionOptions {
  /** Reader buffer limit (see {@link StreamReader.limit}). @default 65536 */
  limit?: number | undefined;
  /** Use TLS: `true` for defaults, or `tls.ConnectionOptions`. SNI defaults to `host`. @default false */
  tls?: boolean | ConnectionOptions | undefined;
  /** Cancels the connect. */
  signal?: AbortSignal | undefined;
  /** Connect timeout in milliseconds (TLS handshake included). @default no timeout */
  timeout?: number | undefined;
  /** Local address to bind before connecting. @default chosen by the OS */
  localAddress?: string | undefined;
  /** Local port to bind before connecting. @default chosen by the OS */
  localPort?: number | undefined;
  /** IP family for name resolution: 4 or 6. @default either */
  family?: 0 | 4 | 6 | undefined;
  /**
   * Custom resolver with the signature of `dns.lookup` (called with `all: true` when
   * `autoSelectFamily` is on, so it may answer with several addresses).
   * @default dns.lookup
   */
  lookup?: LookupFunction | undefined;
  /**
   * Happy Eyeballs (RFC 8305): when the name resolves to several addresses, try them in turn,
   * alternating IPv6 and IPv4, each for `autoSelectFamilyAttemptTimeout` ms before starting the next.
   * If all fail, the error lists every address tried.
   * @default net.getDefaultAutoSelectFamily() (true on Node 20)
   */
  autoSelectFamily?: boolean | undefined;
  /** How long one Happy Eyeballs attempt runs before the next address is tried, in ms (at least 10). @default 250 */
  autoSelectFamilyAttemptTimeout?: number | undefined;
  /** Disable Nagle's algorithm. @default true */
  noDelay?: boolean | undefined;
  /** Enable TCP keep-alive probes (`true`, or the initial delay in ms). @default false */
  keepAlive?: boolean | number | undefined;
  /** Write-buffer high-water mark in bytes. @default 65536 */
  highWaterMark?: number | undefined;
  /** Write-buffer low-water mark in bytes. @default a quarter of the high-water mark (16384) */
  lowWaterMark?: number | undefined;
}

/** Options for {@link streamsFromTransport}. */
export interface StreamsFromTransportOptions {
  /** Reader buffer limit. @default 65536 */
  limit?: number | undefined;
}

/**
 * Wraps a transport into a reader/writer pair and routes the transport's events to them.
 * For adapter authors: `startServer` and `openConnection` use it on every connection.
 *
 * @param transport - a transport whose listener is not yet set
 * @param options - reader limit
 * @returns `[reader, writer]`
 */
export function streamsFromTransport(
  transport: StreamTransport,
  options: StreamsFromTransportOptions = {},
): [StreamReader, StreamWriter] {
  return wireStreams(transport, options.limit, null);
}

/** What the server knows about a connection's handler, so a finished handler's connection closes on EOF. */
export interface HandlerState {
  done: boolean;
  eofSeen: boolean;
  /** Called once the connection is gone, after the reader and writer were told. */
  connectionClosed?(): void;
}

/**
 * @internal Routes a transport's events to its reader and writer. Prototype methods rather than
 * closures: one small object per connection instead of five functions and their scope.
 */
export class StreamsListener implements TransportListener {
  readonly reader: StreamReader;
  readonly writer: StreamWriter;
  /** `null` for client connections: EOF keeps the write side open (the caller may still answer). */
  readonly handler: HandlerState | null;

  constructor(reader: StreamReader, writer: StreamWriter, handler: HandlerState | null) {
    this.reader = reader;
    this.writer = writer;
    this.handler = handler;
  }

  data(chunk: Uint8Array): void {
    this.reader.feedData(chunk);
  }

  eof(): boolean {
    this.reader.feedEof();
    const handler = this.handler;
    if (handler === null) return true;
    handler.eofSeen = true;
    // Keep the write side open while the handler may still answer (asyncio does the same for TCP);
    // once it has returned, nobody will: close instead of leaving a half-open socket behind.
    return !handler.done;
  }

  writePaused(): void {
    this.writer.onWritePaused();
  }

  writeResumed(): void {
    this.writer.onWriteResumed();
  }

  closed(error: Error | null): void {
    if (error !== null) this.reader.setException(error);
    else this.reader.feedEof();
    this.writer.onClosed(error);
    this.handler?.connectionClosed?.();
  }
}

/** @internal Reader/writer wiring shared by `streamsFromTransport` and the server. */
export function wireStreams(
  transport: StreamTransport,
  limit: number | undefined,
  handler: HandlerState | null,
): [StreamReader, StreamWriter] {
  const reader = new StreamReader({ limit, flowControl: transport });
  const writer = new StreamWriter(transport);
  transport.setListener(new StreamsListener(reader, writer, handler));
  return [reader, writer];
}

/**
 * Opens a TCP (or TLS) connection (asyncio's `open_connection`).
 *
 * @param host - host name or IP address
 * @param port - TCP port
 * @param options - limit, TLS, cancellation, timeout, socket options
 * @returns `[reader, writer]`
 * @throws Node's socket errors (`ECONNREFUSED`, …; when Happy Eyeballs tried several addresses, Node's
 *   `AggregateError` with the same `code`, its message listing every address tried), {@link TimeoutError},
 *   `AbortedError`
 * @example
 * ```ts
 * const [reader, writer] = await openConnection('127.0.0.1', 8888, { timeout: 5000 });
 * writer.write('ping\n');
 * console.log((await reader.readLine()).toString());
 * ```
 */
export async function openConnection(
  host: string,
  port: number,
  options: OpenConnectionOptions = {},
): Promise<[StreamReader, StreamWriter]> {
  return streamsFromTransport(await openTransport(host, port, options), options);
}

/**
 * Opens a Unix domain socket connection (asyncio's `open_unix_connection`).
 * @param path - socket path
 * @param options - as for {@link openConnection}
 * @returns `[reader, writer]`
 */
export async function openUnixConnection(
  path: string,
  options: OpenConnectionOptions = {},
): Promise<[StreamReader, StreamWriter]> {
  return streamsFromTransport(await openUnixTransport(path, options), options);
}

/**
 * Opens a TCP (or TLS) connection as a bare transport, for adapter authors who want callbacks
 * instead of a reader/writer pair.
 * @param host - host name or IP address
 * @param port - TCP port
 * @param options - as for {@link openConnection}
 * @returns a connected transport; set its listener before yielding to the event loop
 */
export function openTransport(
  host: string,
  port: number,
  options: OpenConnectionOptions = {},
): Promise<SocketTransport> {
  return connectSocket(`${host}:${port}`, options, host, () => {
    const base = {
      host,
      port,
      localAddress: options.localAddress,
      localPort: options.localPort,
      family: options.family,
      lookup: options.lookup,
      autoSelectFamily: options.autoSelectFamily,
      autoSelectFamilyAttemptTimeout: options.autoSelectFamilyAttemptTimeout,
      noDelay: options.noDelay ?? true,
      keepAlive: options.keepAlive !== undefined && options.keepAlive !== false,
      keepAliveInitialDelay: typeof options.keepAlive === 'number' ? options.keepAlive : 0,
      allowHalfOpen: true,
    };
    if (options.tls === undefined || options.tls === false)
      return { socket: netConnect(base), event: 'connect' };
    const tlsOptions = options.tls === true ? {} : options.tls;
    const socket = tlsConnect({ servername: sniName(host), ...base, ...tlsOptions });
    return { socket, event: 'secureConnect' };
  });
}

/**
 * Opens a Unix domain socket connection as a bare transport.
 * @param path - socket path
 * @param options - as for {@link openConnection}
 */
export function openUnixTransport(
  path: string,
  options: OpenConnectionOptions = {},
): Promise<SocketTransport> {
  return connectSocket(path, options, undefined, () => {
    const base = { path, allowHalfOpen: true };
    if (options.tls === undefined || options.tls === false)
      return { socket: netConnect(base), event: 'connect' };
    const tlsOptions = options.tls === true ? {} : options.tls;
    return { socket: tlsConnect({ ...base, ...tlsOptions }), event: 'secureConnect' };
  });
}

/** @internal Checks reader and writer options up front, so a bad value never reaches a socket. */
export function validateStreamOptions(options: {
  limit?: number | undefined;
  highWaterMark?: number | undefined;
  lowWaterMark?: number | undefined;
}): void {
  const { limit, highWaterMark, lowWaterMark } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new StreamsError('ERR_INVALID_ARGUMENT', `limit must be a positive integer, got ${limit}`);
  }
  resolveWriteLimits(highWaterMark, lowWaterMark);
}

function connectSocket(
  target: string,
  options: OpenConnectionOptions,
  host: string | undefined,
  make: () => { socket: Socket; event: string },
): Promise<SocketTransport> {
  const { signal, timeout } = options;
  try {
    validateStreamOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  if (signal?.aborted) return Promise.reject(abortReasonToError(signal, `connect to ${target}`));
  return new Promise<SocketTransport>((resolve, reject) => {
    const { socket, event } = make();
    let cancelTimer: (() => void) | undefined;
    const cleanup = () => {
      cancelTimer?.();
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(event, onConnect);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(describeAttempts(err, target));
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(abortReasonToError(signal!, `connect to ${target}`));
    };
    const onConnect = () => {
      cleanup();
      try {
        resolve(
          new SocketTransport(socket, {
            highWaterMark: options.highWaterMark,
            lowWaterMark: options.lowWaterMark,
            host,
          }),
        );
      } catch (err) {
        socket.destroy();
        reject(err);
      }
    };
    socket.once('error', onError);
    socket.once(event, onConnect);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      cancelTimer = setLongTimeout(() => {
        cleanup();
        socket.destroy();
        reject(new TimeoutError(`connect to ${target} timed out after ${timeout} ms`));
      }, timeout);
    }
  });
}

/**
 * Happy Eyeballs fails with an `AggregateError` whose message is empty: name the target and every
 * address tried in it. The error object is kept (its `code` and `errors` stay as Node made them).
 */
function describeAttempts(err: Error, target: string): Error {
  if (!(err instanceof AggregateError)) return err;
  const tried = err.errors.map((e: NodeJS.ErrnoException & { address?: string; port?: number }) => {
    const where = e.address === undefined ? '?' : e.address.includes(':') ? `[${e.address}]` : e.address;
    return `${where}:${e.port ?? '?'} (${e.code ?? e.message})`;
  });
  const code = (err as NodeJS.ErrnoException).code;
  const head = err.stack?.split('\n')[0] ?? '';
  err.message = `connect ${code ?? 'failed'} to ${target}: tried ${tried.join(', ')}`;
  if (err.stack !== undefined) err.stack = `${err.name}: ${err.message}${err.stack.slice(head.length)}`;
  return err;
}
