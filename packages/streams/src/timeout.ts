import { TimeoutError } from './errors.js';

/**
 * Waits for `promise`, or rejects with a {@link TimeoutError} after `ms` milliseconds
 * (asyncio's `wait_for`). The timer is cleared as soon as the promise settles.
 *
 * Reads on a `StreamReader` are cancel-safe, but `withTimeout` cannot cancel the operation
 * itself: prefer passing `{ signal: AbortSignal.timeout(ms) }` to the call, which both stops
 * waiting and cancels it.
 *
 * @param promise - the operation to wait for
 * @param ms - milliseconds to wait
 * @returns the promise's value
 * @throws {@link TimeoutError} when `ms` pass first
 * @example
 * ```ts
 * const line = await withTimeout(reader.readLine(), 1000);
 * ```
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`operation timed out after ${ms} ms`)), ms);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
