import type { BusEvent, BusNode, MsgKind, StampedEvent } from '../bus.js';
import { foldCase } from './casemap.js';

/** One event on its way to many members, encoded at most once per protocol. */
export class Outgoing {
  readonly ev: BusEvent;
  /** Encoded bytes per protocol kind (0 plain, 1 irc). */
  readonly enc: [Uint8Array | undefined, Uint8Array | undefined] = [undefined, undefined];
  constructor(ev: BusEvent) {
    this.ev = ev;
  }
}

/** A locally connected, registered client as the hub sees it. */
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
  /** Encodes (or reuses the encoding of) an event and queues it; never awaits. */
  deliver(out: Outgoing, droppable: boolean): void;
}

/** A remote member: a nick held on another node. */
interface RemoteNick {
  nick: string;
  node: string;
}

export class Room {
  readonly name: string;
  readonly folded: string;
  readonly members = new Set<HubMember>();
  /** Copy-on-write membership array; fan-out iterates it, so joins and leaves mid-broadcast are safe. */
  snapshot: HubMember[] | null = null;
  readonly remote = new Map<string, RemoteNick>();
  topic = '';
  readonly history: Outgoing[] = [];
  historyHead = 0;
  constructor(name: string) {
    this.name = name;
    this.folded = foldCase(name);
  }
  get size(): number {
    return this.members.size + this.remote.size;
  }
  nicks(): string[] {
    const out: string[] = [];
    for (const m of this.members) out.push(m.nick);
    for (const r of this.remote.values()) out.push(r.nick);
    return out;
  }
}

export interface HubCounters {
  messagesIn: number;
  messagesOut: number;
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
  bus: BusNode | null = null;
  missedRemote = 0;

  constructor(historySize: number, log: (line: string) => void) {
    this.#historySize = historySize;
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
        // Registry unreachable: accept locally, the bus reclaims on reconnect.
        this.#log(`nick registry unreachable, accepting "${nick}" locally: ${(err as Error).message}`);
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

  /** Announces a rename (after {@link claimNick} succeeded) to everyone sharing a room. */
  renamed(m: HubMember, oldNick: string): void {
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
  }

  join(m: HubMember, name: string): Room {
    const folded = foldCase(name);
    let room = this.rooms.get(folded);
    if (room === undefined) {
      room = new Room(name);
      this.rooms.set(folded, room);
    }
    if (m.rooms.has(room)) return room;
    const ev: BusEvent = { t: 'join', room: room.name, nick: m.nick, user: m.user, host: m.host };
    this.#fanout(room, new Outgoing(ev), m, false);
    room.members.add(m);
    room.snapshot = null;
    m.rooms.add(room);
    this.bus?.publish(ev);
    return room;
  }

  /** Replays a room's recent messages to one member. */
  replayHistory(m: HubMember, room: Room): void {
    const h = room.history;
    for (let k = 0; k < h.length; k++) m.deliver(h[(room.historyHead + k) % h.length]!, true);
  }

  part(m: HubMember, room: Room, reason: string): void {
    if (!room.members.delete(m)) return;
    room.snapshot = null;
    m.rooms.delete(room);
    const ev: BusEvent = { t: 'part', room: room.name, nick: m.nick, user: m.user, host: m.host, reason };
    this.#fanout(room, new Outgoing(ev), null, false);
    this.bus?.publish(ev);
    this.#maybeDrop(room);
  }

  say(m: HubMember, room: Room, text: string, kind: MsgKind): void {
    this.counters.messagesIn++;
    const ev: BusEvent = { t: 'msg', room: room.name, nick: m.nick, user: m.user, host: m.host, text, kind };
    const out = new Outgoing(ev);
    this.#fanout(room, out, m, true);
    if (kind !== 'notice') this.#remember(room, out);
    this.bus?.publish(ev);
  }

  /** Sends a private message; false when no such nick exists on any node. */
  privmsg(m: HubMember, target: string, text: string, kind: MsgKind): boolean {
    const folded = foldCase(target);
    const ev: BusEvent = { t: 'priv', to: folded, nick: m.nick, user: m.user, host: m.host, text, kind };
    const local = this.members.get(folded);
    if (local !== undefined) {
      this.counters.messagesIn++;
      this.counters.messagesOut++;
      local.deliver(new Outgoing(ev), false);
      return true;
    }
    if (this.remoteNicks.has(folded)) {
      this.counters.messagesIn++;
      this.bus?.publish(ev);
      return true;
    }
    return false;
  }

  setTopic(m: HubMember, room: Room, topic: string): void {
    room.topic = topic;
    const ev: BusEvent = { t: 'topic', room: room.name, nick: m.nick, user: m.user, host: m.host, topic };
    this.#fanout(room, new Outgoing(ev), null, false);
    this.bus?.publish(ev);
  }

  /** Removes a member everywhere and tells everyone who shared a room with it. */
  quit(m: HubMember, reason: string): void {
    if (this.members.get(m.folded) !== m) return;
    this.members.delete(m.folded);
    this.bus?.releaseNick(m.folded, this.owner(m));
    const rooms = [...m.rooms];
    for (const room of rooms) {
      room.members.delete(m);
      room.snapshot = null;
    }
    m.rooms.clear();
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
    for (const room of rooms) this.#maybeDrop(room);
  }

  /** Everything local, for a node that just said hello or after a reconnect. */
  presence(): BusEvent {
    const rooms: Record<string, string[]> = {};
    const topics: Record<string, string> = {};
    for (const room of this.rooms.values()) {
      if (room.members.size === 0) continue;
      rooms[room.name] = [...room.members].map((m) => m.nick);
      if (room.topic !== '') topics[room.name] = room.topic;
    }
    return { t: 'presence', rooms, topics };
  }

  /** Applies an event from another node. */
  remote(ev: StampedEvent): void {
    const last = this.#lastSeq.get(ev.node);
    if (last !== undefined && ev.seq > last + 1) {
      const lost = ev.seq - last - 1;
      this.missedRemote += lost;
      this.#log(`missed ${lost} event(s) from node ${ev.node} while the bus was unreachable`);
    }
    this.#lastSeq.set(ev.node, ev.seq);
    this.#lastSeen.set(ev.node, Date.now());
    switch (ev.t) {
      case 'beat':
        return;
      case 'msg': {
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined) return;
        const out = new Outgoing(stripStamp(ev));
        this.#fanout(room, out, null, true);
        if (ev.kind !== 'notice') this.#remember(room, out);
        return;
      }
      case 'priv': {
        const target = this.members.get(ev.to);
        if (target === undefined) return;
        this.counters.messagesOut++;
        target.deliver(new Outgoing(stripStamp(ev)), false);
        return;
      }
      case 'join': {
        const room = this.#ensureRoom(ev.room);
        const folded = foldCase(ev.nick);
        this.remoteNicks.set(folded, { nick: ev.nick, node: ev.node });
        if (room.remote.has(folded)) return;
        room.remote.set(folded, { nick: ev.nick, node: ev.node });
        this.#fanout(room, new Outgoing(stripStamp(ev)), null, false);
        return;
      }
      case 'part': {
        const room = this.rooms.get(foldCase(ev.room));
        if (room === undefined || !room.remote.delete(foldCase(ev.nick))) return;
        this.#fanout(room, new Outgoing(stripStamp(ev)), null, false);
        this.#maybeDrop(room);
        return;
      }
      case 'quit': {
        const folded = foldCase(ev.nick);
        this.remoteNicks.delete(folded);
        this.#remoteLeaves(folded, ev.rooms, new Outgoing(stripStamp(ev)));
        return;
      }
      case 'nick': {
        const folded = foldCase(ev.nick);
        const nf = foldCase(ev.newNick);
        this.remoteNicks.delete(folded);
        this.remoteNicks.set(nf, { nick: ev.newNick, node: ev.node });
        const rooms: Room[] = [];
        for (const name of ev.rooms) {
          const room = this.rooms.get(foldCase(name));
          if (room === undefined) continue;
          room.remote.delete(folded);
          room.remote.set(nf, { nick: ev.newNick, node: ev.node });
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
      case 'hello':
        this.bus?.publish(this.presence());
        return;
      case 'presence': {
        this.#prune(ev.node, ev.rooms);
        for (const [name, nicks] of Object.entries(ev.rooms)) {
          const room = this.#ensureRoom(name);
          for (const nick of nicks) {
            const folded = foldCase(nick);
            const known = room.remote.get(folded)?.node === ev.node;
            room.remote.set(folded, { nick, node: ev.node });
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
    for (const [folded, r] of this.remoteNicks) {
      if (r.node !== node) continue;
      this.remoteNicks.delete(folded);
      const q: BusEvent = { t: 'quit', nick: r.nick, user: '~remote', host: node, reason, rooms: [] };
      this.#remoteLeaves(folded, null, new Outgoing(q));
    }
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

function stripStamp(ev: StampedEvent): BusEvent {
  const { node: _node, seq: _seq, ...rest } = ev;
  return rest as BusEvent;
}
