/**
 * Token bucket: `burst` lines at once, then `rate` lines per second. `take()` answers whether one
 * more line may pass now. Time is injected so tests need no sleeping.
 */
export class TokenBucket {
  readonly #burst: number;
  readonly #ratePerMs: number;
  #tokens: number;
  #last: number;

  constructor(burst: number, ratePerSecond: number, now: number) {
    this.#burst = burst;
    this.#ratePerMs = ratePerSecond / 1000;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
      this.#last = now;
    }
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }
}
