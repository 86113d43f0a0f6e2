import { setTimeout as delay } from 'node:timers/promises';
import type { Agent } from '../agent.js';
import type { HttpResponse } from '../response.js';
import { backoff, errorCode, parseRetryAfter, type RetryPolicy } from '../retry.js';
import type { PoolKey } from './dial.js';
import { abortError, Exchange, type ExchangeSpec } from './exchange.js';

// One attempt is one Exchange on the agent; the retry layer repeats attempts on the same spec.

export function send(agent: Agent, pool: PoolKey, spec: ExchangeSpec): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    agent.dispatch(pool, new Exchange(spec, resolve, reject));
  });
}

/** Attempts until one is not retryable, the retries are spent, or the next wait would pass the total deadline. */
export async function sendWithRetries(
  agent: Agent,
  pool: PoolKey,
  spec: ExchangeSpec,
  p: RetryPolicy,
): Promise<HttpResponse> {
  for (let attempt = 1; ; attempt++) {
    let res: HttpResponse | null = null;
    let error: unknown = null;
    try {
      res = await send(agent, pool, spec);
    } catch (err) {
      error = err;
    }
    const last = attempt > p.retries;
    let delay: number;
    if (res !== null) {
      if (last || !p.statusCodes.has(res.status)) return res;
      const after = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      delay = after === null ? backoff(p, attempt) : Math.min(after, p.maxDelay);
      if (!fitsDeadline(spec, delay)) return res;
      p.onRetry?.({ attempt: attempt + 1, delay, statusCode: res.status });
      await res.body.discard();
    } else {
      const code = errorCode(error);
      if (
        last ||
        code === undefined ||
        code === 'ERR_ABORTED' ||
        code === 'ERR_TOTAL_TIMEOUT' ||
        !p.errorCodes.has(code) ||
        spec.signal?.aborted === true
      )
        throw error;
      delay = backoff(p, attempt);
      if (!fitsDeadline(spec, delay)) throw error;
      p.onRetry?.({ attempt: attempt + 1, delay, error: error as Error });
    }
    await sleep(delay, spec.signal);
  }
}

function fitsDeadline(spec: ExchangeSpec, delay: number): boolean {
  return spec.totalDeadline === 0 || Date.now() + delay < spec.totalDeadline;
}

/** Waits `ms`, or rejects with the request's abort error once `signal` fires. */
async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
  } catch (err) {
    throw signal?.aborted ? abortError(signal) : err;
  }
}
