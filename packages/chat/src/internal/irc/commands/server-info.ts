import { VERSION } from '../../../version.js';
import type { IrcConn } from '../../irc-conn.js';
import { isupportTokens } from '../isupport.js';
import * as N from '../numerics.js';
import type { IrcCommand } from './types.js';

export function lusers(c: IrcConn): void {
  const hub = c.ctx.hub;
  let users = 0;
  let invisible = 0;
  let opers = 0;
  for (const m of hub.members.values()) {
    if (!m.registered) continue;
    users++;
    if (m.umodes.has('i')) invisible++;
    if (m.umodes.has('o')) opers++;
  }
  const unknown = c.ctx.conns.size - users;
  const total = users + hub.remoteNicks.size;
  let rooms = 0;
  for (const r of hub.rooms.values()) if (r.size > 0) rooms++;
  c.reply(N.RPL_LUSERCLIENT, `There are ${total - invisible} users and ${invisible} invisible on 1 servers`);
  c.replyTokens(N.RPL_LUSEROP, String(opers), 'operator(s) online');
  c.replyTokens(N.RPL_LUSERUNKNOWN, String(Math.max(0, unknown)), 'unknown connection(s)');
  c.replyTokens(N.RPL_LUSERCHANNELS, String(rooms), 'channels formed');
  c.reply(N.RPL_LUSERME, `I have ${users} clients and 1 servers`);
  c.replyTokens(N.RPL_LOCALUSERS, String(users), String(users), `Current local users ${users}, max ${users}`);
  c.replyTokens(
    N.RPL_GLOBALUSERS,
    String(total),
    String(total),
    `Current global users ${total}, max ${total}`,
  );
}

/** RPL_ISUPPORT, at most 13 tokens per line (Modern: RPL_ISUPPORT). */
export function isupport(c: IrcConn): void {
  const tokens = isupportTokens(c.ctx.opts);
  for (let k = 0; k < tokens.length; k += 13) {
    c.reply(N.RPL_ISUPPORT, ...tokens.slice(k, k + 13), 'are supported by this server');
  }
}

export function motd(c: IrcConn): void {
  const o = c.ctx.opts;
  if (o.motd.length === 0) {
    c.reply(N.ERR_NOMOTD, 'MOTD File is missing');
    return;
  }
  c.reply(N.RPL_MOTDSTART, `- ${o.serverName} Message of the day -`);
  for (const line of o.motd) c.reply(N.RPL_MOTD, `- ${line}`);
  c.reply(N.RPL_ENDOFMOTD, 'End of /MOTD command.');
}

/** A server argument naming another server gets 402: this is a single-server network. */
function otherServer(c: IrcConn, target: string | undefined): boolean {
  if (target === undefined || target === c.ctx.opts.serverName || target === c.nick) return false;
  c.reply(N.ERR_NOSUCHSERVER, target, 'No such server');
  return true;
}

export const serverInfo: Record<string, IrcCommand> = {
  MOTD: { run: (c, m) => (otherServer(c, m.params[0]) ? undefined : motd(c)) },
  LUSERS: { run: (c) => lusers(c) },
  VERSION: {
    run(c, m) {
      if (otherServer(c, m.params[0])) return;
      c.reply(N.RPL_VERSION, `asyncnet-chat-${VERSION}.`, c.ctx.opts.serverName, 'Modern IRC + IRCv3');
      // Modern VERSION: RPL_VERSION then the RPL_ISUPPORT lines.
      isupport(c);
    },
  },
  TIME: {
    run(c, m) {
      if (otherServer(c, m.params[0])) return;
      c.reply(N.RPL_TIME, c.ctx.opts.serverName, new Date().toUTCString());
    },
  },
  INFO: {
    run(c) {
      c.reply(N.RPL_INFO, `asyncnet-chat ${VERSION}: Python asyncio's Streams model for Node.js`);
      c.reply(N.RPL_INFO, 'https://github.com/asyncnet/asyncnet');
      c.reply(N.RPL_ENDOFINFO, 'End of INFO list');
    },
  },
  ADMIN: {
    run(c, m) {
      if (otherServer(c, m.params[0])) return;
      const a = c.ctx.opts.admin;
      c.reply(N.RPL_ADMINME, c.ctx.opts.serverName, 'Administrative info');
      c.reply(N.RPL_ADMINLOC1, a.location);
      c.reply(N.RPL_ADMINLOC2, c.ctx.opts.network);
      c.reply(N.RPL_ADMINEMAIL, a.email || '-');
    },
  },
};
