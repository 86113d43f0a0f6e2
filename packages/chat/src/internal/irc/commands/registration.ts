import { verifyPassword } from '../../../passwords.js';
import { VERSION } from '../../../version.js';
import { nickProblem } from '../../casemap.js';
import { identUser } from '../../identity.js';
import type { IrcConn } from '../../irc-conn.js';
import { watchNick } from '../../nick-ownership.js';
import { capCommand } from '../caps.js';
import * as N from '../numerics.js';
import { isupport, lusers, motd } from './server-info.js';
import type { IrcCommand } from './types.js';

/** Sends 001-005, LUSERS and MOTD once NICK, USER, CAP END (and PASS) are done. */
export async function maybeWelcome(c: IrcConn): Promise<void> {
  if (c.registered || c.capPending || c.sasl !== null || !c.nickSet || c.user === '') return;
  const o = c.ctx.opts;
  if (!c.passOk) {
    if (c.passGiven === '' || !(await verifyPassword(c.passGiven, o.password!))) {
      c.reply(N.ERR_PASSWDMISMATCH, 'Password incorrect');
      c.disconnect('bad password', 'Bad password', false);
      return;
    }
    c.passOk = true;
  }
  if (c.registered || c.closing) return;
  // Logged in with SASL during registration: the username is the account from the start.
  if (c.account !== '') c.user = identUser(c.account);
  c.registered = true;
  c.signon = Date.now();
  c.reply(N.RPL_WELCOME, `Welcome to the ${o.network} Network, ${c.prefix}`);
  c.reply(N.RPL_YOURHOST, `Your host is ${o.serverName}, running version asyncnet-chat-${VERSION}`);
  c.reply(N.RPL_CREATED, `This server was created ${c.ctx.createdAt.toUTCString()}`);
  c.replyTokens(N.RPL_MYINFO, o.serverName, `asyncnet-chat-${VERSION}`, 'iow', 'beIiklmnopstv', 'beIklov');
  isupport(c);
  lusers(c);
  motd(c);
  void watchNick(c.ctx, c);
}

async function nick(c: IrcConn, nick: string): Promise<void> {
  if (nick === '') {
    c.reply(N.ERR_NONICKNAMEGIVEN, 'No nickname given');
    return;
  }
  if (nickProblem(nick, c.ctx.opts.nickMaxLength) !== null) {
    c.reply(N.ERR_ERRONEUSNICKNAME, nick, 'Erroneous nickname');
    return;
  }
  if (nick === c.nick) return;
  const old = c.nick;
  const oldPrefix = c.prefix;
  const ok = await c.ctx.hub.claimNick(c, nick);
  if (c.closing) {
    if (ok && !c.registered) c.ctx.hub.quit(c, 'connection closed');
    return;
  }
  if (!ok) {
    c.reply(N.ERR_NICKNAMEINUSE, nick, 'Nickname is already in use');
    return;
  }
  if (c.registered) {
    c.send(`:${oldPrefix} NICK :${nick}\r\n`);
    c.ctx.hub.renamed(c, old);
    void watchNick(c.ctx, c);
  } else {
    c.nickSet = true;
    await maybeWelcome(c);
  }
}

export const registration: Record<string, IrcCommand> = {
  CAP: { pre: true, run: capCommand },
  PASS: {
    pre: true,
    min: 1,
    run(c, m) {
      if (c.registered) return c.reply(N.ERR_ALREADYREGISTERED, 'You may not reregister');
      c.passGiven = m.params[0]!;
    },
  },
  NICK: { pre: true, run: (c, m) => nick(c, m.params[0] ?? '') },
  USER: {
    pre: true,
    min: 4,
    run(c, m) {
      if (c.registered) return c.reply(N.ERR_ALREADYREGISTERED, 'You may not reregister');
      c.user = `~${m.params[0]!.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 9) || 'user'}`;
      c.realname = m.params[3]!.slice(0, 100);
      return maybeWelcome(c);
    },
  },
  PING: {
    pre: true,
    run(c, m) {
      if (m.params[0] === undefined || m.params[0] === '')
        return c.reply(N.ERR_NOORIGIN, 'No origin specified');
      c.fromServer('PONG', [c.ctx.opts.serverName, m.params[0]]);
    },
  },
  PONG: { pre: true, run() {} },
  QUIT: {
    pre: true,
    run(c, m) {
      const r = m.params[0];
      if (!c.registered) c.disconnect('client quit', 'Quit', false);
      else c.disconnect('client quit', `Quit: ${r ?? ''}`, false, r ?? 'Client quit');
    },
  },
};
