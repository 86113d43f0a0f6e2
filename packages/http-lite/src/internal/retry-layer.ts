import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatch, DispatchRequest, Layer } from '../dispatch.js';
import type { HttpResponse } from '../response.js';
import { backoff, errorCode, parseRetryAfter, type RetryPolicy, retryPolicy } from '../retry.js';
import { stateOf } from './dispatch-state.js';
import { abortError } from './exchange.js';

/**
 * The retry layer (`retry` option): attempts again after a retryable status or error, for idempotent methods
 * with a replayable body, until one is not retryable, the retries are spent, or the next wait would pass
 * `timeouts.total`. Without the option it is one function call.
 * @throws {@link HttpError} `ERR_INVALID_ARGUMENT` for an invalid policy; the last attempt's error.
 */
export const retryLayer: Layer = (next) => (req) => {
  const options = req.options.retry;
  if (options === undefined) return next(req);
  let policy: RetryPolicy;
  let eligible: boolean;
  try {
    policy = retryPolicy(options);
    const st = stateOf(req);
    eligible = policy.retries > 0 && st.body.replayable && policy.methods.has(st.method);
  } catch (err) {
    return Promise.reject(err);
  }
  return eligible ? withRetries(next, req, policy) : next(req);
};

async function withRetries(next: Dispatch, req: DispatchRequest, p: RetryPolicy): Promise<HttpResponse> {
  const deadline = stateOf(req).totalDeadline;
  const signal = req.options.signal;
  for (let attempt = 1; ; attempt++) {
    let res: HttpResponse | null = null;
    let error: unknown = null;
    try {
      res = await next(req);
    } catch (err) {
      error = err;
    }
    const last = attempt > p.retries;
    let wait: number;
    if (res !== null) {
      if (last || !p.statusCodes.has(res.status)) return res;
      const after = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      wait = after === null ? backoff(p, attempt) : Math.min(after, p.maxDelay);
      if (!fits(deadline, wait)) return res;
      p.onRetry?.({ attempt: attempt + 1, delay: wait, statusCode: res.status });
      await res.body.discard();
    } else {
      const code = errorCode(error);
      if (
        last ||
        code === undefined ||
        code === 'ERR_ABORTED' ||
        code === 'ERR_TOTAL_TIMEOUT' ||
        !p.errorCodes.has(code) ||
        signal?.aborted === true
      )
        throw error;
      wait = backoff(p, attempt);
      if (!fits(deadline, wait)) throw error;
      p.onRetry?.({ attempt: attempt + 1, delay: wait, error: error as Error });
    }
    await sleep(wait, signal);
  }
}

function fits(deadline: number, wait: number): boolean {
  return deadline === 0 || Date.now() + wait < deadline;
}

/** Waits `ms`, or rejects with the request's abort error once `signal` fires. */
async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
  } catch (err) {
    throw signal?.aborted ? abortError(signal) : err;
  }
}
