import type { HistoryEntry, HistoryQuery, HistoryStore } from '../bus.js';
import type { Hub, Outgoing } from './hub.js';

function entry(out: Outgoing): HistoryEntry | null {
  const ev = out.ev;
  if (ev.t !== 'msg') return null;
  return {
    msgid: out.msgid,
    time: out.time,
    room: ev.room,
    nick: ev.nick,
    user: ev.user,
    host: ev.host,
    text: ev.text,
    kind: ev.kind,
  };
}

/**
 * The {@link HistoryStore} of a bus without one (the memory bus): each room's replay buffer (the
 * last `history` messages). Bounds are exclusive; a msgid bound is located by position, so two
 * messages in the same millisecond still page correctly.
 */
export function localHistory(hub: Hub): HistoryStore {
  const entries = (name: string): HistoryEntry[] => {
    const room = hub.room(name);
    if (room === undefined) return [];
    const out: HistoryEntry[] = [];
    for (const o of hub.recent(room)) {
      const e = entry(o);
      if (e !== null) out.push(e);
    }
    return out;
  };
  return {
    cached: entries,
    async query(name: string, q: HistoryQuery): Promise<HistoryEntry[]> {
      const list = entries(name);
      const limit = Math.max(0, Math.floor(q.limit));
      // Index of the first entry after the bound (after) / of the first entry not before it (before).
      const start = (b: number | { msgid: string }): number => {
        if (typeof b === 'number') {
          const k = list.findIndex((e) => e.time > b);
          return k === -1 ? list.length : k;
        }
        const k = list.findIndex((e) => e.msgid === b.msgid);
        return k === -1 ? -1 : k + 1;
      };
      const end = (b: number | { msgid: string }): number => {
        if (typeof b === 'number') {
          const k = list.findIndex((e) => e.time >= b);
          return k === -1 ? list.length : k;
        }
        return list.findIndex((e) => e.msgid === b.msgid);
      };
      const lo = q.after === undefined ? 0 : start(q.after);
      const hi = q.before === undefined ? list.length : end(q.before);
      // An unknown msgid matches nothing rather than everything.
      if (lo === -1 || hi === -1 || lo >= hi || limit === 0) return [];
      const range = list.slice(lo, hi);
      return q.after !== undefined && q.before === undefined ? range.slice(0, limit) : range.slice(-limit);
    },
  };
}
