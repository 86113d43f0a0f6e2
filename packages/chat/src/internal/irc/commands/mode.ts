import { foldCase } from '../../casemap.js';
import { type ModeChange, splitModes } from '../../hub.js';
import type { IrcConn } from '../../irc-conn.js';
import { formatIrcMessage as fmt } from '../../irc-message.js';
import { MAX_MODES } from '../isupport.js';
import * as N from '../numerics.js';
import { roomOr403 } from './channel.js';
import type { IrcCommand } from './types.js';

const USER_MODES = 'iwo';

/** The replies of each list mode: one entry, the end, and the end's text. */
const LISTS: Record<string, { entry: string; end: string; text: string }> = {
  b: { entry: N.RPL_BANLIST, end: N.RPL_ENDOFBANLIST, text: 'End of channel ban list' },
  e: { entry: N.RPL_EXCEPTLIST, end: N.RPL_ENDOFEXCEPTLIST, text: 'End of channel exception list' },
  I: { entry: N.RPL_INVITELIST, end: N.RPL_ENDOFINVITELIST, text: 'End of channel invite list' },
};

function channelMode(c: IrcConn, name: string, modes: string | undefined, args: string[]): void {
  const room = roomOr403(c, name);
  if (room === null) return;
  const member = room.members.has(c);
  if (modes === undefined) {
    c.replyTokens(N.RPL_CHANNELMODEIS, room.name, ...room.modeParams(member));
    c.replyTokens(N.RPL_CREATIONTIME, room.name, String(room.createdAt));
    return;
  }
  const changes: ModeChange[] = [];
  let withArg = 0;
  for (const ch of splitModes(modes, args)) {
    // A list mode without a mask asks for the list (Modern: "MODE"). Anyone may see +b; +e and
    // +I say who is exempt, so only members see them (as ngIRCd and ergo do for outsiders).
    const list = LISTS[ch.mode];
    if (list !== undefined && ch.arg === undefined) {
      if (ch.mode === 'b' || member || c.umodes.has('o'))
        for (const b of room.list(ch.mode)) c.replyTokens(list.entry, room.name, b.mask, b.by, String(b.at));
      c.reply(list.end, room.name, list.text);
      continue;
    }
    if (ch.arg !== undefined && ++withArg > MAX_MODES) continue;
    changes.push(ch);
  }
  if (changes.length === 0) return;
  if (!member && !c.umodes.has('o')) {
    c.reply(N.ERR_NOTONCHANNEL, room.name, "You're not on that channel");
    return;
  }
  const { problems } = c.ctx.hub.mode(c, room, changes);
  for (const p of problems) {
    switch (p.code) {
      case 'not-op':
        c.reply(N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator");
        break;
      case 'unknown':
        c.reply(N.ERR_UNKNOWNMODE, p.mode, 'is unknown mode char to me');
        break;
      case 'no-such-nick':
        c.reply(N.ERR_NOSUCHNICK, p.nick, 'No such nick/channel');
        break;
      case 'not-on-channel':
        c.reply(N.ERR_USERNOTINCHANNEL, p.nick, room.name, "They aren't on that channel");
        break;
      case 'need-param':
        c.reply(N.ERR_NEEDMOREPARAMS, 'MODE', 'Not enough parameters');
        break;
      case 'key-set':
        c.reply(N.ERR_KEYSET, room.name, 'Channel key already set');
        break;
      case 'list-full':
        c.reply(N.ERR_BANLISTFULL, room.name, p.mask, 'Channel list is full');
        break;
    }
  }
}

function userMode(c: IrcConn, nick: string, modes: string | undefined): void {
  if (foldCase(nick) !== c.folded) {
    if (c.ctx.hub.member(nick) === undefined) {
      c.reply(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
      return;
    }
    c.reply(N.ERR_USERSDONTMATCH, "Can't change mode for other users");
    return;
  }
  if (modes === undefined) {
    c.replyTokens(N.RPL_UMODEIS, `+${[...c.umodes].sort().join('')}`);
    return;
  }
  let add = true;
  let applied = '';
  let sign = '';
  let unknown = false;
  for (const ch of modes) {
    if (ch === '+' || ch === '-') {
      add = ch === '+';
      continue;
    }
    if (!USER_MODES.includes(ch)) {
      unknown = true;
      continue;
    }
    // +o only through OPER (Modern: "MODE", user modes).
    if (ch === 'o' && add) continue;
    if (c.umodes.has(ch) === add) continue;
    if (add) c.umodes.add(ch);
    else c.umodes.delete(ch);
    const s = add ? '+' : '-';
    applied += (s === sign ? '' : s) + ch;
    sign = s;
  }
  if (unknown) c.reply(N.ERR_UMODEUNKNOWNFLAG, 'Unknown MODE flag');
  if (applied !== '') c.send(fmt(c.prefix, 'MODE', [c.nick, applied], true));
}

export const mode: Record<string, IrcCommand> = {
  MODE: {
    min: 1,
    run(c, m) {
      const [target, modes, ...args] = m.params as [string, string | undefined, ...string[]];
      if (target.startsWith('#')) channelMode(c, target, modes, args);
      else userMode(c, target, modes);
    },
  },
};
