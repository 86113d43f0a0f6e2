import type { AddressInfo } from 'node:net';
import type { ConnectionErrorInfo, StreamReader, StreamWriter } from '@asyncnet/streams';
import {
  type StreamsFromTransportOptions,
  type StreamTransport,
  streamsFromTransport,
} from '@asyncnet/streams/adapter';
import { logCallbackError, runOnTransport } from './create-server.js';
import { ProtocolError } from './errors.js';
import { ProtocolTransport } from './internal/protocol-transport.js';
import { StreamsProtocolTransport } from './internal/streams-protocol-transport.js';
import type { AnyProtocol, Transport } from './protocol.js';

/** Options of {@link connectProtocol} and {@link attachProtocol}. */
export interface AttachProtocolOptions {
  /** Called when a protocol callback throws (the connection is then aborted). @default logs one line to stderr */
  onError?: ((error: unknown, info: ConnectionErrorInfo) => void) | undefined;
}

/**
 * Runs a {@link Protocol} over an existing reader/writer pair, for example one from
 * `createStreamPair()`, `openConnection()`, a `startServer` handler or after `startTls()`.
 * `connectionMade` runs now; data the reader already holds is delivered first. The protocol's
 * `close()`/`abort()` act on the writer's connection. Inside a `startServer` handler, `await` the
 * returned transport's `closed`: the core closes a finished handler's connection at the peer's
 * EOF, which would cut off an `eofReceived` reply.
 *
 * @param reader - the pair's reader (this adapter reads it; do not read it elsewhere)
 * @param writer - the pair's writer
 * @param protocol - the protocol to run
 * @param options - `onError`
 * @returns the protocol's transport
 * @throws whatever `connectionMade` throws is reported and the connection aborted, not thrown
 *
 * @example
 * ```ts
 * await startServer(async (reader, writer) => {
 *   const line = await reader.readLine();         // a greeting in streams style...
 *   await connectProtocol(reader, writer, new EchoProtocol()).closed; // ...then callbacks
 * }, '127.0.0.1', 0);
 * ```
 */
export function connectProtocol(
  reader: StreamReader,
  writer: StreamWriter,
  protocol: AnyProtocol,
  options: AttachProtocolOptions = {},
): Transport {
  const onError = options.onError ?? logCallbackError;
  const t = new StreamsProtocolTransport(reader, writer, protocol, (error, transport) =>
    onError(error, { peername: transport.getExtraInfo('peername') as AddressInfo | undefined }),
  );
  t.start();
  return t;
}

/**
 * Runs a {@link Protocol} on a core transport (`openTransport`, `startTransportServer`,
 * `createTransportPair`): the transport's listener becomes the protocol. This is what
 * `createServer` and `createConnection` do for each connection.
 *
 * @param transport - a transport whose listener is not set yet
 * @param protocol - the protocol to run
 * @param options - `onError`
 * @returns the protocol's transport (`connectionMade` has run)
 *
 * @example
 * ```ts
 * const [a, b] = createTransportPair();
 * attachProtocol(a, new EchoProtocol());
 * const [reader, writer] = streamsFromTransport(b);
 * ```
 */
export function attachProtocol(
  transport: StreamTransport,
  protocol: AnyProtocol,
  options: AttachProtocolOptions = {},
): Transport {
  return runOnTransport(transport, protocol, options.onError ?? logCallbackError);
}

/**
 * Turns a protocol-style connection into a reader/writer pair (asyncio code often switches
 * from callbacks to streams after a handshake). The protocol gets no further callbacks, not even
 * `connectionLost`; bytes it had not been given yet (held during `pauseReading()`) go to the
 * reader. Call it from a protocol callback or any point where no callback is running. For a
 * {@link connectProtocol} transport the adapter's pending read is cancelled (consuming nothing);
 * the reader accepts a new read once that cancellation has settled, so `await` once before
 * reading (the core raises `ERR_READ_PENDING` within the same microtask turn).
 *
 * @param transport - a transport from {@link createServer}, {@link createConnection},
 *   {@link attachProtocol} or {@link connectProtocol}
 * @param options - reader `limit`
 * @returns `[reader, writer]` on the same connection
 * @throws {@link ProtocolError} `ERR_INVALID_ARGUMENT` for a transport this package did not make
 *
 * @example
 * ```ts
 * dataReceived(data) {
 *   if (isUpgrade(data)) {
 *     const [reader, writer] = detachStreams(this.transport);
 *     void serveStreams(reader, writer);
 *   }
 * }
 * ```
 */
export function detachStreams(
  transport: Transport,
  options: StreamsFromTransportOptions = {},
): [StreamReader, StreamWriter] {
  if (transport instanceof StreamsProtocolTransport) return transport.detach();
  if (!(transport instanceof ProtocolTransport)) {
    throw new ProtocolError(
      'ERR_INVALID_ARGUMENT',
      'detachStreams() needs a transport made by @asyncnet/protocol',
    );
  }
  const { held, eof } = transport.detach();
  const core = transport.streamTransport;
  const pair = streamsFromTransport(core, options);
  // Held bytes go first: the core delivers nothing new until this (synchronous) call returns.
  for (const chunk of held) pair[0].feedData(chunk);
  if (eof) pair[0].feedEof();
  return pair;
}
