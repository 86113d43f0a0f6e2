import type { HistoryEntry, HistoryQuery, HistoryStore, PrivateTarget } from '../bus.js';
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

/** The part of `list` (oldest first) that `q` asks for; bounds are exclusive. */
export function sliceQuery(list: HistoryEntry[], q: HistoryQuery): HistoryEntry[] {
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
}

/**
 * The {@link HistoryStore} of a bus without one (the memory bus): each room's replay buffer (the
 * last `history` messages), and each member's private conversations (`hub.privateLog`). Bounds are
 * exclusive; a msgid bound is located by position, so two messages in the same millisecond still
 * page correctly.
 */
export function localHistory(hub: Hub): Required<HistoryStore> {
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
      return sliceQuery(entries(name), q);
    },
    async queryPrivate(owner: string, peer: string, q: HistoryQuery): Promise<HistoryEntry[]> {
      return sliceQuery(hub.privateLog.entries(owner, peer), q);
    },
    async privateTargets(owner: string, after: number, before: number): Promise<PrivateTarget[]> {
      return hub.privateLog.targets(owner, after, before);
    },
  };
}
