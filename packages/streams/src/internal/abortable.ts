import { abortReasonToError } from '../errors.js';

/**
 * Waits for `promise`, or rejects with the signal's typed error (`AbortedError`/`TimeoutError`)
 * once `signal` aborts. Only the waiting stops: whatever `promise` stands for goes on.
 * The listener is removed when the promise settles, so a long-lived signal does not collect them.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReasonToError(signal, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReasonToError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
