import { connect, type Socket } from 'node:net';

/** A raw TCP test client that reads lines; no chat logic, so tests see exactly what the server sends. */
export class LineClient {
  readonly socket: Socket;
  readonly lines: string[] = [];
  #buf = '';
  #waiters: Array<() => void> = [];
  closed = false;
  readonly ended: Promise<void>;

  private constructor(socket: Socket) {
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
      this.#wake();
    });
    this.ended = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.#wake();
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

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Waits until a line matching `test` arrives (searching from `from`); returns it. */
  async waitFor(test: RegExp | ((line: string) => boolean), timeoutMs = 10_000, from = 0): Promise<string> {
    const match = typeof test === 'function' ? test : (l: string) => test.test(l);
    const deadline = Date.now() + timeoutMs;
    let k = from;
    for (;;) {
      for (; k < this.lines.length; k++) if (match(this.lines[k]!)) return this.lines[k]!;
      if (this.closed)
        throw new Error(`connection closed before ${String(test)}; got:\n${this.lines.join('\n')}`);
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
