import type { BusEvent, MsgKind } from '../bus.js';
import { formatIrcMessage as fmt } from './irc-message.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function prefixOf(ev: { nick: string; user: string; host: string }): string {
  return `${ev.nick}!${ev.user}@${ev.host}`;
}

function msgText(kind: MsgKind, text: string): string {
  return kind === 'action' ? `\x01ACTION ${text}\x01` : text;
}

/** Encodes a hub event as one IRC line (for a recipient called `me` when it is private). */
export function encodeIrc(ev: BusEvent, me: string): Uint8Array {
  let line: string;
  switch (ev.t) {
    case 'msg':
      line = fmt(
        prefixOf(ev),
        ev.kind === 'notice' ? 'NOTICE' : 'PRIVMSG',
        [ev.room, msgText(ev.kind, ev.text)],
        true,
      );
      break;
    case 'priv':
      line = fmt(
        prefixOf(ev),
        ev.kind === 'notice' ? 'NOTICE' : 'PRIVMSG',
        [me, msgText(ev.kind, ev.text)],
        true,
      );
      break;
    case 'join':
      line = fmt(prefixOf(ev), 'JOIN', [ev.room]);
      break;
    case 'part':
      line = fmt(prefixOf(ev), 'PART', ev.reason ? [ev.room, ev.reason] : [ev.room], ev.reason !== '');
      break;
    case 'quit':
      line = fmt(prefixOf(ev), 'QUIT', [`Quit: ${ev.reason}`], true);
      break;
    case 'nick':
      line = fmt(prefixOf(ev), 'NICK', [ev.newNick], true);
      break;
    case 'topic':
      line = fmt(prefixOf(ev), 'TOPIC', [ev.room, ev.topic], true);
      break;
    default:
      return EMPTY;
  }
  return encoder.encode(line);
}
