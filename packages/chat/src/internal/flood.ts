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

  /** Charges `n` more lines (a PRIVMSG to many targets); the balance may go negative. */
  charge(n: number, now: number): void {
    this.take(now);
    this.#tokens = Math.max(-this.#burst, this.#tokens - n + 1);
  }

  /** Ms until {@link take} succeeds. */
  waitMs(now: number): number {
    const tokens = this.#tokens + Math.max(0, now - this.#last) * this.#ratePerMs;
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.#ratePerMs);
  }
}
