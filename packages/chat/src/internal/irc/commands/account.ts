import { loggedIn as recordLogin } from '../../identity.js';
import type { IrcConn } from '../../irc-conn.js';
import { formatIrcMessage as fmt } from '../../irc-message.js';
import { accountsUp } from '../caps.js';
import * as N from '../numerics.js';
import { maybeWelcome } from './registration.js';
import type { IrcCommand } from './types.js';

function loggedIn(c: IrcConn, account: string): void {
  recordLogin(c, account);
  c.reply(N.RPL_LOGGEDIN, c.prefix, account, `You are now logged in as ${account}`);
}

async function finishPlain(c: IrcConn, b64: string): Promise<void> {
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  const store = c.ctx.accounts!;
  const name = parts.length === 3 && parts[1] !== '' ? await store.verify(parts[1]!, parts[2]!) : null;
  // authzid, when given, must be the same account (no impersonation).
  if (name === null || (parts[0] !== '' && parts[0] !== parts[1])) {
    c.reply(N.ERR_SASLFAIL, 'SASL authentication failed');
  } else {
    loggedIn(c, name);
    c.reply(N.RPL_SASLSUCCESS, 'SASL authentication successful');
  }
}

export const account: Record<string, IrcCommand> = {
  AUTHENTICATE: {
    pre: true,
    min: 1,
    async run(c, m) {
      const arg = m.params[0]!;
      if (!accountsUp(c.ctx) || !c.caps.has('sasl')) {
        c.reply(N.ERR_SASLFAIL, 'SASL authentication failed');
        return;
      }
      if (arg === '*') {
        c.sasl = null;
        c.reply(N.ERR_SASLABORTED, 'SASL authentication aborted');
        return maybeWelcome(c);
      }
      if (c.sasl === null) {
        if (c.account !== '') return c.reply(N.ERR_SASLALREADY, 'You have already authenticated using SASL');
        if (arg.toUpperCase() !== 'PLAIN') {
          c.reply(N.RPL_SASLMECHS, 'PLAIN', 'are available SASL mechanisms');
          c.reply(N.ERR_SASLFAIL, 'SASL authentication failed');
          return;
        }
        c.sasl = { mech: 'PLAIN', data: '' };
        c.send('AUTHENTICATE +\r\n');
        return;
      }
      if (arg !== '+') c.sasl.data += arg;
      if (c.sasl.data.length > 4096) {
        c.sasl = null;
        return c.reply(N.ERR_SASLTOOLONG, 'SASL message too long');
      }
      // A 400-byte chunk means more follows (IRCv3 SASL: AUTHENTICATE).
      if (arg.length === 400) return;
      const data = c.sasl.data;
      c.sasl = null;
      await finishPlain(c, data);
      return maybeWelcome(c);
    },
  },
  REGISTER: {
    pre: true,
    min: 3,
    async run(c, m) {
      const store = c.ctx.accounts;
      if (store !== null && c.ctx.opts.registration && !accountsUp(c.ctx)) {
        c.send(
          fmt(
            c.ctx.opts.serverName,
            'FAIL',
            [
              'REGISTER',
              'TEMPORARILY_UNAVAILABLE',
              m.params[0]!,
              'Account registration is unavailable, try later',
            ],
            true,
          ),
        );
        return;
      }
      if (store === null || !c.ctx.opts.registration) {
        c.send(
          fmt(
            c.ctx.opts.serverName,
            'FAIL',
            ['REGISTER', 'DISABLED', 'Account registration is disabled'],
            true,
          ),
        );
        return;
      }
      const name = m.params[0] === '*' ? c.nick : m.params[0]!;
      const password = m.params[2]!;
      if (c.account !== '') {
        c.send(
          fmt(
            c.ctx.opts.serverName,
            'FAIL',
            ['REGISTER', 'ALREADY_AUTHENTICATED', name, 'You are already logged in'],
            true,
          ),
        );
        return;
      }
      if (name === '' || !/^[A-Za-z0-9_[\]\\`^{|}-]{1,30}$/.test(name)) {
        c.send(
          fmt(
            c.ctx.opts.serverName,
            'FAIL',
            ['REGISTER', 'BAD_ACCOUNT_NAME', name || '*', 'Invalid account name'],
            true,
          ),
        );
        return;
      }
      if (password.length < 6) {
        c.send(
          fmt(c.ctx.opts.serverName, 'FAIL', ['REGISTER', 'WEAK_PASSWORD', name, 'Password too short'], true),
        );
        return;
      }
      if (!(await store.register(name, password))) {
        c.send(
          fmt(
            c.ctx.opts.serverName,
            'FAIL',
            ['REGISTER', 'ACCOUNT_EXISTS', name, 'Account already exists'],
            true,
          ),
        );
        return;
      }
      c.send(fmt(c.ctx.opts.serverName, 'REGISTER', ['SUCCESS', name, 'Account created'], true));
      loggedIn(c, name);
    },
  },
};
