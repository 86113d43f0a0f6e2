import type { RequestBody, RequestOptions } from './request.js';
import type { HttpResponse } from './response.js';

/**
 * One request as a {@link Layer} sees it: validated, with the URL's credentials already moved to
 * `Authorization`. Layers never change it in place: pass a changed copy to `next`
 * (`next({ ...request, headers: [...request.headers, ['x-id', '1']] })`); a changed method, URL,
 * header list or body is validated again before it is sent.
 */
export interface DispatchRequest {
  /** The method, upper-case (e.g. `'GET'`). */
  readonly method: string;
  /** The absolute `http:` or `https:` URL, without userinfo. */
  readonly url: string;
  /** The request fields in order, names as given (`Host`, `Content-Length` and framing fields are added when sent). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /**
   * The body: `null`, a string, bytes, or (for a stream body) an async iterable that can be read once;
   * a layer that reads it must pass a new body on.
   */
  readonly body: RequestBody;
  /** The options the request was made with (timeouts, signal, retry, …), as given to {@link request}. */
  readonly options: Readonly<RequestOptions>;
}

/**
 * Sends a request and resolves with the response head (the body streams afterwards), as {@link request}
 * does; what a {@link Layer} wraps.
 */
export type Dispatch = (request: DispatchRequest) => Promise<HttpResponse>;

/**
 * A layer composed around an agent's dispatch (as undici's interceptors): it gets the next dispatch and
 * returns its own. It may change the request before it goes on, call `next` more than once, or look at
 * (and wrap the work on) the response. Layers given in {@link AgentOptions.layers} wrap the built-in ones
 * (redirects, cookies, retries, decompression): each sees one call per request and the final response.
 *
 * @example
 * ```ts
 * const withId: Layer = (next) => (req) => next({ ...req, headers: [...req.headers, ['x-request-id', '42']] });
 * const agent = new Agent({ layers: [withId] });
 * ```
 */
export type Layer = (next: Dispatch) => Dispatch;
