// The core's one Buffer-view helper, re-exported for the codecs.
export { asBuffer } from '@asyncnet/streams/adapter';

/**
 * A growable byte accumulator for the unfinished frame of a decoder. It copies the tail of each
 * chunk once, so a decoder never pins whole socket chunks for a few pending bytes; capacity only
 * grows up to what the codec's maximum allows.
 */
export class Accumulator {
  buf: Buffer = EMPTY;
  length = 0;

  append(src: Buffer, from: number, to: number): void {
    const need = this.length + (to - from);
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 256));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    src.copy(this.buf, this.length, from, to);
    this.length = need;
  }

  /** Pending bytes plus `src[from, to)` as one new Buffer; resets the accumulator. */
  take(src: Buffer | null, from: number, to: number, keepFromAcc = this.length): Buffer {
    const extra = src === null ? 0 : to - from;
    const out = Buffer.allocUnsafe(keepFromAcc + extra);
    this.buf.copy(out, 0, 0, keepFromAcc);
    if (src !== null) src.copy(out, keepFromAcc, from, to);
    this.reset();
    return out;
  }

  /** Pending bytes plus `src[from, to)` decoded as UTF-8; resets the accumulator. */
  takeString(src: Buffer | null, from: number, to: number, keepFromAcc = this.length): string {
    let s: string;
    if (src === null || to === from) {
      s = this.buf.toString('utf8', 0, keepFromAcc);
    } else {
      this.length = keepFromAcc;
      this.append(src, from, to);
      s = this.buf.toString('utf8', 0, this.length);
    }
    this.reset();
    return s;
  }

  reset(): void {
    this.length = 0;
    // Drop a big buffer so an idle decoder does not keep a once-large frame's memory.
    if (this.buf.length > 65536) this.buf = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);
