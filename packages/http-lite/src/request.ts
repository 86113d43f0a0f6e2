import type { ConnectionOptions } from 'node:tls';
import { type Agent, getGlobalAgent } from './agent.js';
import { HttpError } from './errors.js';
import type { CookieJarLike } from './internal/cookies.js';
import { makeRequest, totalDeadline } from './internal/dispatch-state.js';
import { abortError, type Progress } from './internal/exchange.js';
import { normalizeBody, type RequestBody } from './internal/request-body.js';
import { normalizeHeaders, TOKEN } from './internal/request-head.js';
import { resolveTarget, withUrlAuth } from './internal/target.js';
import type { HttpResponse } from './response.js';
import type { RetryOptions } from './retry.js';

export type { CookieJarLike } from './internal/cookies.js';
export type { Progress } from './internal/exchange.js';
export type { RequestBody } from './internal/request-body.js';

/** Request fields: a plain object, `[name, value]` pairs, or a WHATWG `Headers`. */
export type RequestHeaders =
  | Record<string, string | number | readonly string[] | undefined>
  | ReadonlyArray<readonly [string, string]>
  | Headers;

/** Timeouts in milliseconds; `0` disables one. */
export interface Timeouts {
  /** TCP connect plus TLS handshake. @default 10000 */
  connect?: number | undefined;
  /** From the request being sent to the end of the response head (while a stream body uploads: the longest pause in its progress). @default 30000 */
  headers?: number | undefined;
  /** Longest pause between two body chunks (not counted while the consumer applies backpressure). @default 30000 */
  body?: number | undefined;
  /** The whole request, redirects included, until the body's last byte. @default 0 (none) */
  total?: number | undefined;
}

/** TLS options for `https:` URLs. */
export interface RequestTlsOptions {
  /** Trusted CA certificates (PEM). @default Node's bundled roots */
  ca?: ConnectionOptions['ca'] | undefined;
  /** Verify the server certificate. @default true */
  rejectUnauthorized?: boolean | undefined;
  /** SNI and certificate name. @default the URL host (none for IP literals) */
  servername?: string | undefined;
  /** Client certificate (PEM). */
  cert?: ConnectionOptions['cert'] | undefined;
  /** Client key (PEM). */
  key?: ConnectionOptions['key'] | undefined;
}

/** Options of {@link request}. */
export interface RequestOptions {
  /** Method, e.g. `'POST'`. @default 'GET' */
  method?: string | undefined;
  /** Request fields. */
  headers?: RequestHeaders | undefined;
  /** Request body; sent with Content-Length when its size is known, else chunked. @default null */
  body?: RequestBody | undefined;
  /** Cancels the request (any phase, body reading included) with `ERR_ABORTED`. */
  signal?: AbortSignal | undefined;
  /** Timeouts (ms). */
  timeouts?: Timeouts | undefined;
  /** Largest response head (and trailer section) in bytes. @default 16384 */
  maxHeaderSize?: number | undefined;
  /** Largest response body in bytes; with `decompress`, of the decoded body (passing it fails at once, never truncates). @default Infinity */
  maxResponseSize?: number | undefined;
  /** Redirects to follow (301, 302, 303, 307, 308). @default 0 */
  maxRedirects?: number | undefined;
  /**
   * Decode `Content-Encoding: gzip | x-gzip | deflate | br` (stacked up to 5, last applied first) and send
   * `Accept-Encoding` when not set; any other coding fails with `ERR_UNSUPPORTED_CONTENT_ENCODING`. @default false
   */
  decompress?: boolean | undefined;
  /** Connection pool to use. @default the global agent */
  agent?: Agent | undefined;
  /** TLS options for https. */
  tls?: RequestTlsOptions | undefined;
  /** Accept obsolete header line folding in responses. @default false */
  allowObsFold?: boolean | undefined;
  /**
   * Send this request over a Unix domain socket (pooled per socket path in the agent); the URL still gives
   * `Host` and the TLS name. Wins over the agent's own `socketPath`, `connect` and `proxy`. @default none
   */
  socketPath?: string | undefined;
  /**
   * Retry failed attempts with backoff (opt-in): idempotent methods with a replayable body only, `Retry-After`
   * honoured, within `timeouts.total` and the signal. @default none (only the one silent retry of a request lost
   * on a reused connection before any response byte)
   */
  retry?: RetryOptions | undefined;
  /** Called as the request body is handed to the connection: `{ loaded, total? }` (total when the length is known). @default none */
  onUploadProgress?: ((progress: Progress) => void) | undefined;
  /** Called as response body bytes reach you: `{ loaded, total? }` (total from Content-Length, not while decoding). @default none */
  onDownloadProgress?: ((progress: Progress) => void) | undefined;
  /**
   * A tough-cookie `CookieJar` (or anything with its `getCookieString`/`setCookie` promise methods): its cookies for
   * each hop's URL are sent, and every `Set-Cookie` (redirects included) is stored. @default none (no cookies kept)
   */
  cookieJar?: CookieJarLike | undefined;
}

/**
 * Sends an HTTP/1.1 request and resolves with the response head; the body streams afterwards.
 *
 * @param url - an `http:` or `https:` URL.
 * @param options - method, headers, body, timeouts, limits, redirects, agent, TLS.
 * @returns the response; read or dispose its body to free the connection.
 * @throws {@link HttpError} with codes `ERR_INVALID_URL`, `ERR_UNSUPPORTED_PROTOCOL`, `ERR_INVALID_HEADER`,
 *   `ERR_CONNECT_TIMEOUT`, `ERR_HEADERS_TIMEOUT`, `ERR_TOTAL_TIMEOUT`, `ERR_ABORTED`, `ERR_HTTP_PARSE`,
 *   `ERR_HEADERS_OVERFLOW`, `ERR_PREMATURE_CLOSE`, `ERR_RESPONSE_TOO_LARGE`, `ERR_TOO_MANY_REDIRECTS`,
 *   `ERR_CONTENT_LENGTH_MISMATCH`, `ERR_UNSUPPORTED_CONTENT_ENCODING`; no message or cause shows URL credentials;
 *   Node socket errors (`ECONNREFUSED`, …) pass through.
 * @example
 * ```ts
 * const res = await request('http://127.0.0.1:8080/items', {
 *   method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}',
 * });
 * console.log(res.status, await res.body.json());
 * ```
 */
export function request(url: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
  // A plain function handing back the dispatch's own promise: an async wrapper would cost a promise, an async
  // frame and a microtask per request. Anything thrown while validating still arrives as a rejection.
  try {
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal);
    const method = options.method === undefined ? 'GET' : options.method.toUpperCase();
    if (!TOKEN.test(method))
      throw new HttpError('ERR_INVALID_ARGUMENT', `invalid method ${JSON.stringify(options.method)}`);
    const target = resolveTarget(url, options.tls);
    const agent = options.agent ?? getGlobalAgent();
    const headers = withUrlAuth(normalizeHeaders(options.headers), target);
    const body = normalizeBody(options.body);
    return agent.send(
      makeRequest(options, {
        method,
        target,
        headers,
        body,
        totalDeadline: totalDeadline(options),
        redirected: false,
        decoder: null,
      }),
    );
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Sends a GET request.
 * @param url - the URL.
 * @param options - as for {@link request} (method is forced to GET).
 * @returns the response.
 * @throws as {@link request}.
 * @example
 * ```ts
 * const text = await (await get('http://127.0.0.1:8080/')).body.text();
 * ```
 */
export function get(
  url: string | URL,
  options: Omit<RequestOptions, 'method' | 'body'> = {},
): Promise<HttpResponse> {
  return request(url, { ...options, method: 'GET' });
}

/**
 * Sends a POST request with a body.
 * @param url - the URL.
 * @param body - the request body.
 * @param options - as for {@link request}.
 * @returns the response.
 * @throws as {@link request}.
 * @example
 * ```ts
 * const res = await post('http://127.0.0.1:8080/echo', 'hello', { headers: { 'content-type': 'text/plain' } });
 * ```
 */
export function post(
  url: string | URL,
  body: RequestBody,
  options: Omit<RequestOptions, 'method' | 'body'> = {},
): Promise<HttpResponse> {
  return request(url, { ...options, method: 'POST', body });
}
