/** Formats a byte count as `12.3 MiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  return `${String(m).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

/** A one-line download progress bar (bytes, rate, ETA when the length is known), redrawn in place. */
export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #total: number | null;
  readonly #start = performance.now();
  #last = 0;
  #bytes = 0;

  constructor(out: NodeJS.WriteStream, total: number | null) {
    this.#out = out;
    this.#total = total;
  }

  /** Records progress; redraws at most ten times a second. */
  update(bytes: number): void {
    this.#bytes = bytes;
    const now = performance.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    this.#draw(now);
  }

  /** Draws the final state and ends the line. */
  finish(ok: boolean): void {
    this.#draw(performance.now());
    this.#out.write(ok ? '\n' : ' failed\n');
  }

  #draw(now: number): void {
    const secs = Math.max((now - this.#start) / 1000, 1e-3);
    const rate = this.#bytes / secs;
    const cols = Math.max(this.#out.columns ?? 80, 40);
    let text: string;
    if (this.#total !== null && this.#total > 0) {
      const frac = Math.min(this.#bytes / this.#total, 1);
      const eta = rate > 0 ? (this.#total - this.#bytes) / rate : Number.POSITIVE_INFINITY;
      const info = ` ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(this.#bytes)}/${formatBytes(this.#total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
      const width = Math.max(cols - info.length - 3, 10);
      const full = Math.round(frac * width);
      text = `[${'#'.repeat(full)}${'-'.repeat(width - full)}]${info}`;
    } else {
      text = `${formatBytes(this.#bytes)} ${formatBytes(rate)}/s ${formatDuration(secs)}`;
    }
    this.#out.write(`\r\x1b[2K${text.slice(0, cols - 1)}`);
  }
}
