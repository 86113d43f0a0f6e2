// --- requests ---

export type { Dispatch, DispatchRequest, Layer } from './dispatch.js';
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
export type { RetryInfo, RetryOptions } from './retry.js';

// --- connection pooling, Unix sockets, proxies ---

export type { AgentOptions, ConnectFunction, ConnectTarget } from './agent.js';
export { Agent, getGlobalAgent, setGlobalAgent } from './agent.js';

// --- errors ---

export type { HttpErrorCode, HttpErrorDetails } from './errors.js';
export { HttpError } from './errors.js';

// --- tracing: the messages of the http-lite:* diagnostics channels ---

export type { TraceConnectParams, TraceRequest } from './tracing.js';

// --- for adapter authors: the sans-IO parser (bytes in, events out), for reuse and fuzzing ---

export type {
  BodyFraming,
  ResponseBodyEvent,
  ResponseEndEvent,
  ResponseEvent,
  ResponseHeadEvent,
  ResponseParserOptions,
  ResponseTrailersEvent,
} from './response-parser.js';
export { ResponseParser } from './response-parser.js';
