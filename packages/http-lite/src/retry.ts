import { HttpError } from './errors.js';
/** Opt-in retry policy of a request (see the README's Retries section). */
export interface RetryOptions {
  /** Retries after the first attempt. @default 2 */
  retries?: number | undefined;
  /**
   * Methods that may be retried: only idempotent ones are allowed (listing POST, PATCH or CONNECT is a
   * `TypeError`). @default ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']
   */
  methods?: readonly string[] | undefined;
  /** Response statuses that are retried (the response body is discarded first). @default [408, 429, 500, 502, 503, 504] */
  statusCodes?: readonly number[] | undefined;
  /**
   * Error codes (an {@link HttpError}'s `code` or a Node socket error's) that are retried when no response
   * head arrived. @default ['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'ENETDOWN', 'ENETUNREACH', 'EHOSTDOWN',
   * 'EHOSTUNREACH', 'EPIPE', 'ETIMEDOUT', 'ERR_CONNECT_TIMEOUT', 'ERR_HEADERS_TIMEOUT', 'ERR_PREMATURE_CLOSE']
   */
  errorCodes?: readonly string[] | undefined;
  /** Delay before the first retry, ms. @default 500 */
  minDelay?: number | undefined;
  /** Largest delay, ms; also caps `Retry-After`. @default 30000 */
  maxDelay?: number | undefined;
  /** Each retry waits `factor` times longer than the one before. @default 2 */
  factor?: number | undefined;
  /** Fraction of each computed delay taken off at random (0: none, 1: anywhere from 0 to the delay). Not applied to `Retry-After`. @default 0.2 */
  jitter?: number | undefined;
  /** Called before each retry waits; `attempt` is the number of the attempt about to start (2 for the first retry). */
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

/** What {@link RetryOptions.onRetry} receives. */
export interface RetryInfo {
  /** The attempt about to start (2 for the first retry). */
  attempt: number;
  /** How long it waits first, ms. */
  delay: number;
  /** The status that caused the retry, if a response did. */
  statusCode?: number;
  /** The error that caused the retry, if one did. */
  error?: Error;
}

/** @internal A validated retry policy. */
export interface RetryPolicy {
  retries: number;
  methods: ReadonlySet<string>;
  statusCodes: ReadonlySet<number>;
  errorCodes: ReadonlySet<string>;
  minDelay: number;
  maxDelay: number;
  factor: number;
  jitter: number;
  onRetry: ((info: RetryInfo) => void) | undefined;
}

/** @internal */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const STATUS_CODES = [408, 429, 500, 502, 503, 504];
const ERROR_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'ERR_CONNECT_TIMEOUT',
  'ERR_HEADERS_TIMEOUT',
  'ERR_PREMATURE_CLOSE',
];

const policies = new WeakMap<RetryOptions, RetryPolicy>();

/** @internal Validates `options` once per options object. @throws `TypeError`, `RangeError` */
export function retryPolicy(options: RetryOptions): RetryPolicy {
  const hit = policies.get(options);
  if (hit !== undefined) return hit;
  const methods = new Set((options.methods ?? [...IDEMPOTENT]).map((m) => m.toUpperCase()));
  for (const m of methods) {
    if (!IDEMPOTENT.has(m))
      throw new HttpError(
        'ERR_INVALID_ARGUMENT',
        `retry.methods may list idempotent methods only, got ${JSON.stringify(m)}`,
      );
  }
  const p: RetryPolicy = {
    retries: options.retries ?? 2,
    methods,
    statusCodes: new Set(options.statusCodes ?? STATUS_CODES),
    errorCodes: new Set(options.errorCodes ?? ERROR_CODES),
    minDelay: options.minDelay ?? 500,
    maxDelay: options.maxDelay ?? 30_000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 0.2,
    onRetry: options.onRetry,
  };
  if (!Number.isInteger(p.retries) || p.retries < 0)
    throw new HttpError('ERR_INVALID_ARGUMENT', `retry.retries must be an integer >= 0, got ${p.retries}`);
  if (!(p.minDelay >= 0) || !(p.maxDelay >= p.minDelay))
    throw new HttpError(
      'ERR_INVALID_ARGUMENT',
      `retry delays must satisfy 0 <= minDelay <= maxDelay, got ${p.minDelay} and ${p.maxDelay}`,
    );
  if (!(p.factor >= 1))
    throw new HttpError('ERR_INVALID_ARGUMENT', `retry.factor must be >= 1, got ${p.factor}`);
  if (!(p.jitter >= 0 && p.jitter <= 1))
    throw new HttpError('ERR_INVALID_ARGUMENT', `retry.jitter must be in [0, 1], got ${p.jitter}`);
  policies.set(options, p);
  return p;
}

/** @internal The backoff before retry number `n` (1-based), jittered. */
export function backoff(p: RetryPolicy, n: number): number {
  const d = Math.min(p.maxDelay, p.minDelay * p.factor ** (n - 1));
  return Math.round(d * (1 - p.jitter * Math.random()));
}

/**
 * @internal `Retry-After` (RFC 9110 10.2.3) in ms from `now`: delay-seconds or an HTTP-date; `null`
 * when absent or invalid. Never negative.
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^[0-9]+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t) || !/GMT$/.test(v)) return null;
  return Math.max(0, t - now);
}

/** @internal The code a retry decision looks at: ours, or Node's errno code. */
export function errorCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}
