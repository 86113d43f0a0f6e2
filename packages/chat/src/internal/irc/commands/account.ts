import { MAX_PASSWORD_BYTES } from '../../account-limits.js';
import { foldCase } from '../../casemap.js';
import { loggedIn as recordLogin } from '../../identity.js';
import type { IrcConn } from '../../irc-conn.js';
import { formatIrcMessage as fmt } from '../../irc-message.js';
import { trackLogin } from '../../nick-ownership.js';
import {
  decoyKeys,
  parseClientFirst,
  parseScram,
  type ScramExchange,
  type ScramKeys,
  serverFirst,
  verifyClientFinal,
} from '../../scram.js';
import { accountsUp, saslMechanisms } from '../caps.js';
import * as N from '../numerics.js';
import { maybeWelcome } from './registration.js';
import type { IrcCommand } from './types.js';

/** One AUTHENTICATE parameter carries at most this much base64 (IRCv3 SASL). */
const CHUNK = 400;
/** Base64 collected for one SASL message; more is 905. */
const MAX_MESSAGE = 4_096;
/** Failed SASL attempts one connection may make; after that every attempt is refused at once. */
export const MAX_SASL_FAILURES = 3;

/** Where a SCRAM exchange stands between AUTHENTICATE lines (PLAIN needs one message, no state). */
type ScramStep =
  | { step: 'first' }
  | { step: 'final'; ex: ScramExchange; keys: ScramKeys; account: string | null }
  | { step: 'done'; account: string };

const scram = new WeakMap<IrcConn, ScramStep>();
const failures = new WeakMap<IrcConn, number>();

function loggedIn(c: IrcConn, account: string): void {
  recordLogin(c, account);
  c.reply(N.RPL_LOGGEDIN, c.prefix, account, `You are now logged in as ${account}`);
}

/** Ends the exchange with 904; `counted` failures (wrong credentials) use up an attempt. */
function fail(c: IrcConn, counted: boolean, text = 'SASL authentication failed'): void {
  c.sasl = null;
  scram.delete(c);
  if (counted) failures.set(c, (failures.get(c) ?? 0) + 1);
  c.reply(N.ERR_SASLFAIL, text);
}

function succeed(c: IrcConn, account: string): void {
  c.sasl = null;
  scram.delete(c);
  loggedIn(c, account);
  c.reply(N.RPL_SASLSUCCESS, 'SASL authentication successful');
}

const UNAVAILABLE = 'SASL authentication failed: accounts are unavailable, try later';

/** Sends a server challenge in 400-byte AUTHENTICATE chunks; `+` ends an exact multiple. */
function challenge(c: IrcConn, text: string): void {
  const b64 = Buffer.from(text).toString('base64');
  for (let i = 0; i < b64.length; i += CHUNK) c.send(`AUTHENTICATE ${b64.slice(i, i + CHUNK)}\r\n`);
  if (b64.length % CHUNK === 0) c.send('AUTHENTICATE +\r\n');
}

async function finishPlain(c: IrcConn, msg: Buffer): Promise<void> {
  const parts = msg.toString('utf8').split('\0');
  const store = c.ctx.accounts!;
  let name: string | null = null;
  if (parts.length === 3 && parts[1] !== '' && Buffer.byteLength(parts[2]!) <= MAX_PASSWORD_BYTES) {
    try {
      name = await trackLogin(c, store.verify(parts[1]!, parts[2]!));
    } catch (err) {
      c.ctx.log(`SASL PLAIN for ${c.host}: ${(err as Error).message}`);
      return fail(c, false, UNAVAILABLE);
    }
  }
  // authzid, when given, must be the same account (no impersonation).
  if (name === null || (parts[0] !== '' && parts[0] !== parts[1])) return fail(c, true);
  succeed(c, name);
}

async function stepScram(c: IrcConn, msg: Buffer): Promise<void> {
  const st = scram.get(c) ?? { step: 'first' };
  const text = msg.toString('utf8');
  if (st.step === 'first') {
    const cf = parseClientFirst(text);
    if (cf === null) return fail(c, true);
    let creds: { account: string; scram: string } | null;
    try {
      creds =
        (await trackLogin(c, c.ctx.accounts!.scramCredentials?.(cf.user) ?? Promise.resolve(null))) ?? null;
    } catch (err) {
      c.ctx.log(`SASL SCRAM-SHA-256 for ${c.host}: ${(err as Error).message}`);
      return fail(c, false, UNAVAILABLE);
    }
    if (c.sasl === null) return;
    const stored = creds === null ? null : parseScram(creds.scram);
    // An unknown account runs the whole exchange and fails at the proof, like a wrong password.
    const keys = stored ?? decoyKeys(foldCase(cf.user));
    const ex = serverFirst(cf, keys);
    scram.set(c, { step: 'final', ex, keys, account: stored === null ? null : creds!.account });
    challenge(c, ex.serverFirst);
    return;
  }
  if (st.step === 'final') {
    const serverFinal = verifyClientFinal(st.ex, st.keys, text);
    if (serverFinal === null || st.account === null) return fail(c, true);
    scram.set(c, { step: 'done', account: st.account });
    challenge(c, serverFinal);
    return;
  }
  // After server-final-message the client answers with an empty response (AUTHENTICATE +).
  if (msg.length !== 0) return fail(c, true);
  succeed(c, st.account);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const account: Record<string, IrcCommand> = {
  AUTHENTICATE: {
    pre: true,
    min: 1,
    async run(c, m) {
      const arg = m.params[0]!;
      if (!accountsUp(c.ctx) || !c.caps.has('sasl')) {
        fail(c, false);
        return maybeWelcome(c);
      }
      if (arg === '*') {
        c.sasl = null;
        scram.delete(c);
        c.reply(N.ERR_SASLABORTED, 'SASL authentication aborted');
        return maybeWelcome(c);
      }
      if (c.sasl === null) {
        if (c.account !== '') return c.reply(N.ERR_SASLALREADY, 'You have already authenticated using SASL');
        if ((failures.get(c) ?? 0) >= MAX_SASL_FAILURES)
          return fail(c, false, 'SASL authentication failed: too many attempts');
        const mechs = saslMechanisms(c.ctx);
        const mech = arg.toUpperCase();
        if (!mechs.includes(mech)) {
          c.reply(N.RPL_SASLMECHS, mechs.join(','), 'are available SASL mechanisms');
          return fail(c, false);
        }
        c.sasl = { mech, data: '' };
        if (mech === 'SCRAM-SHA-256') scram.set(c, { step: 'first' });
        c.send('AUTHENTICATE +\r\n');
        return;
      }
      if (arg.length > CHUNK || c.sasl.data.length + arg.length > MAX_MESSAGE) {
        c.sasl = null;
        scram.delete(c);
        c.reply(N.ERR_SASLTOOLONG, 'SASL message too long');
        return maybeWelcome(c);
      }
      if (arg !== '+') c.sasl.data += arg;
      // A 400-byte chunk means more follows (IRCv3 SASL: AUTHENTICATE).
      if (arg.length === CHUNK) return;
      const b64 = c.sasl.data;
      c.sasl.data = '';
      if (!BASE64.test(b64)) fail(c, true);
      else if (c.sasl.mech === 'PLAIN') await finishPlain(c, Buffer.from(b64, 'base64'));
      else await stepScram(c, Buffer.from(b64, 'base64'));
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
      if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
        c.send(
          fmt(
            c.ctx.opts.serverName,
            'FAIL',
            ['REGISTER', 'UNACCEPTABLE_PASSWORD', name, 'Password too long'],
            true,
          ),
        );
        return;
      }
      let created: boolean;
      try {
        created = await store.register(name, password);
      } catch (err) {
        c.ctx.log(`REGISTER ${name} for ${c.host}: ${(err as Error).message}`);
        c.send(
          fmt(
            c.ctx.opts.serverName,
            'FAIL',
            ['REGISTER', 'TEMPORARILY_UNAVAILABLE', name, 'Account registration is unavailable, try later'],
            true,
          ),
        );
        return;
      }
      if (!created) {
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
