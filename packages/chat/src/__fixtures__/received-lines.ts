/** What the TCP and WebSocket test clients share: the lines received so far and the waits on them. */
export abstract class ReceivedLines {
  readonly lines: string[] = [];
  closed = false;
  #waiters: Array<() => void> = [];

  /** How errors name the end of the connection, e.g. `connection closed`. */
  protected abstract closedText(): string;

  /** Call when a line arrived or the connection closed: every wait checks again. */
  protected wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next {@link ReceivedLines.wake}, or after `ms`. */
  #next(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.#waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  /** Waits until a line matching `test` arrives (searching from `from`); returns it. */
  async waitFor(test: RegExp | ((line: string) => boolean), timeoutMs = 10_000, from = 0): Promise<string> {
    const match = typeof test === 'function' ? test : (l: string) => test.test(l);
    const deadline = Date.now() + timeoutMs;
    let k = from;
    for (;;) {
      for (; k < this.lines.length; k++) if (match(this.lines[k]!)) return this.lines[k]!;
      if (this.closed)
        throw new Error(`${this.closedText()} before ${String(test)}; got:\n${this.lines.join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(test)}; got:\n${this.lines.join('\n')}`);
      await this.#next(left);
    }
  }

  /** Waits until `cond()` holds, checking it after every line. */
  async until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.closed) throw new Error(`${this.closedText()} while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a condition');
      await this.#next(left);
    }
  }
}
