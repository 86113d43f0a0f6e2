// Protocols and transports (asyncio's Protocol / Transport)

export type { CreateConnectionOptions } from './create-connection.js';
export { createConnection } from './create-connection.js';
export type { CreateServerOptions, ProtocolFactory } from './create-server.js';
export { createServer } from './create-server.js';
export type { AnyProtocol, BufferedProtocol, Protocol, Transport } from './protocol.js';
export { VERSION } from './version.js';

// Datagrams (asyncio's DatagramProtocol / DatagramTransport)

export type {
  CreateDatagramEndpointOptions,
  DatagramAddress,
  DatagramProtocol,
  DatagramTransport,
} from './datagram.js';
export { createDatagramEndpoint } from './datagram.js';

// Codecs: bounded, incremental framing

export type { BytesCodecOptions } from './bytes-codec.js';
export { BytesCodec } from './bytes-codec.js';
export type { Codec, Decoder } from './codec.js';
export type {
  DelimiterCodecConstructor,
  DelimiterCodecOptions,
  DelimiterDecoder,
} from './delimiter-codec.js';
export { DelimiterCodec } from './delimiter-codec.js';
export type { JsonLinesCodecOptions } from './json-lines-codec.js';
export { JsonLinesCodec } from './json-lines-codec.js';
export type { LengthPrefixedCodecOptions, LengthPrefixedDecoder } from './length-prefixed-codec.js';
export { LengthPrefixedCodec } from './length-prefixed-codec.js';
export type { LinesCodecConstructor, LinesCodecOptions, LinesDecoder } from './lines-codec.js';
export { LinesCodec } from './lines-codec.js';
export type { FrameMapper } from './map-codec.js';
export { mapCodec } from './map-codec.js';

// Framing over streams and protocols

export type { Framed } from './framed.js';
export { framed } from './framed.js';
export { FramedProtocol } from './framed-protocol.js';

// Errors

export type { ProtocolErrorCode } from './errors.js';
export { FrameError, FrameTooLargeError, ProtocolError } from './errors.js';

// For adapter authors: run a Protocol on a core StreamTransport, or streams on a Protocol

export type { AttachProtocolOptions } from './adapters.js';
export { attachProtocol, connectProtocol, detachStreams } from './adapters.js';
