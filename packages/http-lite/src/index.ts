export type { HttpErrorCode, HttpErrorDetails } from './errors.js';
export { HttpError } from './errors.js';
export { HttpHeaders } from './headers.js';
export type {
  BodyFraming,
  ResponseBodyEvent,
  ResponseEndEvent,
  ResponseEvent,
  ResponseHeadEvent,
  ResponseParserOptions,
  ResponseTrailersEvent,
} from './response-parser.js';
// --- for adapter authors: the sans-IO parser ---
export { ResponseParser } from './response-parser.js';
