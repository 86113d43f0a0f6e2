import type { IrcMessage } from '../../src/internal/irc-message.js';
import { stripIrc } from './format.js';

export type LineKind =
  | 'msg'
  | 'action'
  | 'notice'
  | 'join'
  | 'part'
  | 'quit'
  | 'nick'
  | 'topic'
  | 'mode'
  | 'kick'
  | 'info'
  | 'error';

/** One rendered line of a buffer. */
export interface Line {
  readonly id: number;
  readonly time: number;
  readonly kind: LineKind;
  readonly nick: string;
  readonly text: string;
  readonly self: boolean;
  /** Replayed from the server's history (a chathistory batch), not live. */
  readonly history: boolean;
  readonly highlight: boolean;
  readonly msgid: string | null;
}

export interface Member {
  nick: string;
  /** Membership prefixes, highest first (`@+` with multi-prefix). */
  prefix: string;
  away: boolean;
}

export type BufferType = 'server' | 'room' | 'query';

/** A room, a private conversation, or the server's own messages. */
export class Buffer {
  readonly key: string;
  name: string;
  readonly type: BufferType;
  readonly lines: Line[] = [];
  readonly msgids = new Set<string>();
  members = new Map<string, Member>();
  topic = '';
  unread = 0;
  highlight = false;
  joined = false;
  /** Joined at some point this session (a later JOIN is a rejoin, its history is catch-up). */
  everJoined = false;
  catchUp = false;
  /** Lines with a greater id arrived while the buffer was not being looked at. */
  readUpTo = 0;
  /** Where the "new messages" marker goes (0: none). */
  marker = 0;

  constructor(key: string, name: string, type: BufferType) {
    this.key = key;
    this.name = name;
    this.type = type;
  }

  get lastId(): number {
    return this.lines.at(-1)?.id ?? 0;
  }
}

/** What the view is told; it re-renders the named part. */
export interface ModelEvents {
  line(buf: Buffer, line: Line, appended: boolean): void;
  buffers(): void;
  /** Another buffer became the active one. */
  active(): void;
  members(buf: Buffer): void;
  topic(buf: Buffer): void;
  self(): void;
  rooms(list: RoomEntry[]): void;
}

export interface RoomEntry {
  name: string;
  users: number;
  topic: string;
}

const MAX_LINES = 2000;

/** RFC 1459 case mapping (the server's CASEMAPPING). */
export function fold(name: string): string {
  return name.toLowerCase().replace(/[[\]\\~]/g, (c) => ({ '[': '{', ']': '}', '\\': '|', '~': '^' })[c]!);
}

function nickOf(prefix: string | null): string {
  if (prefix === null) return '';
  const bang = prefix.indexOf('!');
  return bang === -1 ? prefix : prefix.slice(0, bang);
}

/**
 * The client's state: buffers, members, topics, own nick and away status, built from IRC
 * messages. History (a chathistory batch) only adds lines, never changes membership or topics.
 */
export class Model {
  readonly buffers = new Map<string, Buffer>();
  readonly server: Buffer;
  active: Buffer;
  me = '';
  away = false;
  network = 'asyncnet';
  visible = true;
  #events: ModelEvents;
  #send: (line: string) => void;
  #nextId = 1;
  #prefixModes = 'ov';
  #prefixSymbols = '@+';
  #chantypes = '#&';
  #paramModes = { always: 'beIkqaohv', whenSet: 'l' };
  #batches = new Map<string, { type: string; target: string }>();
  #names = new Map<string, Map<string, Member>>();
  #rooms: RoomEntry[] = [];
  /** Room to show once joined (the first one asked for). */
  focusOnJoin = '';
  /** The server speaks `draft/chathistory`: a rejoin asks for everything since the last line seen. */
  historyCap = false;

  constructor(events: ModelEvents, send: (line: string) => void) {
    this.#events = events;
    this.#send = send;
    this.server = new Buffer('*', 'server', 'server');
    this.buffers.set('*', this.server);
    this.active = this.server;
  }

  isChannel(name: string): boolean {
    return name !== '' && this.#chantypes.includes(name[0]!);
  }

  /** Sorted for display: server, rooms, conversations. */
  ordered(): Buffer[] {
    const all = [...this.buffers.values()];
    const rank = { server: 0, room: 1, query: 2 } as const;
    return all.sort((a, b) => rank[a.type] - rank[b.type] || a.key.localeCompare(b.key));
  }

  buffer(name: string, create: boolean): Buffer | null {
    const key = fold(name);
    let b = this.buffers.get(key);
    if (b === undefined && create) {
      b = new Buffer(key, name, this.isChannel(name) ? 'room' : 'query');
      this.buffers.set(key, b);
      this.#events.buffers();
    }
    return b ?? null;
  }

  setActive(buf: Buffer): void {
    if (this.active !== buf) this.active.readUpTo = this.active.lastId;
    this.active = buf;
    buf.marker = buf.unread > 0 ? buf.readUpTo : 0;
    buf.unread = 0;
    buf.highlight = false;
    buf.readUpTo = buf.lastId;
    this.#events.active();
  }

  /** The window became visible again: the active buffer counts as read. */
  seen(): void {
    const b = this.active;
    if (b.unread > 0) {
      b.unread = 0;
      b.highlight = false;
      this.#events.buffers();
    }
    b.readUpTo = b.lastId;
  }

  close(buf: Buffer): void {
    if (buf === this.server) return;
    this.buffers.delete(buf.key);
    if (this.active === buf) this.setActive(this.server);
    else this.#events.buffers();
  }

  /** Adds a line the client makes itself (command output, errors). */
  info(text: string, kind: LineKind = 'info', buf: Buffer = this.active): void {
    this.#add(buf, {
      kind,
      nick: '',
      text,
      self: false,
      history: false,
      highlight: false,
      msgid: null,
      time: Date.now(),
    });
  }

  /** The connection dropped: rooms are left until the reconnect joins them again. */
  disconnected(): string[] {
    const rejoin: string[] = [];
    for (const b of this.buffers.values()) {
      if (b.type === 'room' && b.joined) rejoin.push(b.name);
      b.joined = false;
      b.members = new Map();
    }
    this.#batches.clear();
    this.#names.clear();
    this.#events.members(this.active);
    this.#events.buffers();
    return rejoin;
  }

  /** Membership prefixes in the server's order (for sorting). */
  rank(prefix: string): number {
    if (prefix === '') return this.#prefixSymbols.length;
    return this.#prefixSymbols.indexOf(prefix[0]!);
  }

  get rooms(): RoomEntry[] {
    return this.#rooms;
  }

  #add(buf: Buffer, l: Omit<Line, 'id'>): void {
    if (l.msgid !== null) {
      // History replayed on a rejoin repeats what we already have.
      if (buf.msgids.has(l.msgid)) return;
      buf.msgids.add(l.msgid);
    }
    const line: Line = { ...l, id: this.#nextId++ };
    const lines = buf.lines;
    let appended = true;
    if (l.history && lines.length > 0 && lines.at(-1)!.time > l.time) {
      // Catch-up from before lines we already show: keep the log in time order.
      let k = lines.length;
      while (k > 0 && lines[k - 1]!.time > l.time) k--;
      lines.splice(k, 0, line);
      appended = false;
    } else {
      lines.push(line);
    }
    if (lines.length > MAX_LINES) {
      const gone = lines.splice(0, lines.length - MAX_LINES);
      for (const g of gone) if (g.msgid !== null) buf.msgids.delete(g.msgid);
    }
    const counts =
      (l.kind === 'msg' || l.kind === 'action' || l.kind === 'notice') &&
      !l.self &&
      (!l.history || buf.catchUp);
    if (counts && (buf !== this.active || !this.visible)) {
      if (buf === this.active && buf.unread === 0) buf.marker = buf.readUpTo;
      buf.unread++;
      if (l.highlight || buf.type === 'query') buf.highlight = true;
      this.#events.buffers();
    } else if (buf.unread === 0) {
      // Nothing unread yet (or a line that does not count): everything so far is read.
      buf.readUpTo = buf.lastId;
    }
    this.#events.line(buf, line, appended);
  }

  #mentions(text: string): boolean {
    if (this.me === '') return false;
    const esc = this.me.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\w\\[\\]\\\\^{}|-])${esc}($|[^\\w\\[\\]\\\\^{}|-])`, 'i').test(stripIrc(text));
  }

  #isMe(nick: string): boolean {
    return this.me !== '' && fold(nick) === fold(this.me);
  }

  #parseNamesEntry(entry: string): Member {
    let k = 0;
    while (k < entry.length && this.#prefixSymbols.includes(entry[k]!)) k++;
    const rest = entry.slice(k);
    const bang = rest.indexOf('!');
    return {
      nick: bang === -1 ? rest : rest.slice(0, bang),
      prefix: this.#sortPrefix(entry.slice(0, k)),
      away: false,
    };
  }

  #sortPrefix(p: string): string {
    return [...new Set(p)]
      .sort((a, b) => this.#prefixSymbols.indexOf(a) - this.#prefixSymbols.indexOf(b))
      .join('');
  }

  #isupport(tokens: string[]): void {
    for (const t of tokens) {
      const [k, v = ''] = t.split('=', 2) as [string, string?];
      if (k === 'PREFIX') {
        const m = /^\(([^)]*)\)(.*)$/.exec(v);
        if (m !== null && m[1]!.length === m[2]!.length) {
          this.#prefixModes = m[1]!;
          this.#prefixSymbols = m[2]!;
        }
      } else if (k === 'CHANTYPES') this.#chantypes = v;
      else if (k === 'NETWORK' && v !== '') this.network = v;
      else if (k === 'CHANMODES') {
        const [a = '', b = '', c = ''] = v.split(',');
        this.#paramModes = { always: a + b, whenSet: c };
      }
    }
  }

  #mode(buf: Buffer, modes: string, args: string[]): boolean {
    let adding = true;
    let changed = false;
    let k = 0;
    for (const ch of modes) {
      if (ch === '+' || ch === '-') {
        adding = ch === '+';
        continue;
      }
      const p = this.#prefixModes.indexOf(ch);
      if (p !== -1) {
        const nick = args[k++];
        const m = nick === undefined ? undefined : buf.members.get(fold(nick));
        if (m !== undefined) {
          const sym = this.#prefixSymbols[p]!;
          m.prefix = this.#sortPrefix(adding ? m.prefix + sym : m.prefix.replace(sym, ''));
          changed = true;
        }
      } else if (this.#paramModes.always.includes(ch) || (adding && this.#paramModes.whenSet.includes(ch)))
        k++;
    }
    return changed;
  }

  #renameEverywhere(from: string, to: string, time: number, history: boolean): void {
    const key = fold(from);
    for (const b of [...this.buffers.values()]) {
      const m = b.members.get(key);
      if (m !== undefined) {
        b.members.delete(key);
        m.nick = to;
        b.members.set(fold(to), m);
        this.#events.members(b);
      }
      if (m !== undefined || (b.type === 'query' && b.key === key)) {
        this.#add(b, {
          kind: 'nick',
          nick: from,
          text: to,
          self: this.#isMe(to),
          history,
          highlight: false,
          msgid: null,
          time,
        });
      }
      if (b.type === 'query' && b.key === key && !this.buffers.has(fold(to))) {
        this.buffers.delete(b.key);
        const nb = new Buffer(fold(to), to, 'query');
        nb.lines.push(...b.lines);
        for (const id of b.msgids) nb.msgids.add(id);
        nb.unread = b.unread;
        nb.highlight = b.highlight;
        nb.readUpTo = b.readUpTo;
        this.buffers.set(nb.key, nb);
        if (this.active === b) {
          this.active = nb;
          this.#events.active();
        } else this.#events.buffers();
      }
    }
  }

  /** Applies one message from the server. */
  apply(msg: IrcMessage): void {
    const tags = msg.tags ?? {};
    const time =
      tags.time !== undefined && !Number.isNaN(Date.parse(tags.time)) ? Date.parse(tags.time) : Date.now();
    const batch = tags.batch === undefined ? undefined : this.#batches.get(tags.batch);
    const history = batch?.type === 'chathistory';
    const msgid = tags.msgid ?? null;
    const from = nickOf(msg.prefix);
    const p = msg.params;
    const fromServer = msg.prefix === null || !msg.prefix.includes('!');
    /** A membership or channel event from `from`, logged in `buf`. */
    const event = (buf: Buffer, kind: LineKind, text: string, self = this.#isMe(from), highlight = false) =>
      this.#add(buf, { kind, nick: from, text, self, history, highlight, msgid, time });
    switch (msg.command) {
      case 'BATCH': {
        const ref = p[0] ?? '';
        if (ref.startsWith('+')) this.#batches.set(ref.slice(1), { type: p[1] ?? '', target: p[2] ?? '' });
        else this.#batches.delete(ref.slice(1));
        return;
      }
      case 'PRIVMSG':
      case 'NOTICE': {
        const target = (p[0] ?? '').replace(/^[@+~&%]+(?=[#&])/, '');
        let text = p[1] ?? '';
        let kind: LineKind = msg.command === 'NOTICE' ? 'notice' : 'msg';
        if (text.startsWith('\x01')) {
          const inner = text.slice(1, text.endsWith('\x01') ? -1 : undefined);
          if (!inner.startsWith('ACTION ') && inner !== 'ACTION') return; // other CTCP: not shown
          kind = 'action';
          text = inner.slice(7);
        }
        const self = this.#isMe(from);
        let buf: Buffer;
        if (this.isChannel(target)) buf = this.buffer(target, true)!;
        else if (fromServer || target === '*') buf = this.server;
        else buf = this.buffer(self ? target : from, true)!;
        const highlight = !self && (buf.type === 'query' || this.#mentions(text));
        this.#add(buf, { kind, nick: fromServer ? '' : from, text, self, history, highlight, msgid, time });
        return;
      }
      case 'JOIN': {
        const buf = this.buffer(p[0] ?? '', true)!;
        if (history) {
          event(buf, 'join', '', false);
          return;
        }
        if (this.#isMe(from)) {
          buf.name = p[0]!;
          buf.joined = true;
          buf.catchUp = buf.everJoined;
          // The time of the last line the server sent here before this join (a rejoin's gap starts there).
          let seen: number | null = null;
          if (buf.catchUp && this.historyCap)
            for (let k = buf.lines.length - 1; k >= 0 && seen === null; k--)
              if (buf.lines[k]!.msgid !== null) seen = buf.lines[k]!.time;
          buf.everJoined = true;
          buf.members = new Map();
          event(buf, 'join', '', true);
          if (this.focusOnJoin === '' || this.focusOnJoin === buf.key) {
            this.focusOnJoin = '\0';
            this.setActive(buf);
          }
          // Who is away (WHO flags H/G); away-notify keeps it current from here on.
          this.#send(`WHO ${buf.name}`);
          // The replay on join holds the last few lines; a rejoin may have missed more (the
          // Redis bus keeps far more than the replay window). Duplicates are dropped by msgid.
          if (seen !== null)
            this.#send(`CHATHISTORY AFTER ${buf.name} timestamp=${new Date(seen).toISOString()} 100`);
          this.#events.buffers();
        } else {
          buf.members.set(fold(from), { nick: from, prefix: '', away: false });
          event(buf, 'join', '', false);
        }
        this.#events.members(buf);
        return;
      }
      case 'PART': {
        const buf = this.buffer(p[0] ?? '', false);
        if (buf === null) return;
        if (!history) {
          if (this.#isMe(from)) {
            buf.joined = false;
            buf.members = new Map();
            this.#events.buffers();
          } else buf.members.delete(fold(from));
          this.#events.members(buf);
        }
        event(buf, 'part', p[1] ?? '');
        return;
      }
      case 'KICK': {
        const buf = this.buffer(p[0] ?? '', false);
        if (buf === null) return;
        const target = p[1] ?? '';
        if (!history) {
          if (this.#isMe(target)) {
            buf.joined = false;
            buf.members = new Map();
            this.#events.buffers();
          } else buf.members.delete(fold(target));
          this.#events.members(buf);
        }
        event(buf, 'kick', `${target} ${p[2] ?? ''}`, this.#isMe(target), this.#isMe(target));
        return;
      }
      case 'QUIT': {
        if (history) {
          const buf = this.buffer(batch!.target, false);
          if (buf !== null) event(buf, 'quit', p[0] ?? '', false);
          return;
        }
        const key = fold(from);
        for (const b of this.buffers.values()) {
          const member = b.members.delete(key);
          if (member) this.#events.members(b);
          if (member || (b.type === 'query' && b.key === key)) event(b, 'quit', p[0] ?? '', false);
        }
        return;
      }
      case 'NICK': {
        const to = p[0] ?? '';
        if (history) return;
        if (this.#isMe(from)) {
          this.me = to;
          this.#events.self();
        }
        this.#renameEverywhere(from, to, time, history);
        return;
      }
      case 'TOPIC': {
        const buf = this.buffer(p[0] ?? '', true)!;
        if (!history) {
          buf.topic = p[1] ?? '';
          this.#events.topic(buf);
        }
        event(buf, 'topic', p[1] ?? '');
        return;
      }
      case 'MODE': {
        const target = p[0] ?? '';
        if (!this.isChannel(target)) return;
        const buf = this.buffer(target, false);
        if (buf === null) return;
        if (!history && this.#mode(buf, p[1] ?? '', p.slice(2))) this.#events.members(buf);
        event(buf, 'mode', p.slice(1).join(' '));
        return;
      }
      case 'AWAY': {
        const away = (p[0] ?? '') !== '';
        for (const b of this.buffers.values()) {
          const m = b.members.get(fold(from));
          if (m !== undefined && m.away !== away) {
            m.away = away;
            this.#events.members(b);
          }
        }
        return;
      }
      case 'INVITE': {
        this.info(`${from} invites you to ${p[1] ?? ''} (/join ${p[1] ?? ''})`);
        return;
      }
      case 'ERROR':
        this.info(p[0] ?? 'closing', 'error', this.server);
        if (this.active !== this.server) this.info(p[0] ?? 'closing', 'error');
        return;
      case '001':
        this.me = p[0] ?? this.me;
        this.#events.self();
        this.info(p[1] ?? '', 'info', this.server);
        return;
      case '005':
        this.#isupport(p.slice(1, -1));
        return;
      case '305':
      case '306':
        this.away = msg.command === '306';
        this.#events.self();
        this.info(p[1] ?? '');
        return;
      case '301': {
        const buf = this.buffer(p[1] ?? '', false) ?? this.active;
        this.info(`${p[1]} is away: ${p[2] ?? ''}`, 'info', buf);
        return;
      }
      case '331':
      case '332': {
        const buf = this.buffer(p[1] ?? '', true)!;
        buf.topic = msg.command === '332' ? (p[2] ?? '') : '';
        this.#events.topic(buf);
        return;
      }
      case '333':
      case '315':
      case '318':
      case '321':
      case '329':
        return;
      case '322':
        this.#rooms.push({ name: p[1] ?? '', users: Number(p[2] ?? 0), topic: p[3] ?? '' });
        return;
      case '323':
        this.#events.rooms(this.#rooms.sort((a, b) => b.users - a.users || a.name.localeCompare(b.name)));
        this.#rooms = [];
        return;
      case '352': {
        const buf = this.buffer(p[1] ?? '', false);
        const m = buf?.members.get(fold(p[5] ?? ''));
        if (buf && m !== undefined) {
          const away = (p[6] ?? '').startsWith('G');
          if (m.away !== away) {
            m.away = away;
            this.#events.members(buf);
          }
        }
        return;
      }
      case '353': {
        const key = fold(p[2] ?? '');
        let pending = this.#names.get(key);
        if (pending === undefined) this.#names.set(key, (pending = new Map()));
        for (const e of (p[3] ?? '').split(' ')) {
          if (e === '') continue;
          const m = this.#parseNamesEntry(e);
          pending.set(fold(m.nick), m);
        }
        return;
      }
      case '366': {
        const key = fold(p[1] ?? '');
        const pending = this.#names.get(key);
        this.#names.delete(key);
        const buf = this.buffers.get(key);
        if (buf === undefined || !buf.joined) {
          if (pending !== undefined && this.active.type !== 'room')
            this.info(`${p[1]}: ${[...pending.values()].map((m) => m.prefix + m.nick).join(' ')}`);
          return;
        }
        if (pending !== undefined) {
          // Keep away flags learnt before this NAMES.
          for (const [k, m] of pending) m.away = buf.members.get(k)?.away ?? false;
          buf.members = pending;
        }
        this.#events.members(buf);
        return;
      }
      case '372':
      case '375':
      case '376':
      case '002':
      case '003':
      case '004':
        if (p.length > 1) this.info(p.at(-1)!, 'info', this.server);
        return;
      default:
        if (/^[0-9]{3}$/.test(msg.command)) {
          const n = Number(msg.command);
          const text = p.slice(1).join(' ');
          if (n >= 400) this.info(text, 'error');
          else if (n >= 300 && n < 400) this.info(text);
          else this.info(text, 'info', this.server);
        }
    }
  }
}
