import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SendQueue } from './send-queue.js';

function setup(limits = { soft: 100, hard: 300, stuckMs: 1000 }) {
  const written: Uint8Array[] = [];
  const events: string[] = [];
  let dropped = 0;
  const q = new SendQueue(
    { write: (d) => written.push(d) },
    {
      missedNotice: (n) => new TextEncoder().encode(`missed ${n}`),
      overflow: (r) => events.push(r),
      dropped: (n) => {
        dropped += n;
      },
    },
    limits,
  );
  return { q, written, events, dropped: () => dropped };
}

const msg = (id: number, size = 10) => {
  const b = new Uint8Array(size);
  b[0] = id;
  return b;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('SendQueue', () => {
  it('writes straight through while the transport is not paused', () => {
    const { q, written } = setup();
    q.push(msg(1), true);
    q.push(msg(2), false);
    expect(written.map((b) => b[0])).toEqual([1, 2]);
    expect(q.size).toBe(0);
  });

  it('drops the oldest droppable messages over soft and reports the count on resume', () => {
    const { q, written, dropped } = setup();
    q.pause();
    for (let i = 1; i <= 15; i++) q.push(msg(i), true);
    expect(q.size).toBeLessThanOrEqual(100);
    expect(dropped()).toBe(5);
    q.resume();
    expect(new TextDecoder().decode(written[0])).toBe('missed 5');
    expect(written.slice(1).map((b) => b[0])).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    q.close();
  });

  it('never drops non-droppable messages and disconnects over hard', () => {
    const { q, events } = setup();
    q.pause();
    for (let i = 0; i < 30; i++) q.push(msg(i), false);
    expect(events).toEqual([]);
    q.push(msg(99), false);
    expect(events).toEqual(['sendq exceeded']);
    q.close();
  });

  it('disconnects a client stuck over soft for stuckMs, not one that recovers', () => {
    vi.useFakeTimers();
    const a = setup();
    a.q.pause();
    for (let i = 0; i < 20; i++) a.q.push(msg(i), true);
    vi.advanceTimersByTime(999);
    expect(a.events).toEqual([]);
    vi.advanceTimersByTime(2);
    expect(a.events).toEqual(['sendq stuck']);
    const b = setup();
    b.q.pause();
    for (let i = 0; i < 20; i++) b.q.push(msg(i), true);
    vi.advanceTimersByTime(500);
    b.q.resume();
    vi.advanceTimersByTime(5000);
    expect(b.events).toEqual([]);
    a.q.close();
    b.q.close();
  });

  it('trims in O(1) behind a message it cannot drop: holes do not pile up', () => {
    // Regression: with a non-droppable message at the head (a /msg or a join notice queued for a
    // member that stopped reading), every push rescanned every hole left by earlier drops, so a
    // busy room made fan-out quadratic and stalled the server (100k pushes took ~7 s).
    const { q, written, dropped } = setup({ soft: 1_000, hard: 100_000, stuckMs: 60_000 });
    q.pause();
    q.push(msg(200, 5), false);
    const n = 100_000;
    for (let i = 0; i < n; i++) q.push(msg(i % 200, 10), true);
    expect(q.length).toBeLessThanOrEqual(101);
    expect(q.slots).toBeLessThanOrEqual(2 * q.length + 1024);
    expect(q.size).toBeLessThanOrEqual(1_000);
    q.push(msg(201, 5), false);
    q.resume();
    const ids = written.map((b) => b[0]);
    expect(ids[0]).toBe(109); // 'missed N' notice first ('m')
    expect(ids[1]).toBe(200); // the non-droppable head is kept, in order
    expect(ids[ids.length - 1]).toBe(201);
    expect(written.length - 1 + dropped()).toBe(n + 2);
    q.close();
  });

  it('keeps order across hole squeezing with scattered non-droppable messages', () => {
    const { q, written, dropped } = setup({ soft: 2_000, hard: 1_000_000, stuckMs: 60_000 });
    const tagged = (id: number, keep: boolean) => {
      const b = new Uint8Array(keep ? 8 : 20);
      new DataView(b.buffer).setUint32(0, id);
      b[4] = keep ? 1 : 0;
      return b;
    };
    q.pause();
    let id = 0;
    const kept: number[] = [];
    for (let k = 0; k < 50_000; k++) {
      const keep = k % 997 === 0;
      if (keep) kept.push(id);
      q.push(tagged(id++, keep), !keep);
      if (k % 20_011 === 20_010) {
        q.resume(); // a brief read in between
        q.pause();
      }
    }
    expect(q.slots).toBeLessThanOrEqual(2 * q.length + 1024);
    q.resume();
    const ids = written
      .filter((b) => b[0] === 0) // not a 'missed N' notice
      .map((b) => new DataView(b.buffer, b.byteOffset).getUint32(0));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    for (const k of kept) expect(ids).toContain(k);
    expect(ids.length + dropped()).toBe(id);
    q.close();
  });

  it('keeps order, bounds memory and accounts for every message (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ push: fc.integer({ min: 1, max: 40 }), drop: fc.boolean() }),
            fc.constantFrom('pause', 'resume'),
          ),
          {
            maxLength: 200,
          },
        ),
        (ops) => {
          const { q, written, events, dropped } = setup({ soft: 100, hard: 10_000, stuckMs: 60_000 });
          let id = 0;
          let pushed = 0;
          let droppableOnly = true;
          for (const op of ops) {
            if (op === 'pause') q.pause();
            else if (op === 'resume') q.resume();
            else {
              const b = new Uint8Array(op.push + 2);
              new DataView(b.buffer).setUint16(0, ++id);
              q.push(b, op.drop);
              pushed++;
              if (op.drop) droppableOnly &&= true;
              else droppableOnly = false;
              // With only droppable traffic the queue never holds more than soft.
              if (droppableOnly) expect(q.size).toBeLessThanOrEqual(100);
              // Dropped messages do not pile up as holes.
              expect(q.slots).toBeLessThanOrEqual(2 * q.length + 1024);
            }
          }
          q.resume();
          const delivered = written.filter(
            (b) => !(b.length >= 6 && new TextDecoder().decode(b).startsWith('missed')),
          );
          expect(delivered.length + dropped()).toBe(pushed);
          const ids = delivered.map((b) => new DataView(b.buffer, b.byteOffset).getUint16(0));
          expect(ids).toEqual([...ids].sort((x, y) => x - y));
          expect(events).toEqual([]);
          q.close();
        },
      ),
      { numRuns: 200 },
    );
  });
});
