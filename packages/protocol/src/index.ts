// Codecs: bounded, incremental framing.
export type { Codec, Decoder } from './codec.js';
export type {
  DelimiterCodecConstructor,
  DelimiterCodecOptions,
  DelimiterDecoder,
} from './delimiter-codec.js';
export { DelimiterCodec } from './delimiter-codec.js';
// Errors.
export type { ProtocolErrorCode } from './errors.js';
export { FrameError, FrameTooLargeError, ProtocolError } from './errors.js';
export type { JsonLinesCodecOptions } from './json-lines-codec.js';
export { JsonLinesCodec } from './json-lines-codec.js';
export type { LengthPrefixedCodecOptions, LengthPrefixedDecoder } from './length-prefixed-codec.js';
export { LengthPrefixedCodec } from './length-prefixed-codec.js';
export type { LinesCodecConstructor, LinesCodecOptions, LinesDecoder } from './lines-codec.js';
export { LinesCodec } from './lines-codec.js';

/** Package version, kept in step with package.json by the release flow. */
export const VERSION = '0.1.0';
