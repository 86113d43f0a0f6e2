import type { AddressInfo } from 'node:net';
import type { ConnectionErrorInfo, Server, StartServerOptions } from '@asyncnet/streams';
import {
  type StreamTransport,
  startTransportServer,
  startUnixTransportServer,
} from '@asyncnet/streams/adapter';
import { ProtocolError } from './errors.js';
import { toError } from './internal/callbacks.js';
import { ProtocolTransport } from './internal/protocol-transport.js';
import type { AnyProtocol } from './protocol.js';

/**
 * Makes one protocol instance per connection (asyncio's `protocol_factory`).
 * @example
 * ```ts
 * const factory: ProtocolFactory = () => new EchoProtocol();
 * ```
 */
export type ProtocolFactory<TProtocol extends AnyProtocol = AnyProtocol> = () => TProtocol;

/**
 * Options of {@link createServer}: the core's `startServer` options, plus `path` for a Unix
 * domain socket.
 */
export interface CreateServerOptions extends StartServerOptions {
  /** Listen on this Unix domain socket path instead of `host`/`port`. @default TCP */
  path?: string | undefined;
}

/** @internal Default `onError`: one line on stderr, like the core's servers. */
export function logCallbackError(error: unknown, info: ConnectionErrorInfo): void {
  const peer = info.peername ? `${info.peername.address}:${info.peername.port}` : 'unknown peer';
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`asyncnet: protocol callback for ${peer} failed: ${message}\n`);
}

/** @internal Runs `protocol` on a core transport; reports callback errors to `onError`. */
export function runOnTransport(
  transport: StreamTransport,
  protocol: AnyProtocol,
  onError: (error: unknown, info: ConnectionErrorInfo) => void,
): ProtocolTransport {
  const pt = new ProtocolTransport(transport, protocol, (error, t) =>
    onError(error, { peername: t.getExtraInfo('peername') as AddressInfo | undefined }),
  );
  pt.start();
  return pt;
}

/**
 * Starts a TCP, TLS or Unix-socket server that runs one {@link Protocol} per connection
 * (asyncio's `loop.create_server` / `create_unix_server`). Connections are the core's
 * transports and the result is the core's `Server`, so `close()`, `closeClients()`,
 * `abortClients()`, `waitClosed()` and `await using` work as for `startServer`.
 *
 * A protocol callback that throws aborts only its own connection: `connectionLost(error)` and
 * `onError(error, { peername })` are called and the server keeps serving.
 *
 * @param protocolFactory - called once per connection
 * @param host - address to bind (ignored with `options.path`)
 * @param port - port, 0 for any free port (ignored with `options.path`)
 * @param options - `path`, `tls`, `backlog`, `signal`, `onError`, water marks, …
 * @returns the listening server
 * @throws Node's listen errors (`EADDRINUSE`, …)
 *
 * @example
 * ```ts
 * const server = await createServer(() => new EchoProtocol(), '127.0.0.1', 0);
 * const { port } = server.address() as AddressInfo;
 * // ...
 * await server[Symbol.asyncDispose]();
 * ```
 */
export function createServer(
  protocolFactory: ProtocolFactory,
  host: string | undefined,
  port: number | undefined,
  options?: CreateServerOptions,
): Promise<Server>;
/**
 * Starts a Unix-socket (or TLS over Unix) server: `createServer(factory, { path })`.
 * @param protocolFactory - called once per connection
 * @param options - `path` (required here), `tls`, `backlog`, `signal`, `onError`, …
 * @returns the listening server
 * @example
 * ```ts
 * const server = await createServer(() => new EchoProtocol(), { path: '/tmp/echo.sock' });
 * ```
 */
export function createServer(
  protocolFactory: ProtocolFactory,
  options: CreateServerOptions & { path: string },
): Promise<Server>;
export function createServer(
  protocolFactory: ProtocolFactory,
  hostOrOptions: string | undefined | (CreateServerOptions & { path: string }),
  maybePort?: number,
  maybeOptions: CreateServerOptions = {},
): Promise<Server> {
  const byOptions = typeof hostOrOptions === 'object' && hostOrOptions !== null;
  const options: CreateServerOptions = byOptions ? hostOrOptions : maybeOptions;
  const host = byOptions ? undefined : hostOrOptions;
  const port = byOptions ? undefined : maybePort;
  const onError = options.onError ?? logCallbackError;
  const onTransport = (transport: StreamTransport): void => {
    let protocol: AnyProtocol;
    try {
      protocol = protocolFactory();
    } catch (err) {
      transport.abort(toError(err));
      try {
        onError(err, { peername: transport.getExtraInfo('peername') as AddressInfo | undefined });
      } catch {
        // As for the other callbacks: an onError that throws must not take the server down.
      }
      return;
    }
    runOnTransport(transport, protocol, onError);
  };
  if (options.path !== undefined) return startUnixTransportServer(onTransport, options.path, options);
  if (host === undefined || port === undefined) {
    return Promise.reject(
      new ProtocolError(
        'ERR_INVALID_ARGUMENT',
        `createServer needs host and port or options.path, got ${host}:${port}`,
      ),
    );
  }
  return startTransportServer(onTransport, host, port, options);
}
