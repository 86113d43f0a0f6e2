// Connections and servers
export type { OpenConnectionOptions, StreamsFromTransportOptions } from './connection.js';
export {
  openConnection,
  openTransport,
  openUnixConnection,
  openUnixTransport,
  streamsFromTransport,
} from './connection.js';
// UDP
export type { Datagram, DatagramEndpointOptions } from './datagram.js';
export { DatagramEndpoint, openDatagramEndpoint } from './datagram.js';
export { brandError, hasErrorBrand } from './error-brand.js';
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
export { createStreamPair, createTransportPair, MemoryTransport } from './memory-transport.js';
export type {
  CloseClientsOptions,
  ConnectionErrorInfo,
  ConnectionHandler,
  StartServerOptions,
} from './server.js';
export {
  Server,
  startServer,
  startTransportServer,
  startUnixServer,
  startUnixTransportServer,
} from './server.js';
// Readers and writers
export type { ReadFlowControl, ReadOptions, Separator, StreamReaderOptions } from './stream-reader.js';
export { DEFAULT_LIMIT, StreamReader } from './stream-reader.js';
export { StreamWriter } from './stream-writer.js';
// Timeouts
export type { Timeout, TimeoutOptions } from './timeout.js';
export { timeout, withTimeout } from './timeout.js';
// For adapter authors: the transport layer under readers, writers and protocols
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
