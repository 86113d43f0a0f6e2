/**
 * One coarse, unref'd interval shared by every request and idle connection, instead of a timer
 * per request: a request only stores deadlines (numbers). The interval runs only while something
 * is registered, so an idle process holds no timer.
 */
export interface Tickable {
  /** Called about every {@link TICK_MS} with `Date.now()`. */
  tick(now: number): void;
  /** Where the ticker holds the item, -1 while unwatched (set only by the ticker). */
  tickIndex: number;
}

export const TICK_MS = 25;

// An array with each item's index stored on it: watch/unwatch per request are O(1) and allocate nothing
// (a Set churned by one add and one delete per request rehashes its table every few dozen requests).
const items: Tickable[] = [];
let timer: NodeJS.Timeout | null = null;

function run(): void {
  const now = Date.now();
  // Backwards: an item that unwatches itself (or others) moves an already visited one into its slot, so
  // none is skipped (one may be ticked twice with the same `now`, which changes nothing). Items watched
  // during the run wait for the next tick.
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item !== undefined) item.tick(now);
  }
  if (items.length === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

export function watch(item: Tickable): void {
  if (item.tickIndex !== -1) return;
  item.tickIndex = items.length;
  items.push(item);
  if (timer === null) {
    timer = setInterval(run, TICK_MS);
    timer.unref();
  }
}

export function unwatch(item: Tickable): void {
  const i = item.tickIndex;
  if (i === -1) return;
  item.tickIndex = -1;
  const last = items.pop()!;
  if (last !== item) {
    items[i] = last;
    last.tickIndex = i;
  }
}

/** For tests: whether the shared interval is running, and how many items it watches. */
export function tickerState(): { running: boolean; watched: number } {
  return { running: timer !== null, watched: items.length };
}
