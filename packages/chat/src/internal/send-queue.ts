/** The part of a transport a send queue writes to. */
export interface QueueSink {
  write(data: Uint8Array): void;
}

/** Tells the owner what the queue decided. */
export interface QueueOwner {
  /** The encoded "you missed N messages" notice for this client's protocol. */
  missedNotice(count: number): Uint8Array;
  /** The queue gave up on the client: disconnect it with this reason. */
  overflow(reason: 'sendq exceeded' | 'sendq stuck'): void;
  /** Called with the number of messages dropped by one trim. */
  dropped(count: number): void;
}

/** Limits of one client's send queue. */
export interface SendQueueLimits {
  soft: number;
  hard: number;
  stuckMs: number;
}

/**
 * One client's bounded send queue. While the transport accepts data (below its high-water mark)
 * writes go straight through; while it is paused, messages wait here. Over `soft` bytes the
 * oldest droppable messages go (the client is told how many on resume); non-droppable bytes over
 * `hard`, or staying over `soft` for `stuckMs`, make the queue give up on the client.
 * Every call is synchronous and O(1) amortized: fan-out never waits on a client.
 */
export class SendQueue {
  readonly #sink: QueueSink;
  readonly #owner: QueueOwner;
  readonly #limits: SendQueueLimits;
  #items: Uint8Array[] = [];
  #droppable: boolean[] = [];
  #head = 0;
  /** Trimming resumes here: every droppable message before it is already dropped. */
  #scan = 0;
  /** Dropped messages still holding a slot in `#items` (after `#head`). */
  #holes = 0;
  #bytes = 0;
  #paused = false;
  #missed = 0;
  #stuckTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  /** Largest number of queued bytes seen. */
  peak = 0;

  constructor(sink: QueueSink, owner: QueueOwner, limits: SendQueueLimits) {
    this.#sink = sink;
    this.#owner = owner;
    this.#limits = limits;
  }

  /** Bytes waiting here (not counting the transport's own buffer). */
  get size(): number {
    return this.#bytes;
  }

  /** Messages waiting here. */
  get length(): number {
    return this.#items.length - this.#head - this.#holes;
  }

  /** Slots in use, dropped holes included (bounded to about twice {@link length}). */
  get slots(): number {
    return this.#items.length - this.#head;
  }

  /** Whether the transport asked us to hold writes. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Enqueues one encoded message; `droppable` marks room traffic that may be shed. */
  push(data: Uint8Array, droppable: boolean): void {
    if (this.#closed || data.length === 0) return;
    if (!this.#paused && this.#head === this.#items.length) {
      this.#sink.write(data);
      return;
    }
    this.#items.push(data);
    this.#droppable.push(droppable);
    this.#bytes += data.length;
    if (this.#bytes > this.peak) this.peak = this.#bytes;
    if (this.#bytes > this.#limits.soft) this.#trim();
  }

  /** The transport crossed its high-water mark. */
  pause(): void {
    this.#paused = true;
  }

  /** The transport drained to its low-water mark: flush what waits, until it pauses again. */
  resume(): void {
    this.#paused = false;
    if (this.#closed) return;
    if (this.#missed > 0) {
      const n = this.#missed;
      this.#missed = 0;
      this.#sink.write(this.#owner.missedNotice(n));
    }
    const items = this.#items;
    while (!this.#paused && this.#head < items.length) {
      const data = items[this.#head]!;
      items[this.#head] = EMPTY;
      this.#head++;
      if (data.length === 0) {
        this.#holes--; // a dropped message's hole
        continue;
      }
      this.#bytes -= data.length;
      this.#sink.write(data);
    }
    if (this.#scan < this.#head) this.#scan = this.#head;
    this.#compact();
    if (this.#bytes <= this.#limits.soft) this.#clearStuck();
  }

  /** Hands everything queued to the transport regardless of its high-water mark (used on close). */
  flushAll(): void {
    if (this.#closed) return;
    this.#paused = false;
    const items = this.#items;
    for (let k = this.#head; k < items.length; k++) if (items[k]!.length > 0) this.#sink.write(items[k]!);
    this.#reset();
  }

  /** Forgets everything queued; later pushes are ignored. */
  close(): void {
    this.#closed = true;
    this.#clearStuck();
    this.#reset();
  }

  #reset(): void {
    this.#items = [];
    this.#droppable = [];
    this.#head = 0;
    this.#scan = 0;
    this.#holes = 0;
    this.#bytes = 0;
  }

  #trim(): void {
    const items = this.#items;
    const droppable = this.#droppable;
    let dropped = 0;
    // Drop the oldest droppable messages; non-droppable ones keep their order. The scan resumes
    // where the last one stopped, so messages that cannot be dropped (and holes) are passed once,
    // not on every push: trimming stays O(1) amortized behind a non-droppable head.
    let k = Math.max(this.#head, this.#scan);
    for (; k < items.length && this.#bytes > this.#limits.soft; k++) {
      if (droppable[k]) {
        this.#bytes -= items[k]!.length;
        items[k] = EMPTY;
        droppable[k] = false;
        dropped++;
      }
    }
    this.#scan = k;
    if (dropped > 0) {
      this.#missed += dropped;
      this.#holes += dropped;
      this.#owner.dropped(dropped);
      // Skip the holes at the head so they cost nothing later.
      while (this.#head < items.length && items[this.#head]!.length === 0) {
        this.#head++;
        this.#holes--;
      }
      if (this.#scan < this.#head) this.#scan = this.#head;
      if (this.#holes > 1024 && this.#holes * 2 > items.length - this.#head) this.#squeeze();
      else this.#compact();
    }
    if (this.#bytes > this.#limits.hard) {
      this.#owner.overflow('sendq exceeded');
      return;
    }
    if (this.#stuckTimer === null) {
      this.#stuckTimer = setTimeout(() => {
        this.#stuckTimer = null;
        if (!this.#closed) this.#owner.overflow('sendq stuck');
      }, this.#limits.stuckMs);
      this.#stuckTimer.unref?.();
    }
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#droppable = [];
      this.#head = 0;
      this.#scan = 0;
      this.#holes = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#droppable = this.#droppable.slice(this.#head);
      this.#scan -= this.#head;
      this.#head = 0;
    }
  }

  /** Removes the holes dropped messages left behind a message that could not be dropped. */
  #squeeze(): void {
    const items: Uint8Array[] = [];
    const droppable: boolean[] = [];
    let scan = 0;
    for (let k = this.#head; k < this.#items.length; k++) {
      const data = this.#items[k]!;
      if (data.length === 0) continue;
      if (k < this.#scan) scan++;
      items.push(data);
      droppable.push(this.#droppable[k]!);
    }
    this.#items = items;
    this.#droppable = droppable;
    this.#head = 0;
    this.#scan = scan;
    this.#holes = 0;
  }

  #clearStuck(): void {
    if (this.#stuckTimer !== null) {
      clearTimeout(this.#stuckTimer);
      this.#stuckTimer = null;
    }
  }
}

const EMPTY = new Uint8Array(0);
