/**
 * One coarse, unref'd interval shared by every request and idle connection, instead of a timer
 * per request: a request only stores deadlines (numbers). The interval runs only while something
 * is registered, so an idle process holds no timer.
 */
export interface Tickable {
  /** Called about every {@link TICK_MS} with `Date.now()`. */
  tick(now: number): void;
}

export const TICK_MS = 25;

const items = new Set<Tickable>();
let timer: NodeJS.Timeout | null = null;

function run(): void {
  const now = Date.now();
  for (const item of items) item.tick(now);
  if (items.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

export function watch(item: Tickable): void {
  items.add(item);
  if (timer === null) {
    timer = setInterval(run, TICK_MS);
    timer.unref();
  }
}

export function unwatch(item: Tickable): void {
  items.delete(item);
}

/** For tests: whether the shared interval is running, and how many items it watches. */
export function tickerState(): { running: boolean; watched: number } {
  return { running: timer !== null, watched: items.size };
}
