import type { BusEvent } from '../bus.js';
import { foldCase, nickProblem, roomProblem } from './casemap.js';
import { ClientConn } from './client-conn.js';
import type { ChatTransport, Ctx } from './context.js';
import type { HubMember, Room } from './hub.js';
import { watchNick } from './nick-ownership.js';
import { PLAIN_MODERATION_HELP, type PlainSession, plainModeration } from './plain-commands.js';

const REFUSAL = {
  full: 'the room is full (+l)',
  'invite-only': 'the room is invite-only (+i)',
  banned: 'you are banned (+b)',
  'bad-key': 'wrong or missing key (+k)',
} as const;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
// C0 controls except TAB, DEL, and C1 controls (U+0080-U+009F: some terminals read U+009B as ESC [).
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

export const PLAIN_HELP = [
  '* commands:',
  '*   /nick NAME       change your nick',
  '*   /join #room      leave your room and join another',
  '*   /part            leave your room',
  '*   /rooms           list rooms',
  '*   /who             list the members of your room',
  '*   /me action       say what you do',
  '*   /msg NICK text   private message',
  '*   /quit [reason]   leave',
  ...PLAIN_MODERATION_HELP,
  '*   anything else is said to your room (start with // to say a line beginning with /)',
];

// IRC formatting (colour codes with their digits, bold, italic, ...) means nothing to nc/telnet.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const IRC_FORMATTING_RE = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|[\x00-\x08\x0a-\x1f\x7f]/g;

function plainText(text: string): string {
  return text.replace(IRC_FORMATTING_RE, '');
}

/** Encodes a hub event as one plain-protocol line. */
export function encodePlain(ev: BusEvent): Uint8Array {
  let line: string;
  switch (ev.t) {
    case 'msg':
      // `** nick does` is an action: never a server line (`* `), a message (`<`) or a private one
      // (`*nick*`: nicks hold no `*`), so `/me quit (ping timeout)` cannot pass for a quit notice.
      line =
        ev.kind === 'action'
          ? `** ${ev.nick} ${plainText(ev.text)}`
          : ev.kind === 'notice'
            ? `-${ev.nick}- ${plainText(ev.text)}`
            : `<${ev.nick}> ${plainText(ev.text)}`;
      break;
    case 'statusmsg': {
      // To the room's ops (or voiced): `to @#room` inside the marker, so it never reads as a line
      // the whole room saw.
      const to = `to ${ev.status}${ev.room}`;
      line =
        ev.kind === 'action'
          ? `** ${ev.nick} (${to}) ${plainText(ev.text)}`
          : ev.kind === 'notice'
            ? `-${ev.nick} ${to}- ${plainText(ev.text)}`
            : `<${ev.nick} ${to}> ${plainText(ev.text)}`;
      break;
    }
    case 'priv':
      line =
        ev.kind === 'action' ? `**${ev.nick}** ${plainText(ev.text)}` : `*${ev.nick}* ${plainText(ev.text)}`;
      break;
    case 'join':
      line = `* ${ev.nick} joined ${ev.room}`;
      break;
    case 'part':
      line = ev.reason
        ? `* ${ev.nick} left ${ev.room} (${plainText(ev.reason)})`
        : `* ${ev.nick} left ${ev.room}`;
      break;
    case 'quit':
      line = `* ${ev.nick} quit (${plainText(ev.reason)})`;
      break;
    case 'nick':
      line = `* ${ev.nick} is now known as ${ev.newNick}`;
      break;
    case 'mode':
      line = `* ${ev.nick || 'server'} sets mode ${[ev.modes, ...ev.args].join(' ')} on ${ev.room}`;
      break;
    case 'kick':
      line = `* ${ev.target} was kicked from ${ev.room} by ${ev.nick} (${plainText(ev.reason)})`;
      break;
    case 'topic':
      line = `* ${ev.nick} set the topic of ${ev.room} to: ${plainText(ev.topic)}`;
      break;
    default:
      return EMPTY;
  }
  return encoder.encode(`${line}\r\n`);
}

/**
 * The plain line protocol (nc/telnet friendly): the first line is the nick, then every line is
 * said to the current room unless it is a /command. Room lines are `<nick> text`, actions
 * `** nick text`, private lines `*nick* text` and private actions `**nick** text`; everything the
 * server says itself starts with `* `.
 */
export class PlainConn extends ClientConn {
  readonly kind = 0 as const;
  #room: Room | null = null;

  constructor(ctx: Ctx, transport: ChatTransport, ip: string) {
    super(ctx, transport, ip, ctx.opts.maxLineLength);
    this.user = 'plain';
    this.send('* welcome to asyncnet chat\r\n* what is your nick?\r\n');
  }

  protected encode(ev: BusEvent): Uint8Array {
    return encodePlain(ev);
  }

  protected missedNotice(count: number): string {
    return `* you missed ${count} message${count === 1 ? '' : 's'} (your connection was too slow)\r\n`;
  }

  protected lineTooLong(): void {
    this.#error(`line longer than ${this.ctx.opts.maxLineLength} bytes, dropped`);
  }

  protected badUtf8(): void {
    this.#error('line is not valid utf-8, dropped');
  }

  protected ping(): void {}

  protected farewell(reason: string): string {
    return `* closing: ${reason}\r\n`;
  }

  #error(text: string): void {
    this.send(`* error: ${text}\r\n`);
  }

  protected handleLine(text: string): void | Promise<void> {
    if (CONTROL_RE.test(text)) {
      this.#error('control characters are not allowed, line dropped');
      return;
    }
    if (!this.registered) return this.#register(text.trim());
    // The hub may have taken us out (KICK): the room is the hub's to decide.
    if (this.#room !== null && !this.rooms.has(this.#room)) this.#room = null;
    if (text.startsWith('/') && !text.startsWith('//')) return this.#command(text);
    if (text.length === 0) return;
    if (this.#room === null) {
      this.#error('you are not in a room; /join #room first');
      return;
    }
    if (!this.#room.canSpeak(this)) {
      this.#error(`you cannot speak in ${this.#room.name} (+m or banned)`);
      return;
    }
    this.ctx.hub.say(this, this.#room, text.startsWith('//') ? text.slice(1) : text, 'say');
  }

  async #register(nick: string): Promise<void> {
    const problem = nickProblem(nick, this.ctx.opts.nickMaxLength);
    if (problem !== null) {
      this.#error(problem);
      this.send('* what is your nick?\r\n');
      return;
    }
    const ok = await this.ctx.hub.claimNick(this, nick);
    if (this.closing) {
      if (ok) this.ctx.hub.quit(this, 'connection closed');
      return;
    }
    if (!ok) {
      this.#error(`nick "${nick}" is taken`);
      this.send('* what is your nick?\r\n');
      return;
    }
    this.registered = true;
    // this.nick: a guest nick when the registry could not confirm the one asked for.
    this.send(`* hello ${this.nick}, type /help for commands\r\n`);
    this.#join(this.ctx.opts.defaultRoom);
    void watchNick(this.ctx, this);
  }

  tell(text: string): void {
    this.send(`* ${plainText(text)}\r\n`);
  }

  forcedRename(_oldNick: string, why: string): void {
    this.send(`* you are now known as ${this.nick}\r\n* ${plainText(why)}\r\n`);
  }

  #join(name: string): void {
    const hub = this.ctx.hub;
    if (this.#room !== null) {
      if (this.#room.folded === foldCase(name)) {
        this.send(`* you are already in ${this.#room.name}\r\n`);
        return;
      }
      hub.part(this, this.#room, '');
    }
    const room = hub.join(this, name);
    if (typeof room === 'string') {
      this.#error(`cannot join ${name}: ${REFUSAL[room]}`);
      return;
    }
    this.#room = room;
    const nicks = room.nicks();
    this.send(`* you joined ${room.name} (${nicks.length} here: ${nicks.join(', ')})\r\n`);
    if (room.topic) this.send(`* topic: ${plainText(room.topic)}\r\n`);
    const past = hub.recent(room);
    if (past.length > 0) {
      // Marked as history so old lines never look live.
      this.send(`* recent messages in ${room.name}:\r\n`);
      for (const out of past) this.deliver(out, true);
      this.send(`* end of recent messages\r\n`);
    }
  }

  /** `/history [N]`: the room's last N messages from the bus's durable history (else the replay buffer). */
  async #history(arg: string): Promise<void> {
    const room = this.#room;
    if (room === null) return this.#error('you are not in a room');
    const n = arg === '' ? 20 : Number(arg);
    if (!Number.isInteger(n) || n < 1 || n > 1000) return this.#error('usage: /history [1-1000]');
    const store = this.ctx.hub.bus?.history;
    const lines: string[] = [];
    if (store === undefined) {
      for (const out of this.ctx.hub.recent(room).slice(-n))
        lines.push(new TextDecoder().decode(encodePlain(out.ev)));
    } else {
      const found = await store.query(room.name, { limit: n }).catch(() => store.cached(room.name).slice(-n));
      for (const e of found) lines.push(new TextDecoder().decode(encodePlain({ t: 'msg', ...e })));
    }
    if (this.closing) return;
    this.send(`* history of ${room.name} (${lines.length}):\r\n${lines.join('')}* end of history\r\n`);
  }

  invited(from: HubMember, room: Room, target: HubMember): void {
    if (target === this) this.send(`* ${from.nick} invites you to ${room.name} (/join ${room.name})\r\n`);
  }

  #command(text: string): void | Promise<void> {
    const sp = text.indexOf(' ');
    const cmd = (sp === -1 ? text.slice(1) : text.slice(1, sp)).toLowerCase();
    const arg = sp === -1 ? '' : text.slice(sp + 1).trim();
    const hub = this.ctx.hub;
    switch (cmd) {
      case 'help':
        this.send(`${PLAIN_HELP.join('\r\n')}\r\n`);
        return;
      case 'nick':
        return this.#rename(arg);
      case 'join': {
        const name = arg.startsWith('#') ? arg : `#${arg}`;
        const problem = arg === '' ? 'usage: /join #room' : roomProblem(name, this.ctx.opts.roomMaxLength);
        if (problem !== null) this.#error(problem);
        else this.#join(name);
        return;
      }
      case 'part':
        if (this.#room === null) {
          this.#error('you are not in a room');
          return;
        }
        this.send(`* you left ${this.#room.name}\r\n`);
        hub.part(this, this.#room, arg);
        this.#room = null;
        return;
      case 'rooms': {
        const rooms = [...hub.rooms.values()].filter((r) => r.size > 0);
        this.send(`* ${rooms.length} room${rooms.length === 1 ? '' : 's'}:\r\n`);
        for (const r of rooms) {
          if (r.secret && !r.members.has(this)) continue;
          this.send(`*   ${r.name} (${r.size})${r.topic ? ` ${plainText(r.topic)}` : ''}\r\n`);
        }
        return;
      }
      case 'who':
        if (this.#room === null) this.#error('you are not in a room');
        else this.send(`* in ${this.#room.name}: ${this.#room.nicks().join(', ')}\r\n`);
        return;
      case 'me':
        if (this.#room === null) this.#error('you are not in a room');
        else if (arg === '') this.#error('usage: /me action');
        else if (!this.#room.canSpeak(this)) this.#error(`you cannot speak in ${this.#room.name}`);
        else hub.say(this, this.#room, arg, 'action');
        return;
      case 'msg': {
        const m = /^(\S+)\s+(.+)$/.exec(arg);
        if (m === null) {
          this.#error('usage: /msg NICK text');
          return;
        }
        if (hub.privmsg(this, m[1]!, m[2]!, 'say') === null) this.#error(`no such nick "${m[1]}"`);
        return;
      }
      case 'history':
        return this.#history(arg);
      case 'quit':
        this.disconnect('client quit', arg === '' ? 'bye' : `bye (${arg})`, false, arg === '' ? 'quit' : arg);
        return;
      default: {
        const r = plainModeration(this.#session(), cmd, arg);
        if (r === false) this.#error(`unknown command "/${cmd}", try /help`);
        else if (r !== true) return r;
      }
    }
  }

  #session(): PlainSession {
    return {
      ctx: this.ctx,
      member: this,
      room: this.#room,
      say: (line) => this.send(`${plainText(line)}\r\n`),
      error: (text) => this.#error(plainText(text)),
    };
  }

  async #rename(nick: string): Promise<void> {
    const problem = nick === '' ? 'usage: /nick NAME' : nickProblem(nick, this.ctx.opts.nickMaxLength);
    if (problem !== null) {
      this.#error(problem);
      return;
    }
    const old = this.nick;
    if (old === nick) return;
    const ok = await this.ctx.hub.claimNick(this, nick);
    if (this.closing) return;
    if (!ok) {
      this.#error(`nick "${nick}" is taken`);
      return;
    }
    this.send(`* you are now known as ${nick}\r\n`);
    this.ctx.hub.renamed(this, old);
    void watchNick(this.ctx, this);
  }
}
