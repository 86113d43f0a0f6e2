import type { BusEvent, MsgKind } from '../bus.js';
import type { Outgoing } from './hub.js';
import { escapeTag, formatIrcMessage as fmt } from './irc-message.js';

/** Bits of a recipient's tag mask: which capabilities change how an event is encoded for it. */
export const TAG_TIME = 1;
export const TAG_MSGTAGS = 2;
export const TAG_ACCOUNT = 4;
export const TAG_EXTJOIN = 8;
export const TAG_AWAY = 16;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function prefixOf(ev: { nick: string; user: string; host: string }, server: string): string {
  // Changes made by the server itself (no nick) come from the server.
  return ev.nick === '' ? server : `${ev.nick}!${ev.user}@${ev.host}`;
}

/** RFC 1459: a message is at most 512 bytes, CRLF included. */
const MAX_LINE = 512;

/** UTF-8 length of a string without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Splits `s` into pieces of at most `max` UTF-8 bytes without cutting a code point. */
export function splitUtf8(s: string, max: number): string[] {
  const out: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
    const w = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + w > max && i > start) {
      out.push(s.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += w;
    if (pair) i++;
  }
  out.push(s.slice(start));
  return out;
}

/**
 * One PRIVMSG/NOTICE per piece of `text` that fits in 512 bytes with the prefix, so text relayed
 * from a plain client (lines up to `maxLineLength`) or behind a long prefix never makes a line
 * that stock IRC clients may cut or reject.
 */
function messageLines(prefix: string, command: string, target: string, kind: MsgKind, text: string): string {
  const wrap = kind === 'action' ? 9 : 0; // \x01ACTION ...\x01
  const room = MAX_LINE - (utf8Length(prefix) + command.length + utf8Length(target) + 7 + wrap);
  const format = (t: string) =>
    fmt(prefix, command, [target, kind === 'action' ? `\x01ACTION ${t}\x01` : t], true);
  if (text.length * 3 <= room || utf8Length(text) <= room) return format(text);
  let out = '';
  for (const piece of splitUtf8(text, Math.max(room, 16))) out += format(piece);
  return out;
}

/** Cuts the trailing parameter so the line fits in 512 bytes (reasons and topics). */
function fitted(prefix: string, command: string, params: string[]): string {
  const line = fmt(prefix, command, params, true);
  if (line.length <= MAX_LINE / 3 || utf8Length(line) <= MAX_LINE) return line;
  const last = params.length - 1;
  const excess = utf8Length(line) - MAX_LINE;
  const text = params[last]!;
  const keep = splitUtf8(text, Math.max(0, utf8Length(text) - excess))[0]!;
  return fmt(prefix, command, [...params.slice(0, last), keep], true);
}

/** Encodes a hub event as IRC bytes for a recipient without tag capabilities. */
export function encodeIrc(ev: BusEvent, me: string, serverName: string): Uint8Array {
  const line = eventLines(ev, me, 0, '', serverName);
  return line === '' ? EMPTY : encoder.encode(line);
}

/** The tag prefix (`@time=...;msgid=... `) an event gets for a recipient with `mask`. */
export function tagsFor(out: Outgoing, mask: number, extra = ''): string {
  let t = extra;
  const add = (kv: string) => {
    t = t === '' ? kv : `${t};${kv}`;
  };
  if (mask & TAG_TIME) add(`time=${new Date(out.time).toISOString()}`);
  if (mask & TAG_MSGTAGS) {
    add(`msgid=${out.msgid}`);
    if (out.clientTags !== '') add(out.clientTags);
  }
  if (mask & TAG_ACCOUNT && out.account !== '') add(`account=${escapeTag(out.account)}`);
  return t === '' ? '' : `@${t} `;
}

/**
 * Encodes an event for a recipient with tag mask `mask` (one line per text piece, each tagged).
 * `target` replaces the recipient of a private message (echo-message shows who it went to).
 */
export function encodeIrcTagged(
  out: Outgoing,
  me: string,
  mask: number,
  serverName: string,
  extraTags = '',
  target?: string,
): string {
  const tags = tagsFor(out, mask, extraTags);
  const lines = eventLines(out.ev, target ?? me, mask, out.account, serverName);
  if (tags === '' || lines === '') return lines;
  return `${tags + lines.slice(0, -2).split('\r\n').join(`\r\n${tags}`)}\r\n`;
}

function eventLines(ev: BusEvent, me: string, mask: number, account: string, server: string): string {
  let line: string;
  switch (ev.t) {
    case 'msg':
      line = messageLines(
        prefixOf(ev, server),
        ev.kind === 'notice' ? 'NOTICE' : 'PRIVMSG',
        ev.room,
        ev.kind,
        ev.text,
      );
      break;
    case 'statusmsg':
      line = messageLines(
        prefixOf(ev, server),
        ev.kind === 'notice' ? 'NOTICE' : 'PRIVMSG',
        ev.status + ev.room,
        ev.kind,
        ev.text,
      );
      break;
    case 'priv':
      line = messageLines(
        prefixOf(ev, server),
        ev.kind === 'notice' ? 'NOTICE' : 'PRIVMSG',
        me,
        ev.kind,
        ev.text,
      );
      break;
    case 'join':
      line =
        mask & TAG_EXTJOIN
          ? fmt(
              prefixOf(ev, server),
              'JOIN',
              [ev.room, account === '' ? '*' : account, ev.realname ?? ''],
              true,
            )
          : fmt(prefixOf(ev, server), 'JOIN', [ev.room]);
      break;
    case 'mode':
      line = fmt(prefixOf(ev, server), 'MODE', [ev.room, ev.modes, ...ev.args]);
      break;
    case 'kick':
      line = fitted(prefixOf(ev, server), 'KICK', [ev.room, ev.target, ev.reason]);
      break;
    case 'tagmsg':
      if (!(mask & TAG_MSGTAGS)) return '';
      line = fmt(prefixOf(ev, server), 'TAGMSG', [ev.target.startsWith('#') ? ev.target : me]);
      break;
    case 'away':
      if (!(mask & TAG_AWAY)) return '';
      line =
        ev.away === ''
          ? fmt(prefixOf(ev, server), 'AWAY', [])
          : fitted(prefixOf(ev, server), 'AWAY', [ev.away]);
      break;
    case 'part':
      line = ev.reason
        ? fitted(prefixOf(ev, server), 'PART', [ev.room, ev.reason])
        : fmt(prefixOf(ev, server), 'PART', [ev.room]);
      break;
    case 'quit':
      line = fitted(prefixOf(ev, server), 'QUIT', [`Quit: ${ev.reason}`]);
      break;
    case 'nick':
      line = fmt(prefixOf(ev, server), 'NICK', [ev.newNick], true);
      break;
    case 'topic':
      line = fitted(prefixOf(ev, server), 'TOPIC', [ev.room, ev.topic]);
      break;
    default:
      return '';
  }
  return line;
}
