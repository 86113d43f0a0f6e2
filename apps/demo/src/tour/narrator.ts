import type { Style } from '../style.js';

/** Shows bytes as a short quoted string with escapes, cut at `max` characters. */
export function show(data: Uint8Array | string, max = 90): string {
  const text =
    typeof data === 'string'
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const json = JSON.stringify(text.length > max ? text.slice(0, max) : text);
  return text.length > max ? `${json.slice(0, -1)}…" (${text.length} chars)` : json;
}

/** Formats a rate like `12,345/s`. */
export function perSecond(count: number, ms: number): string {
  return `${Math.round((count * 1000) / Math.max(ms, 0.001)).toLocaleString('en-US')}/s`;
}

/** Formats milliseconds with a sensible precision. */
export function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(value >= 10 ? 1 : 2)} ms`;
}

/** Formats bytes per second as MB/s. */
export function mbPerSecond(bytes: number, msTaken: number): string {
  return `${(bytes / 1e6 / (Math.max(msTaken, 0.001) / 1000)).toFixed(0)} MB/s`;
}

/** Writes the tour's narrated transcript. */
export class Narrator {
  readonly #out: NodeJS.WritableStream;
  readonly style: Style;
  measurements = 0;

  constructor(out: NodeJS.WritableStream, style: Style) {
    this.#out = out;
    this.style = style;
  }

  line(text = ''): void {
    this.#out.write(`${text}\n`);
  }

  /** A section header naming the package and where its code lives. */
  section(index: number, total: number, pkg: string, title: string): void {
    const s = this.style;
    this.line();
    this.line(s.bold(`[${index}/${total}] ${pkg}: ${title}`));
    this.line(s.dim(`      @asyncnet/${pkg}, code in packages/${pkg}/src`));
  }

  /** A step heading inside a section. */
  step(text: string): void {
    this.line(`  ${this.style.cyan('▸')} ${text}`);
  }

  /** Narration under a step. */
  say(text: string): void {
    this.line(`    ${text}`);
  }

  /** Bytes sent. */
  sent(who: string, data: Uint8Array | string): void {
    this.line(`    ${this.style.yellow('→')} ${who} ${show(data)}`);
  }

  /** Bytes or values received. */
  received(who: string, data: Uint8Array | string): void {
    this.line(`    ${this.style.green('←')} ${who} ${show(data)}`);
  }

  /** The section's measured number. */
  measured(text: string): void {
    this.measurements++;
    this.line(`    ${this.style.magenta('⏱ measured:')} ${this.style.bold(text)}`);
  }

  /** Something that failed; the tour goes on with the next step. */
  failed(text: string): void {
    this.line(`    ${this.style.red('✗')} ${text}`);
  }
}

/** Runs cleanups in reverse order, each at most once, never throwing. */
export class Cleanup {
  #fns: (() => unknown)[] = [];

  add(fn: () => unknown): void {
    this.#fns.push(fn);
  }

  async run(): Promise<void> {
    const fns = this.#fns.reverse();
    this.#fns = [];
    for (const fn of fns) {
      try {
        await fn();
      } catch {
        // best effort: the tour is ending this section anyway
      }
    }
  }
}

/** Rejects after `timeoutMs` with a message naming `what`, so no step of the tour can hang. */
export function within<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
