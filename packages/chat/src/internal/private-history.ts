import type { HistoryEntry, PrivateTarget } from '../bus.js';
import { foldCase } from './casemap.js';
import type { Outgoing } from './hub.js';

/** Conversations kept per node, across every member (the least recently active go first). */
export const PRIVATE_VIEWS_MAX = 4096;

/** One member's view of its conversation with one nick: a ring of the last `size` messages. */
interface View {
  peer: string;
  entries: HistoryEntry[];
  head: number;
  last: number;
}

/**
 * Private-message history on one node, kept per owner (the member's account, or its session when
 * it is not logged in) and per peer nick. A member only ever reads its own views, so a nick taken
 * over by someone else never shows them the previous holder's messages; a session's views go when
 * it quits. Bounded by `size` messages per view and {@link PRIVATE_VIEWS_MAX} views.
 */
export class PrivateHistory {
  readonly #size: number;
  readonly #max: number;
  /** `owner \0 folded peer` -> view; Map order is recency (touched views move to the end). */
  readonly #views = new Map<string, View>();
  /** owner -> its view keys, for TARGETS and for dropping a session. */
  readonly #byOwner = new Map<string, Set<string>>();

  constructor(size: number, max = PRIVATE_VIEWS_MAX) {
    this.#size = size;
    this.#max = max;
  }

  get views(): number {
    return this.#views.size;
  }

  /** Records `out` (a private message to `to`, display form) in `owner`'s view of `peer`. */
  record(owner: string, peer: string, to: string, out: Outgoing): void {
    const ev = out.ev;
    if (this.#size <= 0 || ev.t !== 'priv' || ev.kind === 'notice') return;
    const key = `${owner}\0${foldCase(peer)}`;
    let v = this.#views.get(key);
    if (v === undefined) {
      v = { peer, entries: [], head: 0, last: 0 };
      let keys = this.#byOwner.get(owner);
      if (keys === undefined) this.#byOwner.set(owner, (keys = new Set()));
      keys.add(key);
    } else {
      this.#views.delete(key);
    }
    this.#views.set(key, v);
    v.peer = peer;
    v.last = out.time;
    const e: HistoryEntry = {
      msgid: out.msgid,
      time: out.time,
      room: to,
      nick: ev.nick,
      user: ev.user,
      host: ev.host,
      text: ev.text,
      kind: ev.kind,
    };
    if (v.entries.length < this.#size) v.entries.push(e);
    else {
      v.entries[v.head] = e;
      v.head = (v.head + 1) % v.entries.length;
    }
    while (this.#views.size > this.#max) this.#evict(this.#views.keys().next().value!);
  }

  /** `owner`'s messages with `peer`, oldest first. */
  entries(owner: string, peer: string): HistoryEntry[] {
    const v = this.#views.get(`${owner}\0${foldCase(peer)}`);
    if (v === undefined) return [];
    const out: HistoryEntry[] = [];
    for (let k = 0; k < v.entries.length; k++) out.push(v.entries[(v.head + k) % v.entries.length]!);
    return out;
  }

  /** Peers of `owner` with a message in (`after`, `before`), the most recent time of each. */
  targets(owner: string, after: number, before: number): PrivateTarget[] {
    const out: PrivateTarget[] = [];
    for (const key of this.#byOwner.get(owner) ?? []) {
      const v = this.#views.get(key)!;
      let newest = -1;
      for (const e of v.entries) if (e.time > after && e.time < before && e.time > newest) newest = e.time;
      if (newest !== -1) out.push({ peer: v.peer, time: newest });
    }
    return out;
  }

  /** Forgets every view of `owner` (a session that quit). */
  drop(owner: string): void {
    for (const key of [...(this.#byOwner.get(owner) ?? [])]) this.#evict(key);
  }

  #evict(key: string): void {
    this.#views.delete(key);
    const owner = key.slice(0, key.indexOf('\0'));
    const keys = this.#byOwner.get(owner);
    keys?.delete(key);
    if (keys?.size === 0) this.#byOwner.delete(owner);
  }
}
