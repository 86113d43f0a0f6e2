import type { Redis } from 'ioredis';
import type { BusEvent, HistoryEntry, HistoryQuery, HistoryStore } from '../bus.js';
import { foldCase } from './casemap.js';

/** Entries per room kept in memory for join replay (the hub replays at most its `history`). */
const CACHE_PER_ROOM = 100;
const CACHE_ROOMS = 10_000;
const KINDS = new Set<string>(['say', 'action', 'notice']);
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const BAD = /[\x00\x04-\x08\x0a-\x0e\x10\x12-\x15\x17-\x1c\x7f-\x9f]/;

/** Parses one stored entry, or null when it is not one we wrote (anyone can XADD). */
export function parseEntry(raw: string | undefined): HistoryEntry | null {
  if (raw === undefined || raw.length > 16_384) return null;
  let e: Partial<HistoryEntry>;
  try {
    e = JSON.parse(raw) as Partial<HistoryEntry>;
  } catch {
    return null;
  }
  if (typeof e !== 'object' || e === null) return null;
  for (const k of ['msgid', 'room', 'nick', 'user', 'host', 'text'] as const) {
    if (typeof e[k] !== 'string' || BAD.test(e[k])) return null;
  }
  if (typeof e.time !== 'number' || !KINDS.has(e.kind as string)) return null;
  return e as HistoryEntry;
}

function field(fields: string[], name: string): string | undefined {
  for (let k = 0; k + 1 < fields.length; k += 2) if (fields[k] === name) return fields[k + 1];
  return undefined;
}

/**
 * Room history in one Redis stream per room (`<prefix>:history:<folded room>`), written by the
 * node whose member spoke, read by all. A per-room cache of the newest entries (loaded at attach,
 * fed by every message the node sees) serves the synchronous join replay.
 */
export class RedisHistory implements HistoryStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #cache = new Map<string, HistoryEntry[]>();
  readonly #validate: (e: HistoryEntry) => boolean;

  constructor(redis: Redis, prefix: string, validate: (e: HistoryEntry) => boolean) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#validate = validate;
  }

  key(room: string): string {
    return `${this.#prefix}:history:${foldCase(room)}`;
  }

  /** Fills the cache from Redis (every room with stored history). */
  async load(): Promise<void> {
    let cursor = '0';
    const pattern = `${this.#prefix}:history:*`;
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        if (this.#cache.size >= CACHE_ROOMS) return;
        const rows = (await this.#redis.xrevrange(key, '+', '-', 'COUNT', CACHE_PER_ROOM)) as Array<
          [string, string[]]
        >;
        const entries = this.#entries(rows.reverse());
        const room = entries[0]?.room;
        if (room !== undefined) this.#cache.set(foldCase(room), entries);
      }
    } while (cursor !== '0');
  }

  /** Records a message this node saw (its own or another node's) in the cache. */
  remember(e: HistoryEntry): void {
    const folded = foldCase(e.room);
    let list = this.#cache.get(folded);
    if (list === undefined) {
      if (this.#cache.size >= CACHE_ROOMS) return;
      this.#cache.set(folded, (list = []));
    }
    if (list.length > 0 && list[list.length - 1]!.msgid === e.msgid) return;
    list.push(e);
    if (list.length > CACHE_PER_ROOM) list.splice(0, list.length - CACHE_PER_ROOM);
  }

  cached(room: string): readonly HistoryEntry[] {
    return this.#cache.get(foldCase(room)) ?? [];
  }

  async query(room: string, q: HistoryQuery): Promise<HistoryEntry[]> {
    const limit = Math.max(0, Math.min(Math.floor(q.limit), 1_000));
    if (limit === 0) return [];
    if (this.#redis.status !== 'ready') return this.#fromCache(room, q, limit);
    const key = this.key(room);
    const bound = async (b: number | { msgid: string } | undefined, dflt: string): Promise<string> => {
      if (b === undefined) return dflt;
      if (typeof b === 'number') return `${Math.max(0, Math.floor(b))}`;
      const id = await this.#idOf(key, b.msgid);
      return id ?? dflt;
    };
    // Exclusive bounds ('(' needs Redis 6.2): a time bound excludes that whole millisecond.
    const lo = await bound(q.after, '-');
    const hi = await bound(q.before, '+');
    const loArg = lo === '-' ? '-' : typeof q.after === 'number' ? `(${lo}-18446744073709551615` : `(${lo}`;
    const hiArg = hi === '+' ? '+' : `(${hi}`;
    let rows: Array<[string, string[]]>;
    if (q.after !== undefined && q.before === undefined) {
      rows = (await this.#redis.xrange(key, loArg, hiArg, 'COUNT', limit)) as Array<[string, string[]]>;
    } else {
      rows = (await this.#redis.xrevrange(key, hiArg, loArg, 'COUNT', limit)) as Array<[string, string[]]>;
      rows.reverse();
    }
    return this.#entries(rows);
  }

  async #idOf(key: string, msgid: string): Promise<string | null> {
    // Streams are bounded (historyLength), so a scan of ids and msgids is bounded too.
    const rows = (await this.#redis.xrevrange(key, '+', '-', 'COUNT', 10_000)) as Array<[string, string[]]>;
    for (const [id, fields] of rows) if (parseEntry(field(fields, 'e'))?.msgid === msgid) return id;
    return null;
  }

  #entries(rows: Array<[string, string[]]>): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    const seen = new Set<string>();
    for (const [, fields] of rows) {
      const e = parseEntry(field(fields, 'e'));
      // A retried write can store one message twice; hostile writers can store anything.
      if (e === null || seen.has(e.msgid) || !this.#validate(e)) continue;
      seen.add(e.msgid);
      out.push(e);
    }
    return out;
  }

  #fromCache(room: string, q: HistoryQuery, limit: number): HistoryEntry[] {
    let list = [...this.cached(room)];
    const at = (b: number | { msgid: string }) =>
      typeof b === 'number' ? b : (list.find((e) => e.msgid === b.msgid)?.time ?? Number.NaN);
    if (q.after !== undefined) {
      const t = at(q.after);
      list = list.filter((e) => e.time > t);
    }
    if (q.before !== undefined) {
      const t = at(q.before);
      list = list.filter((e) => e.time < t);
    }
    return q.after !== undefined && q.before === undefined ? list.slice(0, limit) : list.slice(-limit);
  }
}

/** A history entry from a bus `msg` event. */
export function entryOf(ev: Extract<BusEvent, { t: 'msg' }>, fallbackId: string): HistoryEntry {
  return {
    msgid: ev.msgid ?? fallbackId,
    time: ev.time ?? Date.now(),
    room: ev.room,
    nick: ev.nick,
    user: ev.user,
    host: ev.host,
    text: ev.text,
    kind: ev.kind,
  };
}
