import { type ClientOptions, WebSocket } from 'ws';
import { ReceivedLines } from './received-lines.js';

/** A raw IRC-over-WebSocket test client: one received message is one entry of `lines`. */
export class WsClient extends ReceivedLines {
  readonly ws: WebSocket;
  /** Whether each message arrived as a binary frame (parallel to `lines`). */
  readonly binary: boolean[] = [];
  closeCode = 0;
  /** Keep every message in `lines` (a load test turns it off and counts instead). */
  record = true;
  readonly ended: Promise<void>;

  private constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (this.record) {
        this.lines.push(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
        this.binary.push(isBinary);
      }
      this.wake();
    });
    this.ended = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closed = true;
        this.closeCode = code;
        this.wake();
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

  protected override closedText(): string {
    return `websocket closed (${this.closeCode})`;
  }

  send(line: string): void {
    this.ws.send(line);
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
