import { describe, expect, it } from 'vitest';
import { type Tickable, tickerState, unwatch, watch } from './ticker.js';

describe('ticker', () => {
  it('ticks every watched item once per run, whoever unwatches whom during it, and stops when empty', async () => {
    const ticks = new Map<string, number>();
    const items: (Tickable & { name: string })[] = [];
    const make = (name: string, onTick?: () => void) => {
      const it = {
        name,
        tickIndex: -1,
        tick() {
          ticks.set(name, (ticks.get(name) ?? 0) + 1);
          onTick?.();
        },
      };
      items.push(it);
      return it;
    };
    const a = make('a');
    const b = make('b');
    make('c');
    // d removes a and b (not yet visited: the run goes backwards) and itself.
    const d = make('d', () => {
      unwatch(a);
      unwatch(b);
      unwatch(d);
    });
    make('e');
    const before = tickerState().watched;
    for (const it of items) watch(it);
    watch(a); // twice is once
    expect(tickerState().watched).toBe(before + 5);
    while ((ticks.get('d') ?? 0) === 0) await new Promise((r) => setTimeout(r, 5));
    expect(ticks.get('a') ?? 0).toBe(0);
    expect(ticks.get('b') ?? 0).toBe(0);
    expect(ticks.get('c')).toBeGreaterThanOrEqual(1);
    expect(ticks.get('e')).toBeGreaterThanOrEqual(1);
    expect(tickerState().watched).toBe(before + 2);
    const c = ticks.get('c')!;
    while (ticks.get('c') === c) await new Promise((r) => setTimeout(r, 5));
    expect(ticks.get('d')).toBe(1);
    for (const it of items) unwatch(it);
    expect(tickerState().watched).toBe(before);
    expect(items.every((it) => it.tickIndex === -1)).toBe(true);
  });
});
