import type { MsgKind } from '../../../bus.js';
import { foldCase } from '../../casemap.js';
import type { Outgoing } from '../../hub.js';
import type { IrcConn } from '../../irc-conn.js';
import { escapeTag } from '../../irc-message.js';
import { MAX_TARGETS, STATUS } from '../isupport.js';
import * as N from '../numerics.js';
import type { IrcCommand } from './types.js';

/** Client-only tags (`+name`) to relay, escaped for the wire; others are the server's to set. */
function clientTags(c: IrcConn, tags: Record<string, string> | null): string {
  if (tags === null || !c.caps.has('message-tags')) return '';
  let out = '';
  for (const k in tags) {
    if (k.charCodeAt(0) !== 43 /* + */ || !/^\+[A-Za-z0-9./-]+$/.test(k)) continue;
    const kv = tags[k] === '' ? k : `${k}=${escapeTag(tags[k]!)}`;
    out = out === '' ? kv : `${out};${kv}`;
  }
  return out.length > 4094 ? '' : out;
}

function send(
  c: IrcConn,
  command: 'PRIVMSG' | 'NOTICE' | 'TAGMSG',
  m: Parameters<IrcCommand['run']>[1],
): void {
  const quiet = command === 'NOTICE'; // Modern: no automatic replies to NOTICE
  const p = m.params;
  if (p[0] === undefined || p[0] === '') {
    if (!quiet) c.reply(N.ERR_NORECIPIENT, `No recipient given (${command})`);
    return;
  }
  const tags = clientTags(c, m.tags);
  if (command === 'TAGMSG' && tags === '') return;
  if (command !== 'TAGMSG' && (p[1] === undefined || p[1] === '')) {
    if (!quiet) c.reply(N.ERR_NOTEXTTOSEND, 'No text to send');
    return;
  }
  let text = p[1] ?? '';
  let kind: MsgKind = quiet ? 'notice' : 'say';
  if (!quiet && text.startsWith('\x01ACTION ')) {
    kind = 'action';
    text = text.slice(8, text.endsWith('\x01') ? -1 : undefined);
  }
  // Each distinct target once (no duplicate delivery), at most MAX_TARGETS (407 beyond).
  const seen = new Set<string>();
  const targets: string[] = [];
  for (const t of p[0].split(',')) {
    if (t === '' || seen.has(foldCase(t))) continue;
    seen.add(foldCase(t));
    targets.push(t);
  }
  if (targets.length > MAX_TARGETS) {
    c.reply(N.ERR_TOOMANYTARGETS, p[0], `Too many recipients (max ${MAX_TARGETS})`);
    return;
  }
  // Every target beyond the first counts as one more line for flood control.
  c.penalize(targets.length - 1);
  const hub = c.ctx.hub;
  for (const raw of targets) {
    // STATUSMSG: `@#room` reaches its ops, `+#room` its voiced members and ops; several
    // prefixes (`@+#room`) mean the lowest of them (Modern: "STATUSMSG").
    let at = 0;
    while (at < raw.length && STATUS.includes(raw[at]!)) at++;
    const status: '@' | '+' | null = at === 0 ? null : raw.slice(0, at).includes('+') ? '+' : '@';
    const target = raw.slice(at);
    let out: Outgoing | null = null;
    if (status !== null) {
      const room = target.startsWith('#') ? hub.room(target) : undefined;
      if (room === undefined || room.size === 0) {
        if (!quiet) c.reply(N.ERR_NOSUCHNICK, raw, 'No such nick/channel');
        continue;
      }
      // Only members may write to a part of the room, and only when they could write to it all.
      if (!room.members.has(c) || !room.canSpeak(c)) {
        if (!quiet) c.reply(N.ERR_CANNOTSENDTOCHAN, room.name, 'Cannot send to channel');
        continue;
      }
      // TAGMSG to a status target is not relayed: +typing to ops only has no client that shows it.
      if (command === 'TAGMSG') continue;
      out = hub.statusSay(c, room, status, text, kind, tags);
      if (c.caps.has('echo-message')) c.echo(out, status + room.name);
      continue;
    }
    if (target.startsWith('#')) {
      const room = hub.room(target);
      if (room === undefined || room.size === 0) {
        // Modern PRIVMSG answers a missing channel with ERR_NOSUCHNICK ("No such nick/channel").
        if (!quiet) c.reply(N.ERR_NOSUCHNICK, target, 'No such nick/channel');
        continue;
      }
      if (!room.canSpeak(c)) {
        if (!quiet) c.reply(N.ERR_CANNOTSENDTOCHAN, room.name, 'Cannot send to channel');
        continue;
      }
      if (command === 'TAGMSG') {
        out = hub.tagmsg(c, room, tags);
      } else {
        out = hub.say(c, room, text, kind, tags);
      }
      if (c.caps.has('echo-message')) c.echo(out, room.name);
    } else {
      if (command === 'TAGMSG') {
        const to = hub.member(target);
        if (to === undefined) {
          c.reply(N.ERR_NOSUCHNICK, target, 'No such nick/channel');
          continue;
        }
        out = hub.tagmsgTo(c, to, tags);
      } else {
        out = hub.privmsg(c, target, text, kind, tags);
      }
      if (out === null) {
        if (!quiet) c.reply(N.ERR_NOSUCHNICK, target, 'No such nick/channel');
        continue;
      }
      const to = hub.member(target);
      if (!quiet && command === 'PRIVMSG' && to !== undefined && to.away !== '')
        c.reply(N.RPL_AWAY, to.nick, to.away);
      if (c.caps.has('echo-message')) c.echo(out, to?.nick ?? target);
    }
  }
}

export const messaging: Record<string, IrcCommand> = {
  PRIVMSG: { run: (c, m) => send(c, 'PRIVMSG', m) },
  NOTICE: { run: (c, m) => send(c, 'NOTICE', m) },
  TAGMSG: { min: 1, run: (c, m) => send(c, 'TAGMSG', m) },
};
