import { type ClientOptions, WebSocket } from 'ws';

/** A raw IRC-over-WebSocket test client: one received message is one entry of `lines`. */
export class WsClient {
  readonly ws: WebSocket;
  readonly lines: string[] = [];
  /** Whether each message arrived as a binary frame (parallel to `lines`). */
  readonly binary: boolean[] = [];
  closed = false;
  closeCode = 0;
  /** Keep every message in `lines` (a load test turns it off and counts instead). */
  record = true;
  readonly ended: Promise<void>;
  #waiters: Array<() => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (this.record) {
        this.lines.push(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
        this.binary.push(isBinary);
      }
      this.#wake();
    });
    this.ended = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closed = true;
        this.closeCode = code;
        this.#wake();
        resolve();
      });
    });
    ws.on('error', () => {});
  }

  /**
   * Opens `url` offering `protocols`; rejects with the HTTP status when the upgrade is refused.
   */
  static open(
    url: string,
    protocols: string[] = ['text.ircv3.net'],
    options: ClientOptions = {},
  ): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, options);
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode }),
        );
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send(line: string): void {
    this.ws.send(line);
  }

  /** Waits until a message matching `test` arrives (searching from `from`); returns it. */
  async waitFor(test: RegExp | ((line: string) => boolean), timeoutMs = 10_000, from = 0): Promise<string> {
    const match = typeof test === 'function' ? test : (l: string) => test.test(l);
    const deadline = Date.now() + timeoutMs;
    let k = from;
    for (;;) {
      for (; k < this.lines.length; k++) if (match(this.lines[k]!)) return this.lines[k]!;
      if (this.closed)
        throw new Error(
          `websocket closed (${this.closeCode}) before ${String(test)}; got:\n${this.lines.join('\n')}`,
        );
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(test)}; got:\n${this.lines.join('\n')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Waits until `cond()` holds, checking it after every message. */
  async until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.closed) throw new Error(`websocket closed (${this.closeCode}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a condition');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Waits until at least `n` messages match. */
  async waitCount(test: RegExp, n: number, timeoutMs = 10_000): Promise<void> {
    let seen = 0;
    let k = 0;
    await this.waitFor(() => {
      for (; k < this.lines.length; k++) if (test.test(this.lines[k]!)) seen++;
      return seen >= n;
    }, timeoutMs);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Opens a WebSocket IRC client and registers `nick`, waiting for the end of the MOTD. */
export async function wsUser(
  url: string,
  nick: string,
  protocols?: string[],
  options?: ClientOptions,
): Promise<WsClient> {
  const c = await WsClient.open(url, protocols, options);
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick} web`);
  await c.waitFor(/ 376 /);
  return c;
}
