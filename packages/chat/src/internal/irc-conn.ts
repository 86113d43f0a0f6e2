import type { BusEvent } from '../bus.js';
import { ClientConn } from './client-conn.js';
import type { ChatTransport, Ctx } from './context.js';
import type { HubMember, Outgoing, Room } from './hub.js';
import { capMask } from './irc/caps.js';
import { COMMANDS } from './irc/commands/index.js';
import {
  ERR_INPUTTOOLONG,
  ERR_NEEDMOREPARAMS,
  ERR_NOTREGISTERED,
  ERR_UNKNOWNCOMMAND,
} from './irc/numerics.js';
import { encodeIrc, encodeIrcTagged } from './irc-encode.js';
import { formatIrcMessage as fmt, type IrcMessage, parseIrcMessage } from './irc-message.js';

// C0 controls except the IRC formatting codes (\x01 CTCP, \x02 bold, \x03 colour, \x0f reset,
// \x11 monospace, \x16 reverse, \x1d italic, \x1e strike, \x1f underline) and TAB; DEL and the
// C1 controls (U+0080-U+009F), which some terminals of plain-protocol members read as escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\x00\x04-\x08\x0a-\x0e\x10\x12-\x15\x17-\x1c\x7f-\x9f]/;
/** 512 bytes including CRLF, plus 8191 bytes of tags (IRCv3 message-tags). */
export const IRC_MAX_LINE = 510 + 8192;
const encoder = new TextEncoder();
let batchSeq = 0;

/**
 * The IRC front end: Modern IRC with IRCv3 capabilities. Commands live in a table
 * (`irc/commands/`); this class holds per-connection protocol state and the reply helpers
 * handlers use.
 */
export class IrcConn extends ClientConn {
  readonly kind = 1 as const;
  /** Enabled capabilities. */
  readonly caps = new Set<string>();
  /** CAP LS version (302 enables cap-notify and multi-line LS). */
  capVersion = 0;
  /** Which tag capabilities change this client's encoding (see irc-encode TAG_*). */
  tagMask = 0;
  capPending = false;
  nickSet = false;
  /** PASS matched (or no server password is configured). */
  passOk: boolean;
  passGiven = '';
  /** SASL exchange in progress: the mechanism, and base64 collected so far. */
  sasl: { mech: string; data: string } | null = null;
  #label: string | null = null;
  #labelled: string[] = [];

  override readonly secure: boolean;

  constructor(ctx: Ctx, transport: ChatTransport, ip: string, secure = false) {
    super(ctx, transport, ip, IRC_MAX_LINE);
    this.passOk = ctx.opts.password === null;
    this.secure = secure;
  }

  /** `*` before a nick is set (Modern: the target of numerics to unregistered clients). */
  get target(): string {
    return this.nick === '' ? '*' : this.nick;
  }

  get prefix(): string {
    return `${this.nick}!${this.user}@${this.host}`;
  }

  /** Sends a numeric; the last parameter is trailing. */
  reply(code: string, ...params: string[]): void {
    this.send(fmt(this.ctx.opts.serverName, code, [this.target, ...params], true));
  }

  /** Sends a numeric whose last parameter is a token, not text (004, 005, 324). */
  replyTokens(code: string, ...params: string[]): void {
    this.send(fmt(this.ctx.opts.serverName, code, [this.target, ...params]));
  }

  /** A line from the server (`:server CMD params`). */
  fromServer(command: string, params: string[], trailing = true): void {
    this.send(fmt(this.ctx.opts.serverName, command, params, trailing));
  }

  notice(text: string): void {
    this.fromServer('NOTICE', [this.target, text]);
  }

  tell(text: string): void {
    this.notice(text);
  }

  forcedRename(oldNick: string, why: string): void {
    this.send(fmt(`${oldNick}!${this.user}@${this.host}`, 'NICK', [this.nick], true));
    this.notice(why);
  }

  /** Recomputes {@link tagMask} after CAP changes. */
  capsChanged(): void {
    this.tagMask = capMask(this.caps);
  }

  /** Queues protocol text; while a labeled command runs, its replies are collected first. */
  override send(text: string): void {
    if (this.#label !== null) this.#labelled.push(text);
    else super.send(text);
  }

  override deliver(out: Outgoing, droppable: boolean): void {
    const mask = this.tagMask;
    // No tag capabilities: the shared per-protocol encoding (the benchmark's fan-out path).
    if (mask === 0) {
      super.deliver(out, droppable);
      return;
    }
    if (this.closing) return;
    // Otherwise once per distinct mask; a private message has one recipient, so no cache.
    const priv = out.ev.t === 'priv';
    let bytes = priv ? undefined : out.tagged?.get(mask);
    if (bytes === undefined) {
      bytes = encoder.encode(encodeIrcTagged(out, this.nick, mask, this.ctx.opts.serverName));
      if (!priv) {
        if (out.tagged === null) out.tagged = new Map();
        out.tagged.set(mask, bytes);
      }
    }
    if (bytes.length > 0) this.queue.push(bytes, droppable);
  }

  invited(from: HubMember, room: Room, target: HubMember): void {
    if (target !== this && !this.caps.has('invite-notify')) return;
    this.send(fmt(`${from.nick}!${from.user}@${from.host}`, 'INVITE', [target.nick, room.name]));
  }

  /** echo-message: the sender gets its own message back (with its msgid and label). */
  echo(out: Outgoing, target: string): void {
    this.send(encodeIrcTagged(out, this.nick, this.tagMask, this.ctx.opts.serverName, '', target));
  }

  /** Sends lines as one batch when the client supports it (`type` e.g. chathistory). */
  batch(type: string, params: string[], lines: string[]): void {
    if (!this.caps.has('batch')) {
      for (const l of lines) this.send(l);
      return;
    }
    const id = `b${(++batchSeq).toString(36)}`;
    this.send(fmt(this.ctx.opts.serverName, 'BATCH', [`+${id}`, type, ...params]));
    for (const l of lines) this.send(addTag(l, `batch=${id}`));
    this.send(fmt(this.ctx.opts.serverName, 'BATCH', [`-${id}`]));
  }

  /**
   * Replays room history, marked as history: a chathistory batch with the original times. A
   * client without `batch` and `server-time` could not tell old lines from live ones, so it gets
   * none (it can still ask with CHATHISTORY).
   */
  replay(room: Room): void {
    if (!this.caps.has('batch') || !this.caps.has('server-time')) return;
    // A chathistory client asks for what it wants (CHATHISTORY LATEST); do not push it too.
    if (this.caps.has('draft/chathistory')) return;
    const past = this.ctx.hub.recent(room);
    if (past.length === 0) return;
    const lines = past.map((out) => encodeIrcTagged(out, this.nick, this.tagMask, this.ctx.opts.serverName));
    this.batch(
      'chathistory',
      [room.name],
      lines.filter((l) => l !== ''),
    );
  }

  protected encode(ev: BusEvent): Uint8Array {
    return encodeIrc(ev, this.nick, this.ctx.opts.serverName);
  }

  protected missedNotice(count: number): string {
    return fmt(
      this.ctx.opts.serverName,
      'NOTICE',
      [this.target, `you missed ${count} message${count === 1 ? '' : 's'} (your connection was too slow)`],
      true,
    );
  }

  protected lineTooLong(): void {
    this.reply(ERR_INPUTTOOLONG, 'Input line was too long');
  }

  protected badUtf8(): void {
    this.notice('line is not valid UTF-8, dropped');
  }

  protected ping(): void {
    super.send(fmt(null, 'PING', [this.ctx.opts.serverName], true));
  }

  protected farewell(reason: string): string {
    return fmt(null, 'ERROR', [`Closing Link: ${this.host} (${reason})`], true);
  }

  protected handleLine(text: string): void | Promise<void> {
    if (CONTROL_RE.test(text)) {
      this.notice('control characters are not allowed, line dropped');
      return;
    }
    const msg = parseIrcMessage(text);
    if (msg === null) return;
    // Without tags the 512-byte rule of RFC 1459 still holds.
    if (msg.tags === null && Buffer.byteLength(text) > 510) return this.lineTooLong();
    const label = msg.tags?.label;
    if (label !== undefined && this.caps.has('labeled-response') && label.length <= 64) {
      this.#label = label;
      this.#labelled = [];
      let r: void | Promise<void>;
      try {
        r = this.#dispatch(msg);
      } catch (err) {
        this.#flushLabel();
        throw err;
      }
      if (r === undefined) return this.#flushLabel();
      return r.finally(() => this.#flushLabel());
    }
    return this.#dispatch(msg);
  }

  #dispatch(msg: IrcMessage): void | Promise<void> {
    const cmd = COMMANDS[msg.command];
    if (cmd === undefined) {
      if (this.registered) this.reply(ERR_UNKNOWNCOMMAND, msg.command, 'Unknown command');
      else this.reply(ERR_NOTREGISTERED, 'You have not registered');
      return;
    }
    if (!this.registered && cmd.pre !== true) {
      this.reply(ERR_NOTREGISTERED, 'You have not registered');
      return;
    }
    if (msg.params.length < (cmd.min ?? 0)) {
      this.reply(ERR_NEEDMOREPARAMS, msg.command, 'Not enough parameters');
      return;
    }
    return cmd.run(this, msg);
  }

  #flushLabel(): void {
    const label = this.#label!;
    const lines = this.#labelled;
    this.#label = null;
    this.#labelled = [];
    const tag = `label=${label.replace(/[; \\]/g, '')}`;
    if (lines.length === 0) {
      this.send(`@${tag} :${this.ctx.opts.serverName} ACK\r\n`);
    } else if (lines.length === 1) {
      this.send(addTag(lines[0]!, tag));
    } else if (this.caps.has('batch')) {
      const id = `b${(++batchSeq).toString(36)}`;
      this.send(`@${tag} ${fmt(this.ctx.opts.serverName, 'BATCH', [`+${id}`, 'labeled-response'])}`);
      for (const l of lines) this.send(addTag(l, `batch=${id}`));
      this.send(fmt(this.ctx.opts.serverName, 'BATCH', [`-${id}`]));
    } else {
      for (const l of lines) this.send(l);
    }
  }
}

/** Adds one tag to each line of `text` (lines may already carry tags). */
function addTag(text: string, tag: string): string {
  let out = '';
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    out += line.charCodeAt(0) === 64 ? `@${tag};${line.slice(1)}\r\n` : `@${tag} ${line}\r\n`;
  }
  return out;
}
