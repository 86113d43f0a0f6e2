// --- requests ---

export type { AgentOptions, ConnectFunction, ConnectTarget } from './agent.js';
// --- connection pooling ---
export { Agent, getGlobalAgent, setGlobalAgent } from './agent.js';
export type { HttpErrorCode, HttpErrorDetails } from './errors.js';
// --- errors ---
export { HttpError } from './errors.js';
export type { FetchInit } from './fetch.js';
export { fetch } from './fetch.js';
export { HttpHeaders } from './headers.js';
export type {
  CookieJarLike,
  Progress,
  RequestBody,
  RequestHeaders,
  RequestOptions,
  RequestTlsOptions,
  Timeouts,
} from './request.js';
export { get, post, request } from './request.js';
export { HttpResponse, ResponseBody } from './response.js';
export type {
  BodyFraming,
  ResponseBodyEvent,
  ResponseEndEvent,
  ResponseEvent,
  ResponseHeadEvent,
  ResponseParserOptions,
  ResponseTrailersEvent,
} from './response-parser.js';
// --- for adapter authors: the sans-IO parser (bytes in, events out), for reuse and fuzzing ---
export { ResponseParser } from './response-parser.js';
export type { RetryInfo, RetryOptions } from './retry.js';
export type { TraceConnectParams, TraceRequest } from './tracing.js';
