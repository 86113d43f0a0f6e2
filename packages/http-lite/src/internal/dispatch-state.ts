import type { DispatchRequest } from '../dispatch.js';
import { HttpError } from '../errors.js';
import type { RequestOptions } from '../request.js';
import type { DecoderFactory } from './content-decoder.js';
import { type NormalizedBody, normalizeBody } from './request-body.js';
import { normalizeHeaders, TOKEN } from './request-head.js';
import { resolveTarget, type Target, withUrlAuth } from './target.js';

// What the built-in layers and the core dispatch know about a request beyond its public fields, carried
// under a symbol (so `{ ...request }` in a user layer keeps it). It is trusted only while the public
// fields are the ones it was made for; a request a layer changed is validated again.

const STATE: unique symbol = Symbol('http-lite.request');

export interface RequestState {
  readonly method: string;
  readonly target: Target;
  readonly headers: [string, string][];
  readonly body: NormalizedBody;
  /** Absolute `Date.now()` deadline of `timeouts.total` (set once, shared by every hop and attempt), or 0. */
  readonly totalDeadline: number;
  /** A redirect led here. */
  readonly redirected: boolean;
  /** Decodes the response body by its head (set by the decompression layer), or null. */
  readonly decoder: DecoderFactory | null;
}

/** The state and the public field values it was made for. */
interface Seal {
  state: RequestState;
  method: string;
  url: string;
  headers: DispatchRequest['headers'];
  body: DispatchRequest['body'];
}

interface Carrier extends DispatchRequest {
  [STATE]?: Seal;
}

export function totalDeadline(options: Readonly<RequestOptions>): number {
  const total = options.timeouts?.total ?? 0;
  return total > 0 ? Date.now() + total : 0;
}

/** A request whose state is known to be valid (built by `request()` or a built-in layer). */
export function makeRequest(options: Readonly<RequestOptions>, state: RequestState): DispatchRequest {
  const { method, headers } = state;
  const url = state.target.href;
  const body = state.body.body;
  const req: Carrier = { method, url, headers, body, options };
  req[STATE] = { state, method, url, headers, body };
  return req;
}

/** `req` with some of its state replaced (by a built-in layer: no validation). */
export function derive(req: DispatchRequest, changes: Partial<RequestState>): DispatchRequest {
  return makeRequest(req.options, { ...stateOf(req), ...changes });
}

/**
 * The state of `req`, validated again where a layer changed its method, URL, fields or body.
 * @throws {@link HttpError} as `request()` does for an invalid method, URL, field or body.
 */
export function stateOf(req: DispatchRequest): RequestState {
  const seal = (req as Carrier)[STATE];
  if (
    seal !== undefined &&
    seal.method === req.method &&
    seal.url === req.url &&
    seal.headers === req.headers &&
    seal.body === req.body
  )
    return seal.state;
  const st = seal?.state;
  const method = String(req.method).toUpperCase();
  if (!TOKEN.test(method))
    throw new HttpError('ERR_INVALID_ARGUMENT', `invalid method ${JSON.stringify(req.method)}`);
  const urlChanged = seal === undefined || seal.url !== req.url;
  const target = urlChanged || st === undefined ? resolveTarget(req.url, req.options.tls) : st.target;
  let headers =
    st !== undefined && seal!.headers === req.headers
      ? st.headers
      : normalizeHeaders(req.headers as [string, string][]);
  if (urlChanged) headers = withUrlAuth(headers, target);
  const fresh: RequestState = {
    method,
    target,
    headers,
    body: st !== undefined && seal!.body === req.body ? st.body : normalizeBody(req.body),
    totalDeadline: st?.totalDeadline ?? totalDeadline(req.options),
    redirected: st?.redirected ?? false,
    decoder: st?.decoder ?? null,
  };
  // Validated once: a layer further in that passes `req` on unchanged reuses it.
  if (Object.isExtensible(req)) {
    (req as Carrier)[STATE] = {
      state: fresh,
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body,
    };
  }
  return fresh;
}
