import type { BusEvent, MsgKind } from '../bus.js';
import { VERSION } from '../version.js';
import { foldCase, nickProblem, roomProblem } from './casemap.js';
import { ClientConn } from './client-conn.js';
import type { ChatTransport, Ctx } from './context.js';
import type { Room } from './hub.js';
import { encodeIrc } from './irc-encode.js';
import { formatIrcMessage as fmt, type IrcMessage, parseIrcMessage } from './irc-message.js';

// C0 controls except the IRC formatting codes (\x01 CTCP, \x02 bold, \x03 colour, \x0f reset,
// \x11 monospace, \x16 reverse, \x1d italic, \x1e strike, \x1f underline) and TAB; DEL and the
// C1 controls (U+0080-U+009F), which some terminals of plain-protocol members read as escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\x00\x04-\x08\x0a-\x0e\x10\x12-\x15\x17-\x1c\x7f-\x9f]/;
/** RFC 1459: 512 bytes including CRLF. */
export const IRC_MAX_LINE = 510;

/** The IRC front end: an RFC 1459/2812 subset that irssi, WeeChat, HexChat and irc-framework accept. */
export class IrcConn extends ClientConn {
  readonly kind = 1 as const;
  #capPending = false;
  #nickSet = false;

  constructor(ctx: Ctx, transport: ChatTransport, ip: string) {
    super(ctx, transport, ip, IRC_MAX_LINE);
  }

  get #target(): string {
    return this.nick === '' ? '*' : this.nick;
  }

  #num(code: string, ...params: string[]): void {
    this.send(fmt(this.ctx.opts.serverName, code, [this.#target, ...params]));
  }

  #numT(code: string, ...params: string[]): void {
    this.send(fmt(this.ctx.opts.serverName, code, [this.#target, ...params], true));
  }

  #notice(text: string): void {
    this.send(fmt(this.ctx.opts.serverName, 'NOTICE', [this.#target, text], true));
  }

  protected encode(ev: BusEvent): Uint8Array {
    return encodeIrc(ev, this.nick);
  }

  protected missedNotice(count: number): string {
    return fmt(
      this.ctx.opts.serverName,
      'NOTICE',
      [this.#target, `you missed ${count} message${count === 1 ? '' : 's'} (your connection was too slow)`],
      true,
    );
  }

  protected lineTooLong(): void {
    this.#numT('417', 'Input line was too long');
  }

  protected badUtf8(): void {
    this.#notice('line is not valid UTF-8, dropped');
  }

  protected floodWarning(): void {
    this.#notice('you are sending too fast, lines are being dropped');
  }

  protected ping(): void {
    this.send(fmt(null, 'PING', [this.ctx.opts.serverName], true));
  }

  protected farewell(reason: string): string {
    return fmt(null, 'ERROR', [`Closing Link: ${this.host} (${reason})`], true);
  }

  protected handleLine(text: string): void | Promise<void> {
    if (CONTROL_RE.test(text)) {
      this.#notice('control characters are not allowed, line dropped');
      return;
    }
    const msg = parseIrcMessage(text);
    if (msg === null) return;
    if (!this.registered) return this.#preRegistration(msg);
    return this.#command(msg);
  }

  #preRegistration(msg: IrcMessage): void | Promise<void> {
    const p = msg.params;
    switch (msg.command) {
      case 'CAP':
        return this.#cap(msg);
      case 'PASS':
        return;
      case 'NICK':
        return this.#nick(p[0]);
      case 'USER':
        if (p.length < 4) {
          this.#numT('461', 'USER', 'Not enough parameters');
          return;
        }
        this.user = `~${p[0]!.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 10) || 'user'}`;
        return this.#maybeWelcome();
      case 'PING':
        this.send(fmt(this.ctx.opts.serverName, 'PONG', [this.ctx.opts.serverName, p[0] ?? ''], true));
        return;
      case 'PONG':
        return;
      case 'QUIT':
        this.disconnect('client quit', 'Quit', false);
        return;
      default:
        this.#numT('451', 'You have not registered');
    }
  }

  #cap(msg: IrcMessage): void {
    const sub = (msg.params[0] ?? '').toUpperCase();
    if (sub === 'LS' || sub === 'LIST') {
      if (!this.registered) this.#capPending = true;
      this.send(fmt(this.ctx.opts.serverName, 'CAP', [this.#target, sub, ''], true));
    } else if (sub === 'REQ') {
      this.send(fmt(this.ctx.opts.serverName, 'CAP', [this.#target, 'NAK', msg.params[1] ?? ''], true));
    } else if (sub === 'END') {
      this.#capPending = false;
      this.#maybeWelcome();
    } else {
      this.#numT('410', sub, 'Invalid CAP command');
    }
  }

  async #nick(nick: string | undefined): Promise<void> {
    if (nick === undefined || nick === '') {
      this.#numT('431', 'No nickname given');
      return;
    }
    const problem = nickProblem(nick, this.ctx.opts.nickMaxLength);
    if (problem !== null) {
      this.#numT('432', nick, 'Erroneous nickname');
      return;
    }
    if (nick === this.nick) return;
    const old = this.nick;
    const oldPrefix = `${old}!${this.user}@${this.host}`;
    const ok = await this.ctx.hub.claimNick(this, nick);
    if (this.closing) {
      if (ok && !this.registered) this.ctx.hub.quit(this, 'connection closed');
      return;
    }
    if (!ok) {
      this.#numT('433', nick, 'Nickname is already in use');
      return;
    }
    if (this.registered) {
      this.send(fmt(oldPrefix, 'NICK', [nick], true));
      this.ctx.hub.renamed(this, old);
    } else {
      this.#nickSet = true;
      this.#maybeWelcome();
    }
  }

  #maybeWelcome(): void {
    if (this.registered || this.#capPending || !this.#nickSet || this.user === '') return;
    this.registered = true;
    const o = this.ctx.opts;
    const me = `${this.nick}!${this.user}@${this.host}`;
    this.#numT('001', `Welcome to the ${o.network} Network, ${me}`);
    this.#numT('002', `Your host is ${o.serverName}, running version asyncnet-chat-${VERSION}`);
    this.#numT('003', `This server was created ${this.ctx.createdAt.toUTCString()}`);
    this.#num('004', o.serverName, `asyncnet-chat-${VERSION}`, 'i', 'nt');
    this.#numT(
      '005',
      'CASEMAPPING=rfc1459',
      'CHANTYPES=#',
      `CHANLIMIT=#:${o.maxRoomsPerClient}`,
      `NICKLEN=${o.nickMaxLength}`,
      `CHANNELLEN=${o.roomMaxLength}`,
      `NETWORK=${o.network}`,
      'PREFIX=()',
      'CHANMODES=,,,nt',
      'are supported by this server',
    );
    this.#motd();
  }

  #motd(): void {
    const o = this.ctx.opts;
    this.#numT('375', `- ${o.serverName} Message of the day -`);
    for (const line of o.motd) this.#numT('372', `- ${line}`);
    this.#numT('376', 'End of /MOTD command.');
  }

  #room(name: string | undefined, numeric = true): Room | null {
    const room = name === undefined ? undefined : this.ctx.hub.room(name);
    if (room === undefined) {
      if (numeric) this.#numT('403', name ?? '*', 'No such channel');
      return null;
    }
    return room;
  }

  #command(msg: IrcMessage): void | Promise<void> {
    const p = msg.params;
    const hub = this.ctx.hub;
    const o = this.ctx.opts;
    switch (msg.command) {
      case 'PING':
        this.send(fmt(o.serverName, 'PONG', [o.serverName, p[0] ?? ''], true));
        return;
      case 'PONG':
      case 'PASS':
      case 'USER':
        return;
      case 'CAP':
        return this.#cap(msg);
      case 'NICK':
        return this.#nick(p[0]);
      case 'JOIN': {
        if (p[0] === undefined) return this.#numT('461', 'JOIN', 'Not enough parameters');
        if (p[0] === '0') {
          for (const room of [...this.rooms]) this.#part(room, 'Left all channels');
          return;
        }
        for (const name of p[0].split(',')) {
          if (roomProblem(name, o.roomMaxLength) !== null) {
            this.#numT('403', name, 'No such channel');
            continue;
          }
          const room = hub.room(name);
          if (room !== undefined && this.rooms.has(room)) continue;
          if (this.rooms.size >= o.maxRoomsPerClient) {
            this.#numT('405', name, 'You have joined too many channels');
            continue;
          }
          const joined = hub.join(this, name);
          this.send(fmt(`${this.nick}!${this.user}@${this.host}`, 'JOIN', [joined.name]));
          if (joined.topic) this.#numT('332', joined.name, joined.topic);
          this.#names(joined);
          hub.replayHistory(this, joined);
        }
        return;
      }
      case 'PART': {
        if (p[0] === undefined) return this.#numT('461', 'PART', 'Not enough parameters');
        for (const name of p[0].split(',')) {
          const room = this.#room(name);
          if (room === null) continue;
          if (!this.rooms.has(room)) {
            this.#numT('442', room.name, "You're not on that channel");
            continue;
          }
          this.#part(room, p[1] ?? '');
        }
        return;
      }
      case 'PRIVMSG':
      case 'NOTICE':
        return this.#privmsg(msg.command, p);
      case 'NAMES': {
        if (p[0] === undefined) {
          for (const room of this.rooms) this.#names(room);
          return;
        }
        for (const name of p[0].split(',')) {
          const room = hub.room(name);
          if (room !== undefined) this.#names(room);
          else this.#numT('366', name, 'End of /NAMES list.');
        }
        return;
      }
      case 'TOPIC': {
        if (p[0] === undefined) return this.#numT('461', 'TOPIC', 'Not enough parameters');
        const room = this.#room(p[0]);
        if (room === null) return;
        if (p[1] === undefined) {
          if (room.topic) this.#numT('332', room.name, room.topic);
          else this.#numT('331', room.name, 'No topic is set');
          return;
        }
        if (!this.rooms.has(room)) return this.#numT('442', room.name, "You're not on that channel");
        hub.setTopic(this, room, p[1]);
        return;
      }
      case 'LIST': {
        this.#numT('321', 'Channel', 'Users  Name');
        for (const room of hub.rooms.values()) {
          if (room.size > 0) this.#numT('322', room.name, String(room.size), room.topic);
        }
        this.#numT('323', 'End of /LIST');
        return;
      }
      case 'WHO': {
        const mask = p[0] ?? '*';
        const room = mask.startsWith('#') ? hub.room(mask) : undefined;
        if (room !== undefined) {
          for (const m of room.members) {
            this.#numT('352', room.name, m.user, m.host, o.serverName, m.nick, 'H', `0 ${m.nick}`);
          }
          for (const r of room.remote.values()) {
            this.#numT('352', room.name, '~remote', r.node, o.serverName, r.nick, 'H', `1 ${r.nick}`);
          }
        } else if (!mask.startsWith('#')) {
          const m = hub.members.get(foldCase(mask));
          if (m !== undefined)
            this.#numT('352', '*', m.user, m.host, o.serverName, m.nick, 'H', `0 ${m.nick}`);
        }
        this.#numT('315', mask, 'End of /WHO list.');
        return;
      }
      case 'WHOIS': {
        const target = p[p.length - 1];
        if (target === undefined) return this.#numT('431', 'No nickname given');
        const m = hub.members.get(foldCase(target));
        const r = hub.remoteNicks.get(foldCase(target));
        if (m !== undefined) this.#numT('311', m.nick, m.user, m.host, '*', m.nick);
        else if (r !== undefined) this.#numT('311', r.nick, '~remote', r.node, '*', r.nick);
        else this.#numT('401', target, 'No such nick/channel');
        this.#numT('318', target, 'End of /WHOIS list.');
        return;
      }
      case 'MODE': {
        const target = p[0];
        if (target === undefined) return this.#numT('461', 'MODE', 'Not enough parameters');
        if (target.startsWith('#')) {
          const room = this.#room(target);
          if (room !== null && p.length === 1) this.#num('324', room.name, '+nt');
          else if (room !== null && p[1] === 'b') this.#numT('368', room.name, 'End of channel ban list');
        } else if (foldCase(target) === this.folded) {
          this.#num('221', '+i');
        } else {
          this.#numT('502', "Can't change mode for other users");
        }
        return;
      }
      case 'USERHOST': {
        const replies: string[] = [];
        for (const n of p) {
          const m = hub.members.get(foldCase(n));
          if (m !== undefined) replies.push(`${m.nick}=+${m.user}@${m.host}`);
        }
        this.#numT('302', replies.join(' '));
        return;
      }
      case 'MOTD':
        return this.#motd();
      case 'QUIT':
        this.disconnect('client quit', `Quit: ${p[0] ?? ''}`, false, p[0] ?? 'Client quit');
        return;
      default:
        this.#numT('421', msg.command, 'Unknown command');
    }
  }

  #part(room: Room, reason: string): void {
    this.send(
      fmt(
        `${this.nick}!${this.user}@${this.host}`,
        'PART',
        reason ? [room.name, reason] : [room.name],
        !!reason,
      ),
    );
    this.ctx.hub.part(this, room, reason);
  }

  #names(room: Room): void {
    const head = fmt(this.ctx.opts.serverName, '353', [this.nick, '=', room.name, '']).length + 2;
    let batch = '';
    for (const nick of room.nicks()) {
      if (batch.length + nick.length + 1 + head > 500) {
        this.#numT('353', '=', room.name, batch);
        batch = '';
      }
      batch = batch === '' ? nick : `${batch} ${nick}`;
    }
    if (batch !== '') this.#numT('353', '=', room.name, batch);
    this.#numT('366', room.name, 'End of /NAMES list.');
  }

  #privmsg(command: 'PRIVMSG' | 'NOTICE', p: string[]): void {
    const notice = command === 'NOTICE';
    if (p[0] === undefined || p[0] === '') {
      if (!notice) this.#numT('411', `No recipient given (${command})`);
      return;
    }
    if (p[1] === undefined || p[1] === '') {
      if (!notice) this.#numT('412', 'No text to send');
      return;
    }
    let text = p[1];
    let kind: MsgKind = notice ? 'notice' : 'say';
    if (!notice && text.startsWith('\x01ACTION ')) {
      kind = 'action';
      text = text.slice(8, text.endsWith('\x01') ? -1 : undefined);
    }
    const hub = this.ctx.hub;
    for (const target of p[0].split(',')) {
      if (target.startsWith('#')) {
        const room = hub.room(target);
        if (room === undefined) {
          if (!notice) this.#numT('403', target, 'No such channel');
        } else if (!this.rooms.has(room)) {
          if (!notice) this.#numT('404', room.name, 'Cannot send to channel');
        } else {
          hub.say(this, room, text, kind);
        }
      } else if (!hub.privmsg(this, target, text, kind) && !notice) {
        this.#numT('401', target, 'No such nick/channel');
      }
    }
  }
}
