// Connections and servers

export type { OpenConnectionOptions } from './connection.js';
export { openConnection, openUnixConnection } from './connection.js';
export type {
  CloseClientsOptions,
  ConnectionErrorInfo,
  ConnectionHandler,
  ListeningSocket,
  ServeSocketOptions,
  StartServerOptions,
} from './server.js';
export { Server, startServer, startUnixServer } from './server.js';

// Readers and writers

export type { ReadFlowControl, ReadOptions, Separator, StreamReaderOptions } from './stream-reader.js';
export { DEFAULT_LIMIT, StreamReader } from './stream-reader.js';
export { StreamWriter } from './stream-writer.js';

// UDP

export type { Datagram, DatagramEndpointOptions } from './datagram.js';
export { DatagramEndpoint, openDatagramEndpoint } from './datagram.js';

// Timeouts

export type { Timeout, TimeoutOptions } from './timeout.js';
export { timeout, withTimeout } from './timeout.js';

// Errors

export type { StreamsErrorCode } from './errors.js';
export {
  AbortedError,
  ConnectionClosedError,
  IncompleteReadError,
  LimitOverrunError,
  ReadPendingError,
  StreamsError,
  TimeoutError,
  WriteAfterCloseError,
} from './errors.js';

// In-memory testing

export type { StreamEnd, StreamPairOptions } from './memory-transport.js';
export { createStreamPair } from './memory-transport.js';

// Interop: a connection as a Node Duplex or WHATWG streams, and readers/writers over either

export type { ToDuplexOptions } from './duplex.js';
export { ConnectionDuplex, toDuplex } from './duplex.js';
export type { FromDuplexOptions } from './duplex-transport.js';
export { fromDuplex } from './duplex-transport.js';
export type { FromWebStreamsOptions, WebStreamPair } from './web-streams.js';
export { fromWebStreams, toWebStreams } from './web-streams.js';

// For adapter authors: the transport layer under readers, writers and protocols, the servers and
// connections over it, and the helpers the sibling packages share

export { asBuffer } from './buffer-view.js';
export type { StreamsFromTransportOptions } from './connection.js';
export { openTransport, openUnixTransport, streamsFromTransport } from './connection.js';
export type { DuplexTransportOptions } from './duplex-transport.js';
export { DuplexTransport } from './duplex-transport.js';
export { brandError, hasErrorBrand } from './error-brand.js';
export { createTransportPair, MemoryTransport } from './memory-transport.js';
export { redactUrl } from './redact.js';
export { startTransportServer, startUnixTransportServer } from './server.js';
export type {
  ExtraInfo,
  SocketAddress,
  SocketTransportOptions,
  StartTlsOptions,
  StreamTransport,
  TransportListener,
  WriteBufferLimits,
} from './transport.js';
export { DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK, SocketTransport } from './transport.js';
export type { WebStreamTransportOptions } from './web-stream-transport.js';
export { WebStreamTransport } from './web-stream-transport.js';
