/**
 * `@asyncnet/streams/adapter`: the API for code that builds on the core rather than on readers and
 * writers — the transport layer under them (sockets, in-memory pairs, Duplex and WHATWG streams as
 * transports), servers and connections that hand out transports, and the helpers the sibling
 * packages share. Applications need only `@asyncnet/streams`; the README's "For adapter authors"
 * section has an example.
 *
 * @packageDocumentation
 */

// Transports: one connection's bytes, flow control and close, under readers, writers and protocols

export type { DuplexTransportOptions } from './duplex-transport.js';
export { DuplexTransport } from './duplex-transport.js';
export { createTransportPair, MemoryTransport } from './memory-transport.js';
export type {
  SocketTransportOptions,
  StreamTransport,
  TransportListener,
} from './transport.js';
export { DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK, SocketTransport } from './transport.js';
export type { WebStreamTransportOptions } from './web-stream-transport.js';
export { WebStreamTransport } from './web-stream-transport.js';

// Connections and servers that hand out transports, and readers/writers over any transport

export type { StreamsFromTransportOptions } from './connection.js';
export { openTransport, openUnixTransport, streamsFromTransport } from './connection.js';
export { startTransportServer, startUnixTransportServer } from './server.js';

// Helpers the sibling packages share

export { asBuffer } from './buffer-view.js';
export { brandError, hasErrorBrand } from './error-brand.js';
export { redactUrl } from './redact.js';
