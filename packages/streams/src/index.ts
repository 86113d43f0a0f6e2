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

// What getExtraInfo() and startTls() take and give (the transport layer itself is in
// `@asyncnet/streams/adapter`)

export type { ExtraInfo, SocketAddress, StartTlsOptions, WriteBufferLimits } from './transport.js';
