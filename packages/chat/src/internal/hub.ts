import type { BusEvent, BusNode, HistoryEntry, MsgKind, StampedEvent } from '../bus.js';
import { foldCase } from './casemap.js';
import { normalizeMask, validMask } from './masks.js';
import { presenceDigest } from './presence.js';
import { PrivateHistory } from './private-history.js';
import { FLAG_MODES, type RemoteNick, Room } from './room.js';

export { Room } from './room.js';

let msgSeq = 0;
const msgBase = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/**
 * One event on its way to many members, encoded at most once per protocol and, for IRC, once
 * per distinct set of tag capabilities (`tagged`), never per recipient.
 */
export class Outgoing {
  readonly ev: BusEvent;
  /** Encoded bytes per protocol kind (0 plain, 1 irc without tags). */
  readonly enc: [Uint8Array | undefined, Uint8Array | undefined] = [undefined, undefined];
  /** IRC encodings keyed by the recipient's tag mask (server-time, msgid, account-tag, ...). */
  tagged: Map<number, Uint8Array> | null = null;
  /** When the server accepted it (server-time, history). */
  readonly time: number;
  /** IRCv3 msgid: unique per event on this node. */
  readonly msgid: string;
  /** Client-only tags (`+draft/reply=...`) relayed to message-tags clients, already escaped. */
  clientTags = '';
  /** Sender's account for account-tag, '' when not logged in. */
  account = '';
  constructor(ev: BusEvent, time = Date.now(), msgid?: string) {
    this.ev = ev;
    this.time = time;
    // A message from another node keeps its sender's msgid, so every node (and history) agree.
    this.msgid = msgid ?? `${msgBase}-${(++msgSeq).toString(36)}`;
  }
}

/** A locally connected client as the hub sees it. */
export interface HubMember {
  readonly id: number;
  readonly kind: 0 | 1;
  nick: string;
  folded: string;
  user: string;
  host: string;
  readonly rooms: Set<Room>;
  /** True once the member is disconnecting; a nick claim that completes after that is undone. */
  readonly closing: boolean;
  /** Only registered members are visible (WHOIS, private messages). */
  registered: boolean;
  realname: string;
  /** Away message, '' when present. */
  away: string;
  /** User modes set (`i`, `w`, `o`). */
  readonly umodes: Set<string>;
  /** Account name, '' when not logged in. */
  account: string;
  /** Connected over TLS. */
  readonly secure: boolean;
  /** Ms since epoch of registration and of the last message (WHOIS 317). */
  signon: number;
  lastActive: number;
  /** Encodes (or reuses the encoding of) an event and queues it; never awaits. */
  deliver(out: Outgoing, droppable: boolean): void;
  /** Disconnects the member on an operator's KILL. */
  kill(by: string, reason: string): void;
  /** `from` invited `target` to `room`; called on the target and on the room's ops. */
  invited(from: HubMember, room: Room, target: HubMember): void;
  /** A line from the server to this member alone, in its protocol's notice form. */
  tell?(text: string): void;
  /** The server renamed this member (nick ownership): show it its own rename and why. */
  forcedRename?(oldNick: string, why: string): void;
}

/** Why a join was refused (front ends map these to 471/473/474/475 or text). */
export type JoinRefusal = 'full' | 'invite-only' | 'banned' | 'bad-key';

/** One parsed mode change as applied or refused. */
export interface ModeChange {
  add: boolean;
  mode: string;
  arg?: string;
}

/** A refused piece of a MODE request. */
export type ModeProblem =
  | { code: 'unknown'; mode: string }
  | { code: 'not-op' }
  | { code: 'no-such-nick'; nick: string }
  | { code: 'not-on-channel'; nick: string }
  | { code: 'need-param'; mode: string }
  | { code: 'key-set' }
  | { code: 'list-full'; mode: string; mask: string };

/** A WHOWAS entry. */
export interface WasEntry {
  nick: string;
  user: string;
  host: string;
  realname: string;
  at: number;
}

export interface HubCounters {
  messagesIn: number;
  messagesOut: number;
}

/** A remote member hidden behind a member here with the same nick, and the rooms it is in. */
interface Shadowed {
  nick: string;
  node: string;
  /** By folded room name. */
  rooms: Map<string, { name: string; op: boolean; voice: boolean }>;
}

/**
 * The hub: rooms, nicks and fan-out for one node, fed by local front ends and by the bus.
 * Fan-out is synchronous: encode once per protocol, enqueue per member, never await.
 */
export class Hub {
  readonly rooms = new Map<string, Room>();
  readonly members = new Map<string, HubMember>();
  readonly remoteNicks = new Map<string, RemoteNick>();
  readonly counters: HubCounters = { messagesIn: 0, messagesOut: 0 };
  readonly #historySize: number;
  readonly #log: (line: string) => void;
  readonly #lastSeq = new Map<string, number>();
  readonly #lastSeen = new Map<string, number>();
  /**
   * Remote members whose nick a member here holds (a split brain the registry is resolving), by
   * folded nick: kept out of rooms, so no one here sees that nick twice or sees it join, until one
   * of the two is renamed or leaves. Bounded by the remote nicks themselves.
   */
  readonly #shadowed = new Map<string, Shadowed>();
  /** Recent nicks that quit or renamed, newest last, bounded (WHOWAS). */
  readonly whowas: WasEntry[] = [];
  bus: BusNode | null = null;
  /** Most `+b`, `+e` and `+I` entries one room holds together (MAXLIST; 478 beyond). */
  maxListEntries = 100;
  missedRemote = 0;
  /** Presence exchanges asked for (an event from a node we had dropped, or a digest that differs). */
  resyncs = 0;
  readonly #syncAsked = new Map<string, number>();

  /** Private-message history per member and peer (CHATHISTORY for nicks), bounded like rooms'. */
  readonly privateLog: PrivateHistory;

  constructor(historySize: number, log: (line: string) => void) {
    this.#historySize = historySize;
    this.privateLog = new PrivateHistory(historySize);
    this.#log = log;
  }

  owner(m: HubMember): string {
    return `${this.bus?.nodeId ?? 'local'}/${m.id}`;
  }

  /** Whether a folded nick is held here or on another node. */
  nickTaken(folded: string, by: HubMember | null): boolean {
    const local = this.members.get(folded);
    if (local !== undefined && local !== by) return true;
    return this.remoteNicks.has(folded);
  }

  /**
   * Claims `nick` for `m` (registration or rename) through the bus registry; on success the hub
   * knows `m` under the new nick (setting `m.nick`/`m.folded`) and releases the old one.
   * Returns false when taken.
   */
  async claimNick(m: HubMember, nick: string): Promise<boolean> {
    const folded = foldCase(nick);
    if (this.nickTaken(folded, m)) return false;
    let ok = true;
    let claimed = false;
    if (this.bus !== null && folded !== m.folded) {
      claimed = true;
      try {
        ok = await this.bus.claimNick(folded, this.owner(m));
      } catch (err) {
        // A nick is only granted with a confirmed lease. A rename waits for the registry; a
        // registration gets a guest nick now and the one it asked for once the lease is confirmed.
        this.#log(`nick registry unreachable for "${nick}": ${(err as Error).message}`);
        if (m.folded !== '' || m.closing) return false;
        return this.#guest(m, nick);
      }
    }
    // The member may have disconnected while the registry answered: its quit has already run, so
    // taking the nick now would hold it (and a ghost member) forever.
    if (!ok || m.closing || this.nickTaken(folded, m)) {
      if (ok && claimed) this.bus?.releaseNick(folded, this.owner(m));
      return false;
    }
    const old = m.folded;
    if (old !== '' && this.members.get(old) === m) {
      this.members.delete(old);
      if (old !== folded) this.bus?.releaseNick(old, this.owner(m));
    }
    this.members.set(folded, m);
    m.nick = nick;
    m.folded = folded;
    return true;
  }

  room(name: string): Room | undefined {
    return this.rooms.get(foldCase(name));
  }

  /** Registers `m` under a free `GuestNNNN` (local only) and keeps claiming `wanted` for it. */
  #guest(m: HubMember, wanted: string): boolean {
    let nick: string;
    do nick = `Guest${1000 + Math.floor(Math.random() * 9000)}`;
    while (this.nickTaken(foldCase(nick), m));
    this.members.set(foldCase(nick), m);
    m.nick = nick;
    m.folded = foldCase(nick);
    const guest = m.folded;
    const retry = async (): Promise<void> => {
      if (m.closing || m.folded !== guest || this.members.get(guest) !== m) return;
      if (!m.registered) {
        setTimeout(() => void retry(), 200).unref();
        return;
      }
      if (this.nickTaken(foldCase(wanted), m)) {
        this.#notice(m, `nick "${wanted}" is taken; you stay ${m.nick}`);
        return;
      }
      let ok: boolean;
      try {
        ok = (await this.bus?.claimNick(foldCase(wanted), this.owner(m))) ?? true;
      } catch {
        setTimeout(() => void retry(), 500).unref();
        return;
      }
      if (m.closing || m.folded !== guest) {
        if (ok) this.bus?.releaseNick(foldCase(wanted), this.owner(m));
        return;
      }
      if (ok && this.nickTaken(foldCase(wanted), m)) {
        this.bus?.releaseNick(foldCase(wanted), this.owner(m));
        ok = false;
      }
      if (!ok) {
        this.#notice(m, `nick "${wanted}" is taken; you stay ${m.nick}`);
        return;
      }
      this.#forceRename(m, wanted, `the nick registry confirmed "${wanted}"; you are now ${wanted}`);
    };
    setTimeout(() => void retry(), 0).unref();
    setTimeout(
      () =>
        this.#notice(m, `the nick registry is unreachable: you are ${nick} until "${wanted}" is confirmed`),
      0,
    ).unref();
    return true;
  }

  /** A server notice to one member (guest nicks, conflicts). */
  #notice(m: HubMember, text: string): void {
    if (m.closing) return;
    m.deliver(
      new Outgoing({ t: 'priv', to: m.folded, nick: '', user: '', host: '', text, kind: 'notice' }),
      false,
    );
  }

  /** Renames `m` without asking it (guest upgrade, conflict): it sees its own NICK, then a notice. */
  #forceRename(m: HubMember, nick: string, why: string): void {
    const old = m.nick;
    const ev: BusEvent = {
      t: 'nick',
      nick: old,
      user: m.user,
      host: m.host,
      newNick: nick,
      rooms: [...m.rooms].map((r) => r.name),
    };
    this.members.delete(m.folded);
    this.members.set(foldCase(nick), m);
    m.nick = nick;
    m.folded = foldCase(nick);
    for (const room of m.rooms) room.snapshot = null;
    m.deliver(new Outgoing(ev), false);
    this.#remembered({ ...m, nick: old } as HubMember);
    this.#toRoomsOnce(m.rooms, new Outgoing(ev), m);
    this.bus?.publish(ev);
    this.#notice(m, why);
    this.#released(foldCase(old));
  }

  /**
   * The registry gave `folded` to an older session on another node (a split brain healed): the
   * member here that held it becomes a guest, told why. Both nodes apply the same rule.
   */
  nickLost(folded: string, owner: string): void {
    const m = this.members.get(folded);
    if (m === undefined || this.owner(m) !== owner) return;
    let nick: string;
    do nick = `Guest${1000 + Math.floor(Math.random() * 9000)}`;
    while (this.nickTaken(foldCase(nick), m));
    this.#forceRename(
      m,
      nick,
      `nick "${m.nick}" belongs to an older session on another node; you are now ${nick}`,
    );
  }

  /** Seeds a new room's replay buffer from the bus's durable history (after restarts). */
  #seed(room: Room): void {
    const stored: readonly HistoryEntry[] = this.bus?.history?.cached(room.name) ?? [];
    if (stored.length === 0 || this.#historySize <= 0) return;
    for (const e of stored.slice(-this.#historySize)) {
      const ev: BusEvent = {
        t: 'msg',
        room: room.name,
        nick: e.nick,
        user: e.user,
        host: e.host,
        text: e.text,
        kind: e.kind,
      };
      this.#remember(room, new Outgoing(ev, e.time, e.msgid));
    }
  }

  /** Compact hash of this node's member set, sent in every heartbeat. */
  digest(): string {
    const pairs: string[] = [];
    for (const room of this.rooms.values())
      for (const m of room.members) pairs.push(`${room.folded} ${m.folded}`);
    for (const m of this.members.values()) if (m.registered) pairs.push(m.folded);
    return presenceDigest(pairs);
  }

  /** The same hash over what this node believes `node` holds. */
  #remoteDigest(node: string): string {
    const pairs: string[] = [];
    for (const room of this.rooms.values())
      for (const [folded, r] of room.remote) if (r.node === node) pairs.push(`${room.folded} ${folded}`);
    for (const [folded, r] of this.remoteNicks) if (r.node === node) pairs.push(folded);
    return presenceDigest(pairs);
  }

  /** Asks `node` for its presence, at most once per 500 ms. */
  #askSync(node: string, why: string): void {
    const now = Date.now();
    if (now - (this.#syncAsked.get(node) ?? 0) < 500) return;
    this.#syncAsked.set(node, now);
    this.resyncs++;
    this.#log(`presence of node ${node} re-synced: ${why}`);
    this.bus?.publish({ t: 'sync', to: node });
  }

  /** Announces a rename (after {@link claimNick} succeeded) to everyone sharing a room. */
  renamed(m: HubMember, oldNick: string): void {
    this.#remembered({ ...m, nick: oldNick } as HubMember);
    const ev: BusEvent = {
      t: 'nick',
      nick: oldNick,
      user: m.user,
      host: m.host,
      newNick: m.nick,
      rooms: [...m.rooms].map((r) => r.name),
    };
    this.#toRoomsOnce(m.rooms, new Outgoing(ev), m);
    this.bus?.publish(ev);
    this.#released(foldCase(oldNick));
  }

  /**
   * Joins `m` to a room, creating it (with `m` as its operator) when nobody is in it anywhere.
   * Returns the refusal when +l, +i, +b or +k keep `m` out; an invite passes +i, +l and +b, a
   * matching +I passes +i and a matching +e passes +b.
   */
  join(m: HubMember, name: string, key = ''): Room | JoinRefusal {
    const folded = foldCase(name);
    let room = this.rooms.get(folded);
    const fresh = room === undefined || room.size === 0;
    if (room === undefined) {
      room = new Room(name);
      this.rooms.set(folded, room);
      this.#seed(room);
    }
    if (m.rooms.has(room)) return room;
    if (!fresh) {
      const invited = room.invites.has(m.folded);
      if (room.key !== '' && key !== room.key) return 'bad-key';
      if (!invited) {
        if (room.limit > 0 && room.size >= room.limit) return 'full';
        if (room.flags.has('i') && !room.inviteExempt(m)) return 'invite-only';
        if (room.banned(m)) return 'banned';
      }
      room.invites.delete(m.folded);
    }
    const ev: BusEvent = {
      t: 'join',
      room: room.name,
      nick: m.nick,
      user: m.user,
      host: m.host,
      realname: m.realname,
    };
    this.#fanout(room, this.#out(ev, m), m, false);
    room.members.add(m);
    room.snapshot = null;
    m.rooms.add(room);
    this.bus?.publish(ev);
    if (fresh) {
      room.ops.add(m);
      // Other nodes learn the creator is op the same way they learn any op.
      this.bus?.publish({ ...this.#who(m), t: 'mode', room: room.name, modes: '+o', args: [m.nick] });
    }
    return room;
  }

  /** Recent messages of a room, oldest first. */
  recent(room: Room): Outgoing[] {
    const h = room.history;
    const out: Outgoing[] = [];
    for (let k = 0; k < h.length; k++) out.push(h[(room.historyHead + k) % h.length]!);
    return out;
  }

  /**
   * Applies channel mode changes from `m` (an op, or `null` for the server itself). Flag modes,
   * +k, +l, +b, +e, +I, +o, +v; the applied changes are announced once to the room and the bus.
   */
  mode(
    m: HubMember | null,
    room: Room,
    changes: ModeChange[],
  ): { applied: ModeChange[]; problems: ModeProblem[] } {
    const applied: ModeChange[] = [];
    const problems: ModeProblem[] = [];
    if (m !== null && !room.ops.has(m)) {
      problems.push({ code: 'not-op' });
      return { applied, problems };
    }
    for (const c of changes) {
      const r = this.#applyMode(room, c, m === null ? 'server' : `${m.nick}!${m.user}@${m.host}`, true);
      if (r === true) applied.push(c);
      else if (r !== false) problems.push(r);
    }
    if (applied.length > 0) {
      const [modes, args] = joinModes(applied);
      const ev: BusEvent = {
        ...(m === null ? { nick: '', user: '', host: '' } : this.#who(m)),
        t: 'mode',
        room: room.name,
        modes,
        args,
      };
      this.#fanout(room, new Outgoing(ev), null, false);
      this.bus?.publish(ev);
    }
    return { applied, problems };
  }

  /** Applies one change; `local` changes respect the list bound (a remote node already did). */
  #applyMode(room: Room, c: ModeChange, by: string, local = false): boolean | ModeProblem {
    switch (c.mode) {
      case 'o':
      case 'v': {
        if (c.arg === undefined) return { code: 'need-param', mode: c.mode };
        const target = this.members.get(foldCase(c.arg));
        if (target === undefined) {
          const remote = room.remote.get(foldCase(c.arg));
          if (remote !== undefined) {
            c.arg = remote.nick;
            const key = c.mode === 'o' ? 'op' : 'voice';
            if ((remote[key] === true) === c.add) return false;
            remote[key] = c.add;
            return true;
          }
          return this.remoteNicks.has(foldCase(c.arg))
            ? { code: 'not-on-channel', nick: c.arg }
            : { code: 'no-such-nick', nick: c.arg };
        }
        if (!room.members.has(target)) return { code: 'not-on-channel', nick: c.arg };
        c.arg = target.nick;
        const set = c.mode === 'o' ? room.ops : room.voiced;
        if (set.has(target) === c.add) return false;
        if (c.add) set.add(target);
        else set.delete(target);
        return true;
      }
      case 'b':
      case 'e':
      case 'I': {
        // A garbage mask (controls, commas, too long) is ignored, as a mask that matches nothing.
        if (c.arg === undefined || !validMask(c.arg)) return false;
        c.arg = normalizeMask(c.arg);
        if (!c.add) return room.removeBan(c.arg, c.mode);
        if (local && room.listEntries >= this.maxListEntries) {
          const f = foldCase(c.arg);
          if (room.list(c.mode).some((b) => foldCase(b.mask) === f)) return false;
          return { code: 'list-full', mode: c.mode, mask: c.arg };
        }
        return room.addBan(c.arg, by, c.mode);
      }
      case 'k':
        if (!c.add) {
          if (room.key === '') return false;
          c.arg = '*';
          room.key = '';
          return true;
        }
        if (c.arg === undefined || c.arg === '' || /[\s,]/.test(c.arg))
          return { code: 'need-param', mode: 'k' };
        if (room.key !== '') return { code: 'key-set' };
        room.key = c.arg;
        return true;
      case 'l': {
        if (!c.add) {
          if (room.limit === 0) return false;
          room.limit = 0;
          return true;
        }
        const n = Number(c.arg);
        if (!Number.isInteger(n) || n <= 0) return { code: 'need-param', mode: 'l' };
        if (room.limit === n) return false;
        room.limit = n;
        c.arg = String(n);
        return true;
      }
      default:
        if (!FLAG_MODES.includes(c.mode) || c.mode.length !== 1) return { code: 'unknown', mode: c.mode };
        if (room.flags.has(c.mode) === c.add) return false;
        if (c.add) room.flags.add(c.mode);
        else room.flags.delete(c.mode);
        return true;
    }
  }

  /** Removes `target` from a room by `m` (an op): 482/441 as refusals. */
  kick(m: HubMember, room: Room, targetNick: string, reason: string): 'not-op' | 'not-on-channel' | null {
    if (!room.ops.has(m)) return 'not-op';
    const folded = foldCase(targetNick);
    const target = this.members.get(folded);
    const remote = room.remote.get(folded);
    if ((target === undefined || !room.members.has(target)) && remote === undefined) return 'not-on-channel';
    const ev: BusEvent = {
      ...this.#who(m),
      t: 'kick',
      room: room.name,
      target: target?.nick ?? remote!.nick,
      reason,
    };
    this.#fanout(room, new Outgoing(ev), null, false);
    if (target !== undefined && room.members.has(target)) this.#leave(target, room);
    else room.remote.delete(folded);
    this.bus?.publish(ev);
    this.#maybeDrop(room);
    return null;
  }

  /** Lets `nick` past +i once; refusals as 401/443/482. */
  invite(m: HubMember, room: Room, nick: string): HubMember | 'no-such-nick' | 'on-channel' | 'not-op' {
    const target = this.members.get(foldCase(nick));
    if (target === undefined || !target.registered) return 'no-such-nick';
    if (room.members.has(target)) return 'on-channel';
    if (room.flags.has('i') && !room.ops.has(m)) return 'not-op';
    room.invites.add(target.folded);
    return target;
  }

  /** Sets or clears (empty) the away message and tells away-notify clients in shared rooms. */
  setAway(m: HubMember, away: string): void {
    if (m.away === away) return;
    m.away = away;
    const ev: BusEvent = { ...this.#who(m), t: 'away', away, rooms: [...m.rooms].map((r) => r.name) };
    this.#toRoomsOnce(m.rooms, this.#out(ev, m), m);
    this.bus?.publish(ev);
  }

  /** Tells everyone sharing a room with `m` (and `m`) a server-made event, e.g. after KILL. */
  #who(m: HubMember): { nick: string; user: string; host: string } {
    return { nick: m.nick, user: m.user, host: m.host };
  }

  #out(ev: BusEvent, m: HubMember): Outgoing {
    const out = new Outgoing(ev);
    out.account = m.account;
    return out;
  }

  #leave(m: HubMember, room: Room): void {
    room.members.delete(m);
    room.ops.delete(m);
    room.voiced.delete(m);
    room.snapshot = null;
    m.rooms.delete(room);
  }

  part(m: HubMember, room: Room, reason: string): void {
    if (!room.members.has(m)) return;
    this.#leave(m, room);
    const ev: BusEvent = { t: 'part', room: room.name, nick: m.nick, user: m.user, host: m.host, reason };
    this.#fanout(room, new Outgoing(ev), null, false);
    this.bus?.publish(ev);
    this.#maybeDrop(room);
  }

  /** Says `text` to a room (the caller checked {@link Room.canSpeak}); returns what was sent (echo-message). */
  say(m: HubMember, room: Room, text: string, kind: MsgKind, clientTags = ''): Outgoing {
    this.counters.messagesIn++;
    m.lastActive = Date.now();
    const ev: BusEvent = { t: 'msg', room: room.name, nick: m.nick, user: m.user, host: m.host, text, kind };
    const out = this.#out(ev, m);
    out.clientTags = clientTags;
    this.#fanout(room, out, m, true);
    if (kind !== 'notice') this.#remember(room, out);
    this.bus?.publish({ ...ev, msgid: out.msgid, time: out.time });
    return out;
  }

  /**
   * STATUSMSG: says `text` to the members of a room with `status` or higher (`@` ops, `+` voiced
   * or ops), here and on other nodes. Kept out of room history, which every member can read.
   */
  statusSay(
    m: HubMember,
    room: Room,
    status: '@' | '+',
    text: string,
    kind: MsgKind,
    clientTags = '',
  ): Outgoing {
    this.counters.messagesIn++;
    m.lastActive = Date.now();
    const ev: BusEvent = { ...this.#who(m), t: 'statusmsg', room: room.name, status, text, kind };
    const out = this.#out(ev, m);
    out.clientTags = clientTags;
    this.#toStatus(room, status, out, m);
    this.bus?.publish({ ...ev, msgid: out.msgid, time: out.time });
    return out;
  }

  #toStatus(room: Room, status: '@' | '+', out: Outgoing, except: HubMember | null): void {
    let n = 0;
    for (const r of room.members) {
      if (r === except || !(room.ops.has(r) || (status === '+' && room.voiced.has(r)))) continue;
      r.deliver(out, true);
      n++;
    }
    this.counters.messagesOut += n;
  }

  /** IRCv3 TAGMSG to a room: only message-tags clients see it; never stored or sent on the bus. */
  tagmsg(m: HubMember, room: Room, clientTags: string): Outgoing {
    const out = this.#out({ ...this.#who(m), t: 'tagmsg', target: room.name }, m);
    out.clientTags = clientTags;
    this.#fanout(room, out, m, true);
    return out;
  }

  /** IRCv3 TAGMSG to one local member. */
  tagmsgTo(m: HubMember, to: HubMember, clientTags: string): Outgoing {
    const out = this.#out({ ...this.#who(m), t: 'tagmsg', target: to.nick }, m);
    out.clientTags = clientTags;
    to.deliver(out, false);
    return out;
  }

  /** A registered local member by nick, or undefined (unregistered connections are invisible). */
  member(nick: string): HubMember | undefined {
    const m = this.members.get(foldCase(nick));
    return m?.registered ? m : undefined;
  }

  /** Sends a private message; null when no such nick exists on any node, else what was sent. */
  privmsg(m: HubMember, target: string, text: string, kind: MsgKind, clientTags = ''): Outgoing | null {
    const folded = foldCase(target);
    const ev: BusEvent = { t: 'priv', to: folded, nick: m.nick, user: m.user, host: m.host, text, kind };
    const local = this.members.get(folded);
    if (local?.registered) {
      this.counters.messagesIn++;
      this.counters.messagesOut++;
      m.lastActive = Date.now();
      const out = this.#out(ev, m);
      out.clientTags = clientTags;
      local.deliver(out, false);
      this.privateLog.record(this.historyOwner(m), local.nick, local.nick, out);
      this.privateLog.record(this.historyOwner(local), m.nick, local.nick, out);
      return out;
    }
    const remote = this.remoteNicks.get(folded);
    if (remote !== undefined) {
      this.counters.messagesIn++;
      this.bus?.publish(ev);
      const out = this.#out(ev, m);
      this.privateLog.record(this.historyOwner(m), remote.nick, remote.nick, out);
      return out;
    }
    return null;
  }

  /**
   * Whose private history a member reads and writes: its account when logged in (kept across
   * sessions), else this session alone (dropped when it quits), never a bare nick.
   */
  historyOwner(m: HubMember): string {
    return m.account === '' ? `s:${this.owner(m)}` : `a:${foldCase(m.account)}`;
  }

  /** Sets a topic; false when +t and `m` is not an op (482). */
  setTopic(m: HubMember, room: Room, topic: string): boolean {
    if (room.flags.has('t') && !room.ops.has(m)) return false;
    room.topic = topic;
    room.topicBy = `${m.nick}!${m.user}@${m.host}`;
    room.topicAt = Math.floor(Date.now() / 1000);
    const ev: BusEvent = { t: 'topic', room: room.name, nick: m.nick, user: m.user, host: m.host, topic };
    this.#fanout(room, new Outgoing(ev), null, false);
    this.bus?.publish(ev);
    return true;
  }

  #remembered(m: HubMember): void {
    if (!m.registered) return;
    this.whowas.push({ nick: m.nick, user: m.user, host: m.host, realname: m.realname, at: Date.now() });
    if (this.whowas.length > 256) this.whowas.splice(0, this.whowas.length - 256);
  }

  /** Removes a member everywhere and tells everyone who shared a room with it. */
  quit(m: HubMember, reason: string): void {
    if (this.members.get(m.folded) !== m) return;
    this.members.delete(m.folded);
    this.bus?.releaseNick(m.folded, this.owner(m));
    this.privateLog.drop(`s:${this.owner(m)}`);
    this.#remembered(m);
    const rooms = [...m.rooms];
    for (const room of rooms) this.#leave(m, room);
    const ev: BusEvent = {
      t: 'quit',
      nick: m.nick,
      user: m.user,
      host: m.host,
      reason,
      rooms: rooms.map((r) => r.name),
    };
    this.#toRoomsOnce(rooms, new Outgoing(ev), m);
    this.bus?.publish(ev);
    this.#released(m.folded);
    for (const room of rooms) this.#maybeDrop(room);
  }

  /** Everything local, for a node that just said hello or after a reconnect. */
  presence(): BusEvent {
    const rooms: Record<string, string[]> = {};
    const topics: Record<string, string> = {};
    for (const room of this.rooms.values()) {
      if (room.members.size === 0) continue;
      rooms[room.name] = [...room.members].map((m) => room.prefix(m, true) + m.nick);
      if (room.topic !== '') topics[room.name] = room.topic;
    }
    const nicks: string[] = [];
    for (const m of this.members.values()) if (m.registered) nicks.push(m.nick);
    return { t: 'presence', rooms, topics, nicks };
  }

  /** Applies an event from another node. */
  remote(ev: StampedEvent): void {
    const last = this.#lastSeq.get(ev.node);
    if (last !== undefined && ev.seq > last + 1) {
      const lost = ev.seq - last - 1;
      this.missedRemote += lost;
      this.#log(`missed ${lost} event(s) from node ${ev.node} while the bus was unreachable`);
    }
    // Events from a node we do not know (we dropped it after a stall, or it started before us
    // and is quiet): ask for its whole state instead of trusting the pieces we see.
    if (!this.#lastSeen.has(ev.node) && ev.t !== 'presence' && ev.t !== 'hello' && ev.t !== 'bye')
      this.#askSync(ev.node, 'events from a node this node did not know');
    this.#lastSeq.set(ev.node, ev.seq);
    this.#lastSeen.set(ev.node, Date.now());
    switch (ev.t) {
      case 'beat':
        if (typeof ev.digest === 'string' && ev.digest !== this.#remoteDigest(ev.node))
          this.#askSync(ev.node, 'its presence digest differs from what this node holds');
        return;
      case 'sync':
        if (ev.to === this.bus?.nodeId) this.bus.publish(this.presence());
        return;
      case 'msg': {
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined) return;
        const out = new Outgoing(stripStamp(ev), ev.time, ev.msgid);
        this.#fanout(room, out, null, true);
        if (ev.kind !== 'notice') this.#remember(room, out);
        return;
      }
      case 'statusmsg': {
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined || (ev.status !== '@' && ev.status !== '+')) return;
        this.#toStatus(room, ev.status, new Outgoing(stripStamp(ev), ev.time, ev.msgid), null);
        return;
      }
      case 'priv': {
        const target = this.members.get(ev.to);
        if (target === undefined) return;
        this.counters.messagesOut++;
        const out = new Outgoing(stripStamp(ev));
        target.deliver(out, false);
        if (typeof ev.nick === 'string' && ev.nick !== '')
          this.privateLog.record(this.historyOwner(target), ev.nick, target.nick, out);
        return;
      }
      case 'join': {
        const room = this.#ensureRoom(ev.room);
        const folded = foldCase(ev.nick);
        this.remoteNicks.set(folded, { nick: ev.nick, node: ev.node });
        if (this.members.has(folded)) {
          this.#shadow(folded, ev.nick, ev.node, room, {});
          return;
        }
        if (room.remote.has(folded)) return;
        room.remote.set(folded, { nick: ev.nick, node: ev.node });
        this.#fanout(room, new Outgoing(stripStamp(ev)), null, false);
        return;
      }
      case 'part': {
        const hidden = this.#shadowed.get(foldCase(ev.nick));
        if (hidden?.node === ev.node) hidden.rooms.delete(foldCase(ev.room));
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined || !room.remote.delete(foldCase(ev.nick))) return;
        this.#fanout(room, new Outgoing(stripStamp(ev)), null, false);
        this.#maybeDrop(room);
        return;
      }
      case 'quit': {
        const folded = foldCase(ev.nick);
        if (this.remoteNicks.get(folded)?.node === ev.node) this.remoteNicks.delete(folded);
        if (this.#shadowed.get(folded)?.node === ev.node) this.#shadowed.delete(folded);
        this.#remoteLeaves(folded, ev.rooms, new Outgoing(stripStamp(ev)));
        return;
      }
      case 'nick': {
        const folded = foldCase(ev.nick);
        const nf = foldCase(ev.newNick);
        // Only that node's claim: after a split brain another node may hold the old nick.
        if (this.remoteNicks.get(folded)?.node === ev.node) this.remoteNicks.delete(folded);
        this.remoteNicks.set(nf, { nick: ev.newNick, node: ev.node });
        const hidden = this.#shadowed.get(folded);
        if (hidden?.node === ev.node) {
          // The hidden twin took a nick of its own: members here meet it under that one.
          this.#shadowed.delete(folded);
          this.#reveal({ ...hidden, nick: ev.newNick }, nf);
          return;
        }
        const rooms: Room[] = [];
        for (const name of ev.rooms) {
          const room = this.rooms.get(foldCase(name));
          if (room === undefined) continue;
          const was = room.remote.get(folded);
          room.remote.delete(folded);
          room.remote.set(nf, { ...was, nick: ev.newNick, node: ev.node });
          rooms.push(room);
        }
        this.#toRoomsOnce(rooms, new Outgoing(stripStamp(ev)), null);
        return;
      }
      case 'topic': {
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined) return;
        room.topic = ev.topic;
        this.#fanout(room, new Outgoing(stripStamp(ev)), null, false);
        return;
      }
      case 'mode': {
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined || typeof ev.modes !== 'string' || !Array.isArray(ev.args)) return;
        const changes = splitModes(ev.modes, ev.args.map(String));
        // A remote op's change: apply what fits here (local targets of +o/+v, flags, bans).
        for (const c of changes) {
          // +o/+v for that node's twin of a nick held here: its hidden status, never our member's.
          const hidden = c.arg === undefined ? undefined : this.#shadowed.get(foldCase(c.arg));
          const status = hidden?.node === ev.node ? hidden.rooms.get(room.folded) : undefined;
          if (status !== undefined && (c.mode === 'o' || c.mode === 'v')) {
            status[c.mode === 'o' ? 'op' : 'voice'] = c.add;
            continue;
          }
          this.#applyMode(room, c, `${ev.nick}!${ev.user}@${ev.host}`);
        }
        // The creator's +o for itself is bookkeeping; everything else is shown.
        if (!(ev.modes === '+o' && foldCase(ev.args[0] ?? '') === foldCase(ev.nick))) {
          this.#fanout(room, new Outgoing(stripStamp(ev)), null, false);
        }
        return;
      }
      case 'kick': {
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined || typeof ev.target !== 'string') return;
        const folded = foldCase(ev.target);
        const local = this.members.get(folded);
        this.#fanout(room, new Outgoing(stripStamp(ev)), null, false);
        if (local !== undefined && room.members.has(local)) this.#leave(local, room);
        else room.remote.delete(folded);
        this.#maybeDrop(room);
        return;
      }
      case 'away': {
        const rooms: Room[] = [];
        for (const name of Array.isArray(ev.rooms) ? ev.rooms : []) {
          const room = this.rooms.get(foldCase(String(name)));
          if (room?.remote.has(foldCase(ev.nick))) rooms.push(room);
        }
        this.#toRoomsOnce(rooms, new Outgoing(stripStamp(ev)), null);
        return;
      }
      case 'hello':
        this.bus?.publish(this.presence());
        return;
      case 'presence': {
        const bare: Record<string, string[]> = {};
        const prefixes = new Map<string, string>(); // room folded + ' ' + nick folded -> '@', '+', '@+'
        for (const [name, nicks] of Object.entries(ev.rooms))
          bare[name] = nicks.map((n) => {
            const nick = n.replace(/^[@+]+/, '');
            if (nick.length < n.length)
              prefixes.set(`${foldCase(name)} ${foldCase(nick)}`, n.slice(0, n.length - nick.length));
            return nick;
          });
        this.#prune(ev.node, bare);
        for (const [folded, h] of this.#shadowed) if (h.node === ev.node) this.#shadowed.delete(folded);
        if (Array.isArray(ev.nicks)) {
          // Registered nicks (members in no room too), so private messages reach them.
          const listed = new Set(ev.nicks.map(foldCase));
          for (const [folded, r] of this.remoteNicks)
            if (r.node === ev.node && !listed.has(folded)) this.remoteNicks.delete(folded);
          // Kept even when a member here holds the same nick (a split brain the registry is
          // resolving): once the newer of the two is renamed, messages to it still find the other.
          for (const nick of ev.nicks) this.remoteNicks.set(foldCase(nick), { nick, node: ev.node });
        }
        for (const [name, nicks] of Object.entries(bare)) {
          const room = this.#ensureRoom(name);
          for (const nick of nicks) {
            const folded = foldCase(nick);
            const prefix = prefixes.get(`${room.folded} ${folded}`) ?? '';
            if (this.members.has(folded)) {
              if (room.remote.get(folded)?.node === ev.node) room.remote.delete(folded);
              this.remoteNicks.set(folded, { nick, node: ev.node });
              this.#shadow(folded, nick, ev.node, room, {
                op: prefix.includes('@'),
                voice: prefix.includes('+'),
              });
              continue;
            }
            const known = room.remote.get(folded)?.node === ev.node;
            room.remote.set(folded, {
              nick,
              node: ev.node,
              op: prefix.includes('@'),
              voice: prefix.includes('+'),
            });
            this.remoteNicks.set(folded, { nick, node: ev.node });
            // A member we did not know here (its join was lost, or its node was presumed crashed
            // and came back): local members see it join, so IRC clients' nick lists stay right.
            if (!known) {
              const join: BusEvent = { t: 'join', room: room.name, nick, user: '~remote', host: ev.node };
              this.#fanout(room, new Outgoing(join), null, false);
            }
          }
          const topic = ev.topics[name];
          if (topic !== undefined && room.topic === '') room.topic = topic;
        }
        return;
      }
      case 'bye':
        this.#dropNode(ev.node, 'node shut down');
        return;
    }
  }

  /**
   * A node's presence is its whole state: members of `node` we still list in a room it no longer
   * reports left while the bus was away (their part or quit was lost), so they leave here too.
   */
  #prune(node: string, reported: Record<string, string[]>): void {
    const listed = new Set<string>();
    const present = new Set<string>();
    for (const [name, nicks] of Object.entries(reported)) {
      const room = foldCase(name);
      for (const nick of nicks) {
        listed.add(`${room} ${foldCase(nick)}`);
        present.add(foldCase(nick));
      }
    }
    const gone = new Map<string, Room[]>();
    for (const room of this.rooms.values()) {
      for (const [folded, r] of room.remote) {
        if (r.node !== node || listed.has(`${room.folded} ${folded}`)) continue;
        let rooms = gone.get(folded);
        if (rooms === undefined) gone.set(folded, (rooms = []));
        rooms.push(room);
      }
    }
    for (const [folded, rooms] of gone) {
      const r = this.remoteNicks.get(folded);
      const nick = r?.nick ?? rooms[0]!.remote.get(folded)!.nick;
      if (present.has(folded)) {
        // Still on that node, in other rooms: it only parted these.
        for (const room of rooms) {
          room.remote.delete(folded);
          const part: BusEvent = {
            t: 'part',
            room: room.name,
            nick,
            user: '~remote',
            host: node,
            reason: '',
          };
          this.#fanout(room, new Outgoing(part), null, false);
          this.#maybeDrop(room);
        }
      } else {
        if (r?.node === node) this.remoteNicks.delete(folded);
        const quit: BusEvent = {
          t: 'quit',
          nick,
          user: '~remote',
          host: node,
          reason: 'left while the bus was unreachable',
          rooms: [],
        };
        this.#remoteLeaves(
          folded,
          rooms.map((room) => room.name),
          new Outgoing(quit),
        );
      }
    }
  }

  /** Forgets nodes silent for `silentMs` (crashed or cut off): their members leave. */
  expireNodes(now: number, silentMs: number): void {
    for (const [node, seen] of this.#lastSeen) {
      if (now - seen > silentMs) {
        this.#log(`node ${node} silent for ${Math.round((now - seen) / 1000)} s, dropping its members`);
        this.#dropNode(node, 'node unreachable');
      }
    }
  }

  #dropNode(node: string, reason: string): void {
    this.#lastSeq.delete(node);
    this.#lastSeen.delete(node);
    for (const [folded, h] of this.#shadowed) if (h.node === node) this.#shadowed.delete(folded);
    for (const [folded, r] of this.remoteNicks) {
      if (r.node !== node) continue;
      this.remoteNicks.delete(folded);
      const q: BusEvent = { t: 'quit', nick: r.nick, user: '~remote', host: node, reason, rooms: [] };
      this.#remoteLeaves(folded, null, new Outgoing(q));
    }
  }

  /** Hides remote member `nick` of `node` in `room`: a member here holds the same nick. */
  #shadow(
    folded: string,
    nick: string,
    node: string,
    room: Room,
    status: { op?: boolean; voice?: boolean },
  ): void {
    let h = this.#shadowed.get(folded);
    if (h === undefined || h.node !== node) {
      h = { nick, node, rooms: new Map() };
      this.#shadowed.set(folded, h);
    }
    h.rooms.set(room.folded, { name: room.name, op: status.op === true, voice: status.voice === true });
  }

  /** Members here meet a hidden remote member under `folded`, as if it joined its rooms now. */
  #reveal(h: Shadowed, folded: string): void {
    if (this.members.has(folded)) {
      for (const r of h.rooms.values()) this.#shadow(folded, h.nick, h.node, this.#ensureRoom(r.name), r);
      return;
    }
    for (const r of h.rooms.values()) {
      const room = this.#ensureRoom(r.name);
      if (room.remote.has(folded)) continue;
      room.remote.set(folded, { nick: h.nick, node: h.node, op: r.op, voice: r.voice });
      const join: BusEvent = { t: 'join', room: room.name, nick: h.nick, user: '~remote', host: h.node };
      this.#fanout(room, new Outgoing(join), null, false);
    }
  }

  /** The member here that held `folded` gave it up: a remote twin hidden behind it appears. */
  #released(folded: string): void {
    const h = this.#shadowed.get(folded);
    if (h === undefined) return;
    this.#shadowed.delete(folded);
    this.#reveal(h, folded);
  }

  #remoteLeaves(folded: string, roomNames: string[] | null, out: Outgoing): void {
    const rooms: Room[] = [];
    const candidates = roomNames === null ? [...this.rooms.values()] : roomNames;
    for (const r of candidates) {
      const room = typeof r === 'string' ? this.rooms.get(foldCase(r)) : r;
      if (room?.remote.delete(folded)) rooms.push(room);
    }
    this.#toRoomsOnce(rooms, out, null);
    for (const room of rooms) this.#maybeDrop(room);
  }

  #ensureRoom(name: string): Room {
    const folded = foldCase(name);
    let room = this.rooms.get(folded);
    if (room === undefined) {
      room = new Room(name);
      this.rooms.set(folded, room);
      this.#seed(room);
    }
    return room;
  }

  #fanout(room: Room, out: Outgoing, except: HubMember | null, droppable: boolean): void {
    let snap = room.snapshot;
    if (snap === null) snap = room.snapshot = Array.from(room.members);
    let n = 0;
    for (let k = 0; k < snap.length; k++) {
      const m = snap[k]!;
      if (m === except) continue;
      m.deliver(out, droppable);
      n++;
    }
    this.counters.messagesOut += n;
  }

  #toRoomsOnce(rooms: Iterable<Room>, out: Outgoing, except: HubMember | null): void {
    const seen = new Set<HubMember>();
    for (const room of rooms) {
      for (const m of room.members) {
        if (m === except || seen.has(m)) continue;
        seen.add(m);
        m.deliver(out, false);
      }
    }
  }

  #remember(room: Room, out: Outgoing): void {
    if (this.#historySize <= 0) return;
    const h = room.history;
    if (h.length < this.#historySize) {
      h.push(out);
    } else {
      h[room.historyHead] = out;
      room.historyHead = (room.historyHead + 1) % h.length;
    }
  }

  #maybeDrop(room: Room): void {
    if (room.members.size === 0 && room.remote.size === 0) this.rooms.delete(room.folded);
  }
}

/** `+o-v` and `['a','b']` from changes (the MODE line's wire form). */
export function joinModes(changes: ModeChange[]): [string, string[]] {
  let modes = '';
  let sign = '';
  const args: string[] = [];
  for (const c of changes) {
    const s = c.add ? '+' : '-';
    if (s !== sign) modes += s;
    sign = s;
    modes += c.mode;
    if (c.arg !== undefined) args.push(c.arg);
  }
  return [modes, args];
}

/** Modes that take an argument when set (`b e I k l o v`) and when unset (`b e I k o v`). */
const ARG_ON_SET = 'beIkolv';
const ARG_ON_UNSET = 'beIkov';

/** Parses `+ov-k a b key` into changes; a missing argument leaves `arg` undefined. */
export function splitModes(modes: string, args: string[]): ModeChange[] {
  const out: ModeChange[] = [];
  let add = true;
  let k = 0;
  for (const ch of modes) {
    if (ch === '+' || ch === '-') {
      add = ch === '+';
      continue;
    }
    const takes = (add ? ARG_ON_SET : ARG_ON_UNSET).includes(ch);
    const c: ModeChange = { add, mode: ch };
    if (takes && k < args.length) c.arg = args[k++]!;
    out.push(c);
  }
  return out;
}

function stripStamp(ev: StampedEvent): BusEvent {
  const { node: _node, seq: _seq, ...rest } = ev;
  return rest as BusEvent;
}
