import { StreamsError, TimeoutError } from './errors.js';
import { setLongTimeout } from './internal/long-timeout.js';

/** Options for {@link withTimeout} and {@link timeout}. */
export interface TimeoutOptions {
  /** An outer signal: aborting it cancels the operation too (its reason is kept). */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `operation` with a signal that is aborted after `ms` milliseconds (asyncio's `wait_for`):
 * the operation is **cancelled**, not merely abandoned. Every asyncnet call takes the signal, so a
 * timed-out `readLine()` leaves the reader free with its bytes buffered, and a timed-out
 * `openConnection()` leaves no socket behind.
 *
 * Like `wait_for`, it waits for the cancelled operation to settle: a value that arrived at the last
 * moment is returned rather than lost. An operation that ignores its signal is therefore not
 * bounded by `ms`.
 *
 * @param ms - milliseconds before the operation is cancelled (a finite number >= 0)
 * @param operation - starts the work; pass it the signal
 * @param options - `signal`: an outer signal that cancels as well
 * @returns the operation's value
 * @throws {@link TimeoutError} (`ERR_TIMEOUT`) when `ms` passed first; the operation's own error otherwise
 * @example
 * ```ts
 * const line = await withTimeout(1000, (signal) => reader.readLine({ signal }));
 * ```
 */
export async function withTimeout<T>(
  ms: number,
  operation: (signal: AbortSignal) => PromiseLike<T> | T,
  options: TimeoutOptions = {},
): Promise<T> {
  if (typeof ms !== 'number' || typeof operation !== 'function') {
    throw new StreamsError(
      'ERR_INVALID_ARGUMENT',
      `withTimeout(ms, (signal) => operation) needs a number and a function, got ${describe(ms)} and ${describe(operation)}; the withTimeout(promise, ms) form was removed because it could not cancel`,
    );
  }
  const scope = timeout(ms, options);
  try {
    return await operation(scope.signal);
  } catch (err) {
    // Whatever the cancelled operation threw, the reason it stopped is the deadline.
    if (scope.expired() && err !== scope.signal.reason) {
      throw new TimeoutError((scope.signal.reason as TimeoutError).message, { cause: err });
    }
    throw err;
  } finally {
    scope[Symbol.dispose]();
  }
}

/**
 * A deadline scope (asyncio's `asyncio.timeout()`): hand `signal` to every call inside it and they
 * are all cancelled together when the deadline passes. Dispose it (`using`) to clear the timer.
 *
 * @example
 * ```ts
 * using deadline = timeout(5000);
 * const [reader, writer] = await openConnection(host, port, { signal: deadline.signal });
 * writer.write('HELLO\n');
 * const reply = await reader.readLine({ signal: deadline.signal });
 * ```
 */
export interface Timeout extends Disposable {
  /** Aborted with a {@link TimeoutError} when the deadline passes (or with the outer signal's reason). */
  readonly signal: AbortSignal;
  /** The deadline in `performance.now()` milliseconds, or `null` for none. */
  when(): number | null;
  /**
   * Moves the deadline to `ms` from now, or removes it with `null` (asyncio's `reschedule`).
   * @throws {@link StreamsError} `ERR_INVALID_ARGUMENT` once the scope has expired or was disposed
   */
  reschedule(ms: number | null): void;
  /** `true` once the deadline passed and `signal` was aborted by it. */
  expired(): boolean;
}

/**
 * Starts a deadline scope of `ms` milliseconds (asyncio's `asyncio.timeout(delay)`).
 *
 * @param ms - milliseconds until the deadline, or `null` for none (set one later with `reschedule`)
 * @param options - `signal`: an outer signal that aborts the scope as well
 * @returns a disposable {@link Timeout}
 * @throws {@link StreamsError} `ERR_INVALID_ARGUMENT` for a negative or non-finite `ms`
 * @example
 * ```ts
 * using t = timeout(1000);
 * const line = await reader.readLine({ signal: t.signal }); // TimeoutError after 1 s
 * ```
 */
export function timeout(ms: number | null, options: TimeoutOptions = {}): Timeout {
  return new TimeoutScope(ms, options.signal);
}

class TimeoutScope implements Timeout {
  readonly #controller = new AbortController();
  readonly signal: AbortSignal = this.#controller.signal;
  #cancelTimer: (() => void) | undefined;
  #deadline: number | null = null;
  #ms = 0;
  #expired = false;
  #disposed = false;
  #outer: AbortSignal | undefined;

  constructor(ms: number | null, outer: AbortSignal | undefined) {
    if (outer !== undefined) {
      if (outer.aborted) this.#controller.abort(outer.reason);
      else {
        this.#outer = outer;
        outer.addEventListener('abort', this.#onOuterAbort, { once: true });
      }
    }
    if (!this.signal.aborted) this.#schedule(ms);
  }

  #onOuterAbort = (): void => {
    this.#clear();
    this.#controller.abort(this.#outer?.reason);
  };

  #schedule(ms: number | null): void {
    if (ms === null) {
      this.#deadline = null;
      return;
    }
    checkMs(ms);
    this.#ms = ms;
    this.#deadline = performance.now() + ms;
    this.#cancelTimer = setLongTimeout(this.#fire, ms);
  }

  #fire = (): void => {
    this.#cancelTimer = undefined;
    this.#expired = true;
    this.#detachOuter();
    this.#controller.abort(new TimeoutError(`operation timed out after ${this.#ms} ms`));
  };

  when(): number | null {
    return this.#deadline;
  }

  reschedule(ms: number | null): void {
    if (this.#disposed || this.signal.aborted) {
      throw new StreamsError('ERR_INVALID_ARGUMENT', 'cannot reschedule a timeout that has expired or ended');
    }
    this.#clear();
    this.#schedule(ms);
  }

  expired(): boolean {
    return this.#expired;
  }

  #clear(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  #detachOuter(): void {
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
    this.#outer = undefined;
  }

  [Symbol.dispose](): void {
    this.#disposed = true;
    this.#clear();
    this.#detachOuter();
  }
}

function checkMs(ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new StreamsError(
      'ERR_INVALID_ARGUMENT',
      `timeout needs a finite number of ms >= 0, got ${describe(ms)}`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
    return 'a promise';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
