import { foldCase } from '../../casemap.js';
import type { HubMember, Room } from '../../hub.js';
import type { IrcConn } from '../../irc-conn.js';
import { formatIrcMessage as fmt } from '../../irc-message.js';
import { globMatcher } from '../../masks.js';
import * as N from '../numerics.js';
import type { IrcCommand } from './types.js';

function visibleRooms(c: IrcConn, m: HubMember): string[] {
  const out: string[] = [];
  for (const room of m.rooms) {
    if (room.secret && !room.members.has(c)) continue;
    out.push(room.prefix(m, c.caps.has('multi-prefix')) + room.name);
  }
  return out;
}

function flags(m: HubMember, room: Room | null, multi: boolean): string {
  return (m.away === '' ? 'H' : 'G') + (m.umodes.has('o') ? '*' : '') + (room?.prefix(m, multi) ?? '');
}

/** One WHO line; with WHOX (`%fields[,token]`) only the fields asked for, as 354. */
function whoLine(c: IrcConn, m: HubMember, room: Room | null, whox: string | null, token: string): void {
  const srv = c.ctx.opts.serverName;
  const chan = room?.name ?? '*';
  const fl = flags(m, room, c.caps.has('multi-prefix'));
  if (whox === null) {
    c.reply(N.RPL_WHOREPLY, chan, m.user, m.host, srv, m.nick, fl, `0 ${m.realname}`);
    return;
  }
  const out: string[] = [];
  // Field order is fixed by the WHOX spec, whatever order the client wrote them in.
  for (const f of 'tcuihsnfdlaor') {
    if (!whox.includes(f)) continue;
    if (f === 't') out.push(token);
    else if (f === 'c') out.push(chan);
    else if (f === 'u') out.push(m.user);
    else if (f === 'i') out.push('255.255.255.255');
    else if (f === 'h') out.push(m.host);
    else if (f === 's') out.push(srv);
    else if (f === 'n') out.push(m.nick);
    else if (f === 'f') out.push(fl);
    else if (f === 'd') out.push('0');
    else if (f === 'l') out.push(String(Math.floor((Date.now() - m.lastActive) / 1000)));
    else if (f === 'a') out.push(m.account || '0');
    else if (f === 'o') out.push('n/a');
    else if (f === 'r') out.push(m.realname);
  }
  c.send(fmt(srv, N.RPL_WHOSPCRPL, [c.nick, ...out], whox.includes('r')));
}

function whois(c: IrcConn, nick: string): void {
  const hub = c.ctx.hub;
  const m = hub.member(nick);
  const r = m === undefined ? hub.remoteNicks.get(foldCase(nick)) : undefined;
  const srv = c.ctx.opts.serverName;
  if (m !== undefined) {
    c.reply(N.RPL_WHOISUSER, m.nick, m.user, m.host, '*', m.realname);
    const rooms = visibleRooms(c, m);
    if (rooms.length > 0) c.reply(N.RPL_WHOISCHANNELS, m.nick, rooms.join(' '));
    c.reply(N.RPL_WHOISSERVER, m.nick, srv, c.ctx.opts.network);
    if (m.umodes.has('o')) c.reply(N.RPL_WHOISOPERATOR, m.nick, 'is an IRC operator');
    if (m.away !== '') c.reply(N.RPL_AWAY, m.nick, m.away);
    if (m.secure) c.reply(N.RPL_WHOISSECURE, m.nick, 'is using a secure connection');
    if (m.account !== '') c.reply(N.RPL_WHOISACCOUNT, m.nick, m.account, 'is logged in as');
    c.reply(
      N.RPL_WHOISIDLE,
      m.nick,
      String(Math.floor((Date.now() - m.lastActive) / 1000)),
      String(Math.floor(m.signon / 1000)),
      'seconds idle, signon time',
    );
  } else if (r !== undefined) {
    c.reply(N.RPL_WHOISUSER, r.nick, '~remote', r.node, '*', r.nick);
    c.reply(N.RPL_WHOISSERVER, r.nick, srv, `node ${r.node}`);
  } else {
    c.reply(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
  }
  c.reply(N.RPL_ENDOFWHOIS, m?.nick ?? r?.nick ?? nick, 'End of /WHOIS list.');
}

export const query: Record<string, IrcCommand> = {
  WHO: {
    run(c, m) {
      const hub = c.ctx.hub;
      const mask = m.params[0] ?? '*';
      const opt = m.params[1] ?? '';
      const pct = opt.indexOf('%');
      const whox = pct === -1 ? null : opt.slice(pct + 1).split(',')[0]!;
      const token = pct === -1 ? '' : (opt.slice(pct + 1).split(',')[1] ?? '0');
      const operOnly = opt.slice(0, pct === -1 ? undefined : pct).includes('o');
      const keep = (x: HubMember) => !operOnly || x.umodes.has('o');
      if (mask.startsWith('#')) {
        const room = hub.room(mask);
        if (room !== undefined && (!room.secret || room.members.has(c))) {
          for (const x of room.members) if (keep(x)) whoLine(c, x, room, whox, token);
          if (whox === null)
            for (const r of room.remote.values())
              c.reply(
                N.RPL_WHOREPLY,
                room.name,
                '~remote',
                r.node,
                c.ctx.opts.serverName,
                r.nick,
                'H',
                `1 ${r.nick}`,
              );
        }
      } else {
        const match = globMatcher(mask === '0' ? '*' : mask);
        for (const x of hub.members.values()) {
          if (!x.registered || !keep(x)) continue;
          // +i users are listed only to those sharing a room with them (Modern: "WHO").
          if (x !== c && x.umodes.has('i') && ![...x.rooms].some((r) => r.members.has(c))) continue;
          if (match(x.nick) || match(x.host) || match(x.realname) || match(x.user))
            whoLine(c, x, null, whox, token);
        }
      }
      c.reply(N.RPL_ENDOFWHO, mask, 'End of /WHO list.');
    },
  },
  WHOIS: {
    run(c, m) {
      const target = m.params[m.params.length - 1];
      if (target === undefined || target === '') return c.reply(N.ERR_NONICKNAMEGIVEN, 'No nickname given');
      whois(c, target.split(',')[0]!);
    },
  },
  WHOWAS: {
    run(c, m) {
      const nick = m.params[0];
      if (nick === undefined || nick === '') return c.reply(N.ERR_NONICKNAMEGIVEN, 'No nickname given');
      const count = Number(m.params[1] ?? 0);
      const f = foldCase(nick);
      let n = 0;
      const ww = c.ctx.hub.whowas;
      for (let k = ww.length - 1; k >= 0; k--) {
        const e = ww[k]!;
        if (foldCase(e.nick) !== f) continue;
        c.reply(N.RPL_WHOWASUSER, e.nick, e.user, e.host, '*', e.realname);
        c.reply(N.RPL_WHOISSERVER, e.nick, c.ctx.opts.serverName, new Date(e.at).toUTCString());
        if (++n === count && count > 0) break;
      }
      if (n === 0) c.reply(N.ERR_WASNOSUCHNICK, nick, 'There was no such nickname');
      c.reply(N.RPL_ENDOFWHOWAS, nick, 'End of WHOWAS');
    },
  },
  ISON: {
    min: 1,
    run(c, m) {
      const on: string[] = [];
      for (const n of m.params.join(' ').split(' ')) {
        const x = c.ctx.hub.member(n);
        if (x !== undefined) on.push(x.nick);
        else if (n !== '' && c.ctx.hub.remoteNicks.has(foldCase(n)))
          on.push(c.ctx.hub.remoteNicks.get(foldCase(n))!.nick);
      }
      c.reply(N.RPL_ISON, on.join(' '));
    },
  },
  USERHOST: {
    min: 1,
    run(c, m) {
      const replies: string[] = [];
      for (const n of m.params.slice(0, 5)) {
        const x = c.ctx.hub.member(n);
        if (x !== undefined)
          replies.push(
            `${x.nick}${x.umodes.has('o') ? '*' : ''}=${x.away === '' ? '+' : '-'}${x.user}@${x.host}`,
          );
      }
      c.reply(N.RPL_USERHOST, replies.join(' '));
    },
  },
  AWAY: {
    run(c, m) {
      const text = [...(m.params[0] ?? '')].slice(0, c.ctx.opts.awayMaxLength).join('');
      c.ctx.hub.setAway(c, text);
      if (text === '') c.reply(N.RPL_UNAWAY, 'You are no longer marked as being away');
      else c.reply(N.RPL_NOWAWAY, 'You have been marked as being away');
    },
  },
  SETNAME: {
    min: 1,
    run(c, m) {
      if (!c.caps.has('setname')) return c.reply(N.ERR_UNKNOWNCOMMAND, 'SETNAME', 'Unknown command');
      c.realname = m.params[0]!.slice(0, 100);
      c.send(fmt(c.prefix, 'SETNAME', [c.realname], true));
    },
  },
};
