import { foldCase } from './casemap.js';
import type { HubMember, Outgoing } from './hub.js';
import { globMatcher } from './masks.js';

/** A remote member: a nick held on another node. */
export interface RemoteNick {
  nick: string;
  node: string;
  /** Channel operator in this room (room entries only; learned from presence and MODE events). */
  op?: boolean;
  /** Voiced in this room. */
  voice?: boolean;
}

/** One `+b` entry with who set it and when (367 reports both). */
export interface Ban {
  mask: string;
  by: string;
  at: number;
  test: (hostmask: string) => boolean;
}

/** Channel list modes (CHANMODES type A): bans, ban exceptions, invite exceptions. */
export const LIST_MODES = 'beI';

/** Channel flag modes this server knows (CHANMODES type D). */
export const FLAG_MODES = 'imnpst';

/**
 * One room's membership and moderation state; the hub owns every write to it, front ends only
 * read it (names, modes, topic) to answer queries.
 */
export class Room {
  readonly name: string;
  readonly folded: string;
  readonly members = new Set<HubMember>();
  /** Copy-on-write membership array; fan-out iterates it, so joins and leaves mid-broadcast are safe. */
  snapshot: HubMember[] | null = null;
  readonly remote = new Map<string, RemoteNick>();
  topic = '';
  topicBy = '';
  /** Unix seconds. */
  topicAt = 0;
  /** Unix seconds (329). */
  readonly createdAt = Math.floor(Date.now() / 1000);
  readonly history: Outgoing[] = [];
  historyHead = 0;
  readonly ops = new Set<HubMember>();
  readonly voiced = new Set<HubMember>();
  /** Set flag modes, a subset of {@link FLAG_MODES}. */
  readonly flags = new Set<string>(['n', 't']);
  key = '';
  limit = 0;
  readonly bans: Ban[] = [];
  /** Folded nicks invited past +i (consumed on join). */
  readonly invites = new Set<string>();

  constructor(name: string) {
    this.name = name;
    this.folded = foldCase(name);
  }

  get size(): number {
    return this.members.size + this.remote.size;
  }

  /** Hidden (+s or +p) rooms are not shown to non-members by LIST, NAMES or WHOIS. */
  get secret(): boolean {
    return this.flags.has('s') || this.flags.has('p');
  }

  nicks(): string[] {
    const out: string[] = [];
    for (const m of this.members) out.push(m.nick);
    for (const r of this.remote.values()) out.push(r.nick);
    return out;
  }

  /** `@`, `+`, both (`multi`) or nothing. */
  prefix(m: HubMember, multi: boolean): string {
    const op = this.ops.has(m);
    const v = this.voiced.has(m);
    if (multi) return (op ? '@' : '') + (v ? '+' : '');
    return op ? '@' : v ? '+' : '';
  }

  /** The same prefix for a member of another node. */
  remotePrefix(r: RemoteNick, multi: boolean): string {
    if (multi) return (r.op === true ? '@' : '') + (r.voice === true ? '+' : '');
    return r.op === true ? '@' : r.voice === true ? '+' : '';
  }

  /** `+e` entries: masks exempt from `+b` (348). */
  readonly excepts: Ban[] = [];
  /** `+I` entries: masks that pass `+i` without an INVITE (346). */
  readonly invex: Ban[] = [];

  /** The mask list of a list mode (`b`, `e` or `I`). */
  list(mode: string): Ban[] {
    return mode === 'e' ? this.excepts : mode === 'I' ? this.invex : this.bans;
  }

  /** Entries across the three mask lists (MAXLIST=beI bounds their sum). */
  get listEntries(): number {
    return this.bans.length + this.excepts.length + this.invex.length;
  }

  /** Banned: a `+b` mask matches and no `+e` mask does. */
  banned(m: HubMember): boolean {
    if (this.bans.length === 0) return false;
    const hm = `${m.nick}!${m.user}@${m.host}`;
    if (!this.bans.some((b) => b.test(hm))) return false;
    return !this.excepts.some((e) => e.test(hm));
  }

  /** Whether a `+I` mask lets `m` past `+i`. */
  inviteExempt(m: HubMember): boolean {
    if (this.invex.length === 0) return false;
    const hm = `${m.nick}!${m.user}@${m.host}`;
    return this.invex.some((e) => e.test(hm));
  }

  addBan(mask: string, by: string, mode = 'b'): boolean {
    const list = this.list(mode);
    const f = foldCase(mask);
    if (list.some((b) => foldCase(b.mask) === f)) return false;
    list.push({ mask, by, at: Math.floor(Date.now() / 1000), test: globMatcher(mask) });
    return true;
  }

  removeBan(mask: string, mode = 'b'): boolean {
    const list = this.list(mode);
    const f = foldCase(mask);
    const k = list.findIndex((b) => foldCase(b.mask) === f);
    if (k === -1) return false;
    list.splice(k, 1);
    return true;
  }

  /** Whether `m` may speak: +n keeps outsiders out, +m keeps unvoiced members quiet. */
  canSpeak(m: HubMember): boolean {
    const member = this.members.has(m);
    if (!member) return !this.flags.has('n') && !this.banned(m);
    if (this.ops.has(m) || this.voiced.has(m)) return true;
    if (this.flags.has('m')) return false;
    return !this.banned(m);
  }

  /** `+nt`, plus `k`/`l` with their arguments (the key only for members). */
  modeParams(showKey: boolean): string[] {
    let flags = '+';
    const args: string[] = [];
    for (const f of FLAG_MODES) if (this.flags.has(f)) flags += f;
    if (this.key !== '') {
      flags += 'k';
      args.push(showKey ? this.key : '*');
    }
    if (this.limit > 0) {
      flags += 'l';
      args.push(String(this.limit));
    }
    return [flags, ...args];
  }
}
