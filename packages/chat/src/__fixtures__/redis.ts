import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Path of redis-server, or null when it is not installed. */
export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, 'redis-server');
    if (existsSync(p)) return p;
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Polls `fn` every 100 ms until it returns something truthy, which it resolves with. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | false | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write('PING\r\n');
      });
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A throwaway redis-server on a loopback port, without persistence. */
export class RedisProcess {
  readonly port: number;
  readonly dir = mkdtempSync(join(tmpdir(), 'asyncnet-chat-redis-'));
  #proc: ChildProcess | null = null;
  readonly #bin: string;
  readonly #persist: boolean;

  private constructor(bin: string, port: number, persist: boolean) {
    this.#bin = bin;
    this.port = port;
    this.#persist = persist;
  }

  /** `persist`: AOF with fsync on every write, so a kill -9 loses no acknowledged write. */
  static async start(bin: string, persist = false): Promise<RedisProcess> {
    const r = new RedisProcess(bin, await freePort(), persist);
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    this.#proc = spawn(
      this.#bin,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        this.#persist ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port);
  }

  /** Sends a signal (SIGSTOP / SIGCONT to freeze and thaw Redis). */
  signal(sig: NodeJS.Signals): void {
    this.#proc?.kill(sig);
  }

  async kill(): Promise<void> {
    const p = this.#proc;
    this.#proc = null;
    if (p === null || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const pkgDir = fileURLToPath(new URL('../..', import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist (streams and chat) when missing or older than the sources, for child processes. */
export function ensureBuilt(): void {
  for (const dir of [join(pkgDir, '../streams'), pkgDir]) {
    const dist = join(dir, 'dist/index.js');
    if (existsSync(dist) && statSync(dist).mtimeMs >= newest(join(dir, 'src'))) continue;
    execFileSync(join(pkgDir, '../../node_modules/.bin/tsup'), [], { cwd: dir, stdio: 'ignore' });
  }
}

/** Server options for a child node (JSON), on top of the fixture's defaults. */
export interface NodeOptions {
  nodeTimeout?: number;
  nickLease?: number;
  claimTimeout?: number;
  history?: number;
}

/** A chat server child process on the Redis bus. */
export class NodeProcess {
  readonly proc: ChildProcess;
  readonly log: string[] = [];
  port = 0;
  irc = 0;
  #waiters: Array<(v: unknown) => void> = [];

  private constructor(url: string, options: NodeOptions) {
    this.proc = spawn(
      process.execPath,
      [fileURLToPath(new URL('./redis-node.mjs', import.meta.url)), url, JSON.stringify(options)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    createInterface({ input: this.proc.stderr! }).on('line', (l) => this.log.push(l));
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      const w = this.#waiters.shift();
      w?.(JSON.parse(l));
    });
  }

  static async start(url: string, options: NodeOptions = {}): Promise<NodeProcess> {
    const n = new NodeProcess(url, options);
    const ready = (await n.#next(15_000)) as { port: number; irc: number };
    n.port = ready.port;
    n.irc = ready.irc;
    return n;
  }

  #next(timeoutMs = 10_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`chat node did not answer; log:\n${this.log.join('\n')}`)),
        timeoutMs,
      );
      this.#waiters.push((v) => {
        clearTimeout(t);
        resolve(v);
      });
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: JSON from the child
  async stats(): Promise<any> {
    this.proc.stdin!.write('stats\n');
    return ((await this.#next()) as { stats: unknown }).stats;
  }

  /** kill -9, waiting for the exit. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin!.write('close\n');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}
