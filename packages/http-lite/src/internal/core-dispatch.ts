import type { Agent, Route } from '../agent.js';
import type { Dispatch, DispatchRequest } from '../dispatch.js';
import type { Timeouts } from '../request.js';
import type { HttpResponse } from '../response.js';
import { IDEMPOTENT } from '../retry.js';
import type { PoolKey } from './dial.js';
import { stateOf } from './dispatch-state.js';
import { abortError, Exchange, type ExchangeSpec } from './exchange.js';
import { buildHead, declaredLength, NON_ASCII } from './request-head.js';

// The innermost dispatch: one request, one attempt, one Exchange on the agent's pools. Redirects,
// cookies, retries and decompression are layers around it (see Agent's constructor).

export function coreDispatch(agent: Agent): Dispatch {
  return (req) => {
    try {
      return attempt(agent, req);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

function attempt(agent: Agent, req: DispatchRequest): Promise<HttpResponse> {
  const st = stateOf(req);
  const o = req.options;
  const { method, target, headers, body } = st;
  const socketPath = o.socketPath;
  const route: Route | null =
    agent.routed || socketPath !== undefined ? agent.route(target.pool, socketPath) : null;
  const stream = body.body !== null && body.length === null;
  const head = buildHead(method, target, headers, body.length, stream, route);
  const timeouts = o.timeouts ?? NO_TIMEOUTS;
  const spec: ExchangeSpec = {
    method,
    url: target.href,
    origin: target.origin,
    head,
    headAscii: !NON_ASCII.test(head),
    body: body.body,
    chunked: false,
    declaredLength: null,
    retryable: IDEMPOTENT.has(method) && body.replayable,
    maxHeaderSize: o.maxHeaderSize ?? 16384,
    maxResponseSize: o.maxResponseSize ?? Number.POSITIVE_INFINITY,
    allowObsFold: o.allowObsFold ?? false,
    decoder: st.decoder,
    connectTimeout: timeouts.connect ?? 10_000,
    headersTimeout: timeouts.headers ?? 30_000,
    bodyTimeout: timeouts.body ?? 30_000,
    totalDeadline: st.totalDeadline,
    totalTimeout: timeouts.total ?? 0,
    signal: o.signal,
    redirected: st.redirected,
    uploadTotal: body.length,
    onUploadProgress: o.onUploadProgress,
    onDownloadProgress: o.onDownloadProgress,
  };
  if (stream) {
    spec.declaredLength = declaredLength(headers);
    spec.chunked = spec.declaredLength === null;
    spec.uploadTotal = spec.declaredLength;
  }
  // The signal may have fired while a layer waited (a redirect's body drained, a retry's backoff): its
  // 'abort' event is gone.
  const signal = o.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return send(agent, route === null ? target.pool : route.pool, spec);
}

const NO_TIMEOUTS: Timeouts = {};

function send(agent: Agent, pool: PoolKey, spec: ExchangeSpec): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    agent.enqueue(pool, new Exchange(spec, resolve, reject));
  });
}
