/**
 * A FIFO of byte chunks: appending never copies, taking a prefix copies only when it spans
 * chunks, and separator searches resume where the previous search stopped.
 */
export class ByteQueue {
  /**
   * Chunks from `#first` on are unread. Taken chunks are skipped by index rather than shifted off:
   * `shift()` on a long array is O(n), and a peer sending one byte per segment makes it long.
   */
  #chunks: (Buffer | undefined)[] = [];
  #first = 0;
  /** Offset of the first unread byte inside `#chunks[#first]`. */
  #head = 0;
  #size = 0;
  /**
   * Where the last search began (chunk index and that chunk's offset from the unread data), so a
   * search resumed after more data arrived skips the chunks already behind it. Reset on every take.
   */
  #scanIndex = -1;
  #scanBase = 0;
  /**
   * Once several chunks are buffered, small ones are copied into this buffer and the last chunk
   * grows over them: a peer sending one byte per segment would otherwise cost a Buffer object (over
   * 100 bytes of heap) per byte.
   * Append-only, so views already taken stay valid; replaced when full.
   */
  #arena: Buffer | null = null;
  #arenaEnd = 0;
  /** The last chunk when it is a view of `#arena` ending at `#arenaEnd` (so it can grow). */
  #open: Buffer | null = null;

  get size(): number {
    return this.#size;
  }

  /**
   * @param chunk - a `Buffer` (the reader converts), so searches can use Buffer's native indexOf;
   *   kept by reference, unless it is small and many chunks are buffered: then it is copied
   */
  push(chunk: Buffer): void {
    const n = chunk.byteLength;
    if (n === 0) return;
    this.#size += n;
    const chunks = this.#chunks;
    // A reader that keeps up holds a few chunks: they are kept as they are, without a copy.
    if (n >= SMALL || chunks.length - this.#first < COALESCE_AFTER) {
      chunks.push(chunk);
      this.#open = null;
      return;
    }
    let arena = this.#arena;
    if (arena === null || this.#arenaEnd + n > arena.byteLength) {
      arena = Buffer.allocUnsafeSlow(ARENA_SIZE);
      this.#arena = arena;
      this.#arenaEnd = 0;
      this.#open = null;
    }
    const at = this.#arenaEnd;
    arena.set(chunk, at);
    this.#arenaEnd = at + n;
    const last = chunks.length - 1;
    const open = this.#open;
    if (open !== null && last >= this.#first && chunks[last] === open) {
      // Same start, so #head and a search cursor on this chunk stay valid.
      const grown = arena.subarray(at - open.byteLength, at + n);
      chunks[last] = grown;
      this.#open = grown;
    } else {
      const view = arena.subarray(at, at + n);
      chunks.push(view);
      this.#open = view;
    }
  }

  /** Removes and returns the first `n` bytes (`n <= size`). */
  take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.#chunks[this.#first]!;
    const avail = first.byteLength - this.#head;
    if (n <= avail) {
      const out = first.subarray(this.#head, this.#head + n);
      this.#advance(n, avail);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#first]!;
      const left = chunk.byteLength - this.#head;
      const want = Math.min(left, n - filled);
      out.set(chunk.subarray(this.#head, this.#head + want), filled);
      filled += want;
      this.#advance(want, left);
    }
    return out;
  }

  /**
   * Hot path for line readers: takes a line (with its `\n`) when one ends inside the first
   * chunk within `limit` bytes; otherwise returns `null` and the caller takes the general path.
   */
  takeLine(limit: number): Buffer | null {
    const first = this.#chunks[this.#first];
    if (first === undefined) return null;
    const head = this.#head;
    const nl = first.indexOf(10, head);
    if (nl === -1 || nl - head >= limit) return null;
    const end = nl + 1;
    const out = first.subarray(head, end);
    this.#size -= end - head;
    this.#scanIndex = -1;
    if (end === first.byteLength) this.#dropFirst();
    else this.#head = end;
    return out;
  }

  #advance(n: number, left: number): void {
    this.#size -= n;
    this.#scanIndex = -1;
    if (n === left) this.#dropFirst();
    else this.#head += n;
  }

  #dropFirst(): void {
    this.#head = 0;
    const chunks = this.#chunks;
    // A short array shifts in O(1) or close to it; a long one would move every element.
    if (this.#first === 0 && chunks.length < 1024) {
      chunks.shift();
      return;
    }
    chunks[this.#first] = undefined; // free it now, not at the next compaction
    this.#first++;
    // Amortised O(1): the rest is copied once half of the array has been taken.
    if (this.#first * 2 >= chunks.length) {
      this.#chunks = chunks.slice(this.#first);
      this.#first = 0;
    }
  }

  /**
   * Offset of the first occurrence of `sep` that starts at or after `from`, or -1.
   * Callers pass `from = size - sep.length + 1` after a miss so no byte is searched twice.
   */
  indexOf(sep: Uint8Array, from: number): number {
    const sepLen = sep.byteLength;
    if (this.#size - from < sepLen) return -1;
    const chunks = this.#chunks;
    let i = this.#first;
    let base = -this.#head; // global offset of chunk start (relative to unread data)
    // Searches of one read only move forward: resume at the chunk where the last one began.
    if (this.#scanIndex !== -1 && this.#scanBase <= from) {
      i = this.#scanIndex;
      base = this.#scanBase;
    }
    let marked = false;
    for (; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const end = base + chunk.byteLength;
      if (end > from) {
        if (!marked) {
          marked = true;
          this.#scanIndex = i;
          this.#scanBase = base;
        }
        const localFrom = Math.max(from - base, i === this.#first ? this.#head : 0);
        const hit =
          sepLen === 1 ? indexOfByte(chunk, sep[0]!, localFrom) : indexOfBytes(chunk, sep, localFrom);
        if (hit !== -1) return base + hit;
        // A match that straddles into the next chunk starts in this chunk's last sepLen-1 bytes.
        if (sepLen > 1 && i + 1 < chunks.length) {
          const start = Math.max(localFrom, chunk.byteLength - sepLen + 1);
          for (let p = start; p < chunk.byteLength; p++) {
            if (this.#matchesAt(i, p, sep)) return base + p;
          }
        }
      }
      base = end;
    }
    return -1;
  }

  #matchesAt(chunkIndex: number, pos: number, sep: Uint8Array): boolean {
    let ci = chunkIndex;
    let chunk = this.#chunks[ci]!;
    let p = pos;
    for (let k = 0; k < sep.byteLength; k++) {
      while (p >= chunk.byteLength) {
        ci++;
        if (ci >= this.#chunks.length) return false;
        chunk = this.#chunks[ci]!;
        p = 0;
      }
      if (chunk[p] !== sep[k]) return false;
      p++;
    }
    return true;
  }
}

const EMPTY: Buffer = Buffer.alloc(0);
/** Chunks below this size are copied into the arena once `COALESCE_AFTER` chunks are buffered. */
const SMALL = 512;
const COALESCE_AFTER = 8;
const ARENA_SIZE = 16_384;

function indexOfByte(chunk: Buffer, byte: number, from: number): number {
  return chunk.indexOf(byte, from);
}

function indexOfBytes(chunk: Buffer, sep: Uint8Array, from: number): number {
  return chunk.indexOf(sep, from);
}
