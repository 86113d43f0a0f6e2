import type { BusEvent, MsgKind } from '../bus.js';
import { formatIrcMessage as fmt } from './irc-message.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function prefixOf(ev: { nick: string; user: string; host: string }): string {
  return `${ev.nick}!${ev.user}@${ev.host}`;
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

/** Encodes a hub event as one IRC line (for a recipient called `me` when it is private). */
export function encodeIrc(ev: BusEvent, me: string): Uint8Array {
  let line: string;
  switch (ev.t) {
    case 'msg':
      line = messageLines(
        prefixOf(ev),
        ev.kind === 'notice' ? 'NOTICE' : 'PRIVMSG',
        ev.room,
        ev.kind,
        ev.text,
      );
      break;
    case 'priv':
      line = messageLines(prefixOf(ev), ev.kind === 'notice' ? 'NOTICE' : 'PRIVMSG', me, ev.kind, ev.text);
      break;
    case 'join':
      line = fmt(prefixOf(ev), 'JOIN', [ev.room]);
      break;
    case 'part':
      line = ev.reason
        ? fitted(prefixOf(ev), 'PART', [ev.room, ev.reason])
        : fmt(prefixOf(ev), 'PART', [ev.room]);
      break;
    case 'quit':
      line = fitted(prefixOf(ev), 'QUIT', [`Quit: ${ev.reason}`]);
      break;
    case 'nick':
      line = fmt(prefixOf(ev), 'NICK', [ev.newNick], true);
      break;
    case 'topic':
      line = fitted(prefixOf(ev), 'TOPIC', [ev.room, ev.topic]);
      break;
    default:
      return EMPTY;
  }
  return encoder.encode(line);
}
