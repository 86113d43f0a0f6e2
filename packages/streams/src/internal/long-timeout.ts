/** The longest delay `setTimeout` honours; beyond it node:timers fires after 1 ms instead. */
const MAX_DELAY = 2_147_483_647;

/**
 * `setTimeout` for any finite delay: one past 2^31 - 1 ms (about 24.8 days) is waited out in
 * steps instead of firing at once.
 * @returns a function that cancels the timer
 */
export function setLongTimeout(callback: () => void, ms: number): () => void {
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    timer =
      left > MAX_DELAY
        ? setTimeout(() => arm(deadline - performance.now()), MAX_DELAY)
        : setTimeout(callback, left);
  };
  arm(ms);
  return () => clearTimeout(timer);
}
