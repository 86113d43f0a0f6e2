import type { ConnectionErrorInfo, OpenConnectionOptions } from '@asyncnet/streams';
import { openTransport, openUnixTransport, type StreamTransport } from '@asyncnet/streams/adapter';
import { logCallbackError, type ProtocolFactory, runOnTransport } from './create-server.js';
import { ProtocolError } from './errors.js';
import { toError } from './internal/callbacks.js';
import type { AnyProtocol, Transport } from './protocol.js';

/**
 * Options of {@link createConnection}: the core's `openConnection` options (`tls`, `signal`,
 * `timeout`, water marks, …), plus `path` and `onError`.
 */
export interface CreateConnectionOptions extends Omit<OpenConnectionOptions, 'limit'> {
  /** Connect to this Unix domain socket path instead of `host`/`port`. @default TCP */
  path?: string | undefined;
  /** Called when a protocol callback throws (the connection is aborted). @default logs one line to stderr */
  onError?: ((error: unknown, info: ConnectionErrorInfo) => void) | undefined;
}

/**
 * Opens a TCP, TLS or Unix-socket connection and runs a {@link Protocol} on it (asyncio's
 * `loop.create_connection` / `create_unix_connection`). `connectionMade` has run when the
 * promise resolves.
 *
 * @param protocolFactory - called once, after the connection is established
 * @param host - host name or address (ignored with `options.path`)
 * @param port - TCP port (ignored with `options.path`)
 * @param options - `path`, `tls`, `signal`, `timeout`, `onError`, water marks, …
 * @returns `[transport, protocol]`
 * @throws Node's socket errors (`ECONNREFUSED`, …), `TimeoutError`, `AbortedError`; whatever the
 *   factory throws (the connection is then closed)
 *
 * @example
 * ```ts
 * const [transport, protocol] = await createConnection(() => new ClientProtocol(), '127.0.0.1', port);
 * transport.write('hello\n');
 * await transport.closed;
 * ```
 */
export function createConnection<TProtocol extends AnyProtocol>(
  protocolFactory: ProtocolFactory<TProtocol>,
  host: string | undefined,
  port: number | undefined,
  options?: CreateConnectionOptions,
): Promise<[Transport, TProtocol]>;
/**
 * Connects to a Unix socket: `createConnection(factory, { path })`.
 * @param protocolFactory - called once, after the connection is established
 * @param options - `path` (required here), `tls`, `signal`, `timeout`, `onError`, …
 * @returns `[transport, protocol]`
 * @example
 * ```ts
 * const [transport] = await createConnection(() => new ClientProtocol(), { path: '/tmp/echo.sock' });
 * ```
 */
export function createConnection<TProtocol extends AnyProtocol>(
  protocolFactory: ProtocolFactory<TProtocol>,
  options: CreateConnectionOptions & { path: string },
): Promise<[Transport, TProtocol]>;
export async function createConnection<TProtocol extends AnyProtocol>(
  protocolFactory: ProtocolFactory<TProtocol>,
  hostOrOptions: string | undefined | (CreateConnectionOptions & { path: string }),
  maybePort?: number,
  maybeOptions: CreateConnectionOptions = {},
): Promise<[Transport, TProtocol]> {
  const byOptions = typeof hostOrOptions === 'object' && hostOrOptions !== null;
  const options: CreateConnectionOptions = byOptions ? hostOrOptions : maybeOptions;
  const host = byOptions ? undefined : hostOrOptions;
  const port = byOptions ? undefined : maybePort;
  let transport: StreamTransport;
  if (options.path !== undefined) {
    transport = await openUnixTransport(options.path, options);
  } else if (host === undefined || port === undefined) {
    throw new ProtocolError(
      'ERR_INVALID_ARGUMENT',
      `createConnection needs host and port or options.path, got ${host}:${port}`,
    );
  } else {
    transport = await openTransport(host, port, options);
  }
  let protocol: TProtocol;
  try {
    protocol = protocolFactory();
  } catch (err) {
    transport.abort(toError(err));
    throw err;
  }
  return [runOnTransport(transport, protocol, options.onError ?? logCallbackError), protocol];
}
