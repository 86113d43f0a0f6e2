import type { BusEvent, HistoryEntry, HistoryQuery, HistoryStore } from '../../../bus.js';
import { foldCase } from '../../casemap.js';
import { Outgoing } from '../../hub.js';
import type { IrcConn } from '../../irc-conn.js';
import { encodeIrcTagged } from '../../irc-encode.js';
import { formatIrcMessage as fmt } from '../../irc-message.js';
import { localHistory } from '../../local-history.js';
import { CHATHISTORY_MAX, STATUS } from '../isupport.js';
import type { IrcCommand } from './types.js';

/** A history store that answers for private conversations too. */
type DmStore = Required<Pick<HistoryStore, 'queryPrivate' | 'privateTargets'>>;

/** A message reference: a time in ms (`timestamp=`) or a msgid (`msgid=`). */
type Ref = number | { msgid: string };

/** Far enough in the future to bound "newest after X" as a range. */
const FAR = 8.64e15;

function ref(s: string | undefined): Ref | null {
  if (s === undefined) return null;
  if (s.startsWith('msgid=') && s.length > 6) return { msgid: s.slice(6) };
  if (s.startsWith('timestamp=')) {
    const t = Date.parse(s.slice(10));
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

function fail(c: IrcConn, code: string, context: string[], text: string): void {
  c.send(fmt(c.ctx.opts.serverName, 'FAIL', ['CHATHISTORY', code, ...context, text], true));
}

/** One target's history: a room's, or the requester's conversation with a nick. */
type Query = (q: HistoryQuery) => Promise<HistoryEntry[]>;

/** Entries before and after `at`, at most `limit`, the referenced message included. */
async function around(query: Query, at: Ref, limit: number): Promise<HistoryEntry[]> {
  const half = Math.floor(limit / 2);
  // At least one before, so a msgid reference can be re-entered from its predecessor (and kept).
  const before = await query({ before: at, limit: Math.max(1, half) });
  const kept = half === 0 ? [] : before.slice(-half);
  const rest = limit - kept.length;
  let after: HistoryEntry[];
  if (typeof at === 'number') after = await query({ after: at, limit: rest });
  else if (before.length > 0) after = await query({ after: { msgid: before.at(-1)!.msgid }, limit: rest });
  else {
    // Nothing before it: the referenced message, if it exists, is the first.
    after = await query({ after: 0, limit: rest });
    if (after[0]?.msgid !== at.msgid) after = [];
  }
  return [...kept, ...after];
}

/** Messages strictly between `from` and `to`, starting from `from`, in either direction. */
async function between(query: Query, from: Ref, to: Ref, limit: number): Promise<HistoryEntry[]> {
  const forward = await query({ after: from, before: to, limit });
  if (forward.length === 0) return query({ after: to, before: from, limit });
  if (forward.length < limit) return forward;
  // More than `limit` in range: the ones right after `from`, up to `to`.
  const first = await query({ after: from, limit });
  const k =
    typeof to === 'number'
      ? first.findIndex((e) => e.time >= to)
      : first.findIndex((e) => e.msgid === to.msgid);
  return k === -1 ? first : first.slice(0, k);
}

/**
 * CHATHISTORY TARGETS: the rooms the client is in and the nicks it exchanged private messages with,
 * each with its newest message between two times, oldest first.
 */
async function targets(
  c: IrcConn,
  store: HistoryStore,
  dms: DmStore,
  a: number,
  b: number,
  limit: number,
): Promise<void> {
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  const found: Array<[string, number]> = [];
  for (const room of c.rooms) {
    const last = await store.query(room.name, { after: lo, before: hi, limit: 1 });
    if (last[0] !== undefined) found.push([room.name, last[0].time]);
  }
  for (const t of await dms.privateTargets(c.ctx.hub.historyOwner(c), lo, hi)) found.push([t.peer, t.time]);
  found.sort((x, y) => x[1] - y[1]);
  const srv = c.ctx.opts.serverName;
  const lines = found
    .slice(0, limit)
    .map(([name, t]) => fmt(srv, 'CHATHISTORY', ['TARGETS', name, new Date(t).toISOString()]));
  c.batch('draft/chathistory-targets', [], lines);
}

const NEEDS: Record<string, number> = { LATEST: 4, BEFORE: 4, AFTER: 4, AROUND: 4, BETWEEN: 5, TARGETS: 4 };

/**
 * IRCv3 `draft/chathistory`: LATEST, BEFORE, AFTER, AROUND, BETWEEN (msgid= and timestamp=
 * references) and TARGETS, answered in a `chathistory` batch from the bus's history store (or this
 * node's replay buffer). A room's history is given to its members only, and a nick's is the
 * requester's own conversation with it; any other target gets an empty batch, so the reply never
 * tells whether a room exists.
 */
async function chathistory(c: IrcConn, p: string[]): Promise<void> {
  const sub = (p[0] ?? '').toUpperCase();
  const need = NEEDS[sub];
  if (need === undefined) return fail(c, 'UNKNOWN_COMMAND', [sub || '*'], 'Unknown command');
  if (p.length < need) return fail(c, 'NEED_MORE_PARAMS', [sub], 'Missing parameters');
  const limitText = p[need - 1]!;
  const asked = /^\d{1,9}$/.test(limitText) ? Number(limitText) : 0;
  if (asked < 1) return fail(c, 'INVALID_PARAMS', [sub, limitText], 'Invalid limit');
  const limit = Math.min(asked, CHATHISTORY_MAX);
  const hub = c.ctx.hub;
  const store = hub.bus?.history ?? localHistory(hub);
  // A bus store without private history leaves it to this node's bounded memory.
  const dms: DmStore =
    store.queryPrivate !== undefined && store.privateTargets !== undefined
      ? (store as DmStore)
      : localHistory(hub);
  try {
    if (sub === 'TARGETS') {
      const a = ref(p[1]);
      const b = ref(p[2]);
      if (typeof a !== 'number' || typeof b !== 'number')
        return fail(c, 'INVALID_PARAMS', [sub], 'TARGETS takes two timestamp= references');
      return await targets(c, store, dms, a, b, limit);
    }
    const target = p[1]!;
    if (target === '' || target === '*' || /[\s,]/.test(target))
      return fail(c, 'INVALID_TARGET', [sub, target || '*'], 'Invalid target');
    const first = sub === 'LATEST' && p[2] === '*' ? null : ref(p[2]);
    const second = sub === 'BETWEEN' ? ref(p[3]) : null;
    if ((first === null && !(sub === 'LATEST' && p[2] === '*')) || (sub === 'BETWEEN' && second === null))
      return fail(c, 'INVALID_PARAMS', [sub, p[2]!], 'Invalid message reference');
    const isRoom = target.startsWith('#');
    const room = isRoom ? hub.room(target) : undefined;
    const owner = hub.historyOwner(c);
    let query: Query | null = null;
    if (room?.members.has(c)) query = (q) => store.query(room.name, q);
    // A nick: the requester's own conversation with it, whoever holds that nick now.
    else if (!isRoom && !STATUS.includes(target[0]!)) query = (q) => dms.queryPrivate(owner, target, q);
    let entries: HistoryEntry[] = [];
    if (query !== null) {
      if (sub === 'LATEST')
        entries = await query(first === null ? { limit } : { after: first, before: FAR, limit });
      else if (sub === 'BEFORE') entries = await query({ before: first!, limit });
      else if (sub === 'AFTER') entries = await query({ after: first!, limit });
      else if (sub === 'AROUND') entries = await around(query, first!, limit);
      else entries = await between(query, first!, second!, limit);
    }
    if (c.closing) return;
    const srv = c.ctx.opts.serverName;
    const lines: string[] = [];
    for (const e of entries) {
      const who = { nick: e.nick, user: e.user, host: e.host, text: e.text, kind: e.kind };
      const ev: BusEvent = isRoom
        ? { t: 'msg', room: e.room, ...who }
        : { t: 'priv', to: foldCase(e.room), ...who };
      // A private line names its recipient as sent: the peer for the requester's own messages.
      const line = encodeIrcTagged(new Outgoing(ev, e.time, e.msgid), c.nick, c.tagMask, srv, '', e.room);
      if (line !== '') lines.push(line);
    }
    c.batch('chathistory', [room?.name ?? target], lines);
  } catch (err) {
    c.ctx.log(`chathistory for ${c.nick} failed: ${(err as Error).message}`);
    fail(c, 'MESSAGE_ERROR', [sub, p[1] ?? '*'], 'Messages could not be retrieved');
  }
}

export const history: Record<string, IrcCommand> = {
  CHATHISTORY: { run: (c, m) => chathistory(c, m.params) },
};
