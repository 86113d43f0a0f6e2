import { roomProblem } from '../../casemap.js';
import type { Room } from '../../hub.js';
import type { IrcConn } from '../../irc-conn.js';
import { formatIrcMessage as fmt } from '../../irc-message.js';
import { globMatcher } from '../../masks.js';
import * as N from '../numerics.js';
import type { IrcCommand } from './types.js';

/** The room by name, or 403 and null. */
export function roomOr403(c: IrcConn, name: string): Room | null {
  const room = c.ctx.hub.room(name);
  if (room === undefined || room.size === 0) {
    c.reply(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
    return null;
  }
  return room;
}

/** 353 lines (split to fit 512 bytes) and 366; hidden rooms show nothing to outsiders. */
export function names(c: IrcConn, room: Room): void {
  const member = room.members.has(c);
  if (member || !room.secret) {
    const multi = c.caps.has('multi-prefix');
    const uhnames = c.caps.has('userhost-in-names');
    const symbol = room.flags.has('s') ? '@' : room.flags.has('p') ? '*' : '=';
    const entries: string[] = [];
    for (const m of room.members) {
      if (!member && m.umodes.has('i')) continue;
      entries.push(room.prefix(m, multi) + (uhnames ? `${m.nick}!${m.user}@${m.host}` : m.nick));
    }
    for (const r of room.remote.values())
      entries.push(room.remotePrefix(r, multi) + (uhnames ? `${r.nick}!~remote@${r.node}` : r.nick));
    const head = fmt(c.ctx.opts.serverName, N.RPL_NAMREPLY, [c.nick, symbol, room.name, '']).length + 2;
    let batch = '';
    for (const e of entries) {
      if (batch.length + e.length + 1 + head > 500) {
        c.reply(N.RPL_NAMREPLY, symbol, room.name, batch);
        batch = '';
      }
      batch = batch === '' ? e : `${batch} ${e}`;
    }
    if (batch !== '') c.reply(N.RPL_NAMREPLY, symbol, room.name, batch);
  }
  c.reply(N.RPL_ENDOFNAMES, room.name, 'End of /NAMES list.');
}

export function topicReplies(c: IrcConn, room: Room, none: boolean): void {
  if (room.topic === '') {
    if (none) c.reply(N.RPL_NOTOPIC, room.name, 'No topic is set');
    return;
  }
  c.reply(N.RPL_TOPIC, room.name, room.topic);
  c.replyTokens(N.RPL_TOPICWHOTIME, room.name, room.topicBy, String(room.topicAt));
}

function part(c: IrcConn, room: Room, reason: string): void {
  c.send(fmt(c.prefix, 'PART', reason ? [room.name, reason] : [room.name], !!reason));
  c.ctx.hub.part(c, room, reason);
}

function join(c: IrcConn, name: string, key: string): void {
  const o = c.ctx.opts;
  const hub = c.ctx.hub;
  if (roomProblem(name, o.roomMaxLength) !== null) {
    c.reply(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
    return;
  }
  const existing = hub.room(name);
  if (existing !== undefined && c.rooms.has(existing)) return;
  if (c.rooms.size >= o.maxRoomsPerClient) {
    c.reply(N.ERR_TOOMANYCHANNELS, name, 'You have joined too many channels');
    return;
  }
  const r = hub.join(c, name, key);
  if (typeof r === 'string') {
    const shown = existing?.name ?? name;
    if (r === 'full') c.reply(N.ERR_CHANNELISFULL, shown, 'Cannot join channel (+l)');
    else if (r === 'invite-only') c.reply(N.ERR_INVITEONLYCHAN, shown, 'Cannot join channel (+i)');
    else if (r === 'banned') c.reply(N.ERR_BANNEDFROMCHAN, shown, 'Cannot join channel (+b)');
    else c.reply(N.ERR_BADCHANNELKEY, shown, 'Cannot join channel (+k)');
    return;
  }
  if (c.caps.has('extended-join')) {
    c.send(fmt(c.prefix, 'JOIN', [r.name, c.account || '*', c.realname], true));
  } else {
    c.send(fmt(c.prefix, 'JOIN', [r.name]));
  }
  topicReplies(c, r, false);
  names(c, r);
  c.replay(r);
}

/**
 * LIST filters (ELIST=MNU): channel names or masks (any may match), `!mask` (none may match),
 * `>n` / `<n` (also `U>n` / `U<n`) member counts (all must hold), comma-separated.
 */
function listFilter(arg: string | undefined): (room: Room) => boolean {
  if (arg === undefined || arg === '') return () => true;
  const masks: Array<(name: string) => boolean> = [];
  const not: Array<(name: string) => boolean> = [];
  let min = -1;
  let max = Number.POSITIVE_INFINITY;
  for (const part of arg.split(',')) {
    const count = /^U?([<>])(\d+)$/i.exec(part);
    if (count !== null) {
      if (count[1] === '>') min = Math.max(min, Number(count[2]));
      else max = Math.min(max, Number(count[2]));
    } else if (part.startsWith('!')) not.push(globMatcher(part.slice(1)));
    else if (part !== '') masks.push(globMatcher(part));
  }
  return (room) =>
    room.size > min &&
    room.size < max &&
    (masks.length === 0 || masks.some((m) => m(room.name))) &&
    !not.some((m) => m(room.name));
}

export const channel: Record<string, IrcCommand> = {
  JOIN: {
    min: 1,
    run(c, m) {
      if (m.params[0] === '0') {
        for (const room of [...c.rooms]) part(c, room, 'Left all channels');
        return;
      }
      const keys = (m.params[1] ?? '').split(',');
      m.params[0]!.split(',').forEach((name, k) => {
        if (name !== '') join(c, name, keys[k] ?? '');
      });
    },
  },
  PART: {
    min: 1,
    run(c, m) {
      for (const name of m.params[0]!.split(',')) {
        const room = roomOr403(c, name);
        if (room === null) continue;
        if (!room.members.has(c)) {
          c.reply(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
          continue;
        }
        part(c, room, m.params[1] ?? '');
      }
    },
  },
  TOPIC: {
    min: 1,
    run(c, m) {
      const room = roomOr403(c, m.params[0]!);
      if (room === null) return;
      const member = room.members.has(c);
      if (m.params[1] === undefined) {
        if (room.secret && !member)
          return c.reply(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
        return topicReplies(c, room, true);
      }
      if (!member) return c.reply(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
      const topic = [...m.params[1]].slice(0, c.ctx.opts.topicMaxLength).join('');
      if (!c.ctx.hub.setTopic(c, room, topic))
        c.reply(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
    },
  },
  NAMES: {
    run(c, m) {
      const hub = c.ctx.hub;
      if (m.params[0] === undefined) {
        // Modern: with no argument, servers may list every visible channel.
        for (const room of hub.rooms.values())
          if (room.size > 0 && (!room.secret || room.members.has(c))) names(c, room);
        c.reply(N.RPL_ENDOFNAMES, '*', 'End of /NAMES list.');
        return;
      }
      for (const name of m.params[0].split(',')) {
        const room = hub.room(name);
        if (room !== undefined && room.size > 0) names(c, room);
        else c.reply(N.RPL_ENDOFNAMES, name, 'End of /NAMES list.');
      }
    },
  },
  LIST: {
    run(c, m) {
      const keep = listFilter(m.params[0]);
      // SAFELIST: replies are never dropped, so a huge list could exceed the send queue's hard
      // limit and disconnect the client; it stops at a quarter of that limit instead.
      const budget = c.ctx.opts.sendQueue.hard / 4;
      let sent = 0;
      let shown = 0;
      c.reply(N.RPL_LISTSTART, 'Channel', 'Users  Name');
      for (const room of c.ctx.hub.rooms.values()) {
        if (room.size === 0 || (room.secret && !room.members.has(c)) || !keep(room)) continue;
        if (sent > budget) {
          c.notice(`LIST stopped after ${shown} channels; narrow it with a mask or >N`);
          break;
        }
        c.reply(N.RPL_LIST, room.name, String(room.size), room.topic);
        sent += 64 + room.name.length + room.topic.length * 3;
        shown++;
      }
      c.reply(N.RPL_LISTEND, 'End of /LIST');
    },
  },
  KICK: {
    min: 2,
    run(c, m) {
      const room = roomOr403(c, m.params[0]!);
      if (room === null) return;
      if (!room.members.has(c)) return c.reply(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
      const reason = [...(m.params[2] ?? c.nick)].slice(0, c.ctx.opts.kickMaxLength).join('');
      for (const target of m.params[1]!.split(',')) {
        const r = c.ctx.hub.kick(c, room, target, reason);
        if (r === 'not-op') return c.reply(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
        if (r === 'not-on-channel')
          c.reply(N.ERR_USERNOTINCHANNEL, target, room.name, "They aren't on that channel");
      }
    },
  },
  INVITE: {
    min: 2,
    run(c, m) {
      const [nick, name] = m.params as [string, string];
      const room = roomOr403(c, name);
      if (room === null) return;
      if (!room.members.has(c)) return c.reply(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
      const r = c.ctx.hub.invite(c, room, nick);
      if (r === 'no-such-nick') return c.reply(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
      if (r === 'on-channel') return c.reply(N.ERR_USERONCHANNEL, nick, room.name, 'is already on channel');
      if (r === 'not-op') return c.reply(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
      c.replyTokens(N.RPL_INVITING, r.nick, room.name);
      r.invited(c, room, r);
      // invite-notify: the room's ops hear of it too.
      for (const op of room.ops) if (op !== c && op !== r) op.invited(c, room, r);
      if (r.away !== '') c.reply(N.RPL_AWAY, r.nick, r.away);
    },
  },
};
