import { connect, type Socket } from 'node:net';
import { ReceivedLines } from './received-lines.js';

/** A raw TCP test client that reads lines; no chat logic, so tests see exactly what the server sends. */
export class LineClient extends ReceivedLines {
  readonly socket: Socket;
  #buf = '';
  readonly ended: Promise<void>;

  private constructor(socket: Socket) {
    super();
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.#buf += d;
      let nl = this.#buf.indexOf('\n');
      while (nl !== -1) {
        this.lines.push(this.#buf.slice(0, nl).replace(/\r$/, ''));
        this.#buf = this.#buf.slice(nl + 1);
        nl = this.#buf.indexOf('\n');
      }
      this.wake();
    });
    this.ended = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  protected override closedText(): string {
    return 'connection closed';
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Waits until at least `n` lines match. */
  async waitCount(test: RegExp, n: number, timeoutMs = 10_000): Promise<void> {
    await this.waitFor(() => this.lines.filter((l) => test.test(l)).length >= n, timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens a plain client and registers `nick`, waiting for the hello line. */
export async function plainUser(port: number, nick: string): Promise<LineClient> {
  const c = await LineClient.open(port);
  await c.waitFor(/what is your nick/);
  c.send(nick);
  await c.waitFor(/you joined #lobby/);
  return c;
}

/** Opens an IRC client and registers, waiting for 001. */
export async function ircUser(port: number, nick: string): Promise<LineClient> {
  const c = await LineClient.open(port);
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick} real`);
  await c.waitFor(/ 376 /);
  return c;
}
