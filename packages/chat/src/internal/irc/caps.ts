import type { IrcConn } from '../irc-conn.js';
import { TAG_ACCOUNT, TAG_AWAY, TAG_EXTJOIN, TAG_MSGTAGS, TAG_TIME } from '../irc-encode.js';
import type { IrcMessage } from '../irc-message.js';
import { maybeWelcome } from './commands/registration.js';
import { ERR_INVALIDCAPCMD } from './numerics.js';

/** Capabilities offered in `CAP LS`; `sasl` only when an account store is configured. */
export const CAPABILITIES = [
  'account-notify',
  'account-tag',
  'away-notify',
  'batch',
  'cap-notify',
  'chghost',
  'draft/chathistory',
  'echo-message',
  'extended-join',
  'invite-notify',
  'labeled-response',
  'message-tags',
  'multi-prefix',
  'server-time',
  'setname',
  'userhost-in-names',
] as const;

/** The tag mask (irc-encode TAG_*) for a set of enabled capabilities. */
export function capMask(caps: ReadonlySet<string>): number {
  let m = 0;
  if (caps.has('server-time')) m |= TAG_TIME;
  if (caps.has('message-tags')) m |= TAG_MSGTAGS;
  if (caps.has('account-tag')) m |= TAG_ACCOUNT;
  if (caps.has('extended-join')) m |= TAG_EXTJOIN;
  if (caps.has('away-notify')) m |= TAG_AWAY;
  return m;
}

function offered(c: IrcConn): Map<string, string> {
  const out = new Map<string, string>();
  for (const cap of CAPABILITIES) out.set(cap, '');
  if (c.ctx.accounts !== null) out.set('sasl', 'PLAIN');
  if (c.ctx.accounts !== null && c.ctx.opts.registration)
    out.set('draft/account-registration', 'before-connect');
  const sts = c.ctx.opts.tls?.sts;
  // STS needs cap values, so only 302 clients see it (IRCv3 sts).
  if (sts && c.ctx.tlsPort !== null && c.capVersion >= 302) {
    out.set(
      'sts',
      c.secure ? `duration=${sts.duration}${sts.preload ? ',preload' : ''}` : `port=${c.ctx.tlsPort}`,
    );
  }
  return out;
}

/** Capabilities a client may not REQ (IRCv3 sts: "Clients MUST NOT request this capability"). */
const NOT_REQUESTABLE = new Set(['sts']);

/** CAP LS/LIST/REQ/END (IRCv3 capability negotiation, 302). */
export function capCommand(c: IrcConn, msg: IrcMessage): void | Promise<void> {
  const sub = (msg.params[0] ?? '').toUpperCase();
  switch (sub) {
    case 'LS': {
      if (!c.registered) c.capPending = true;
      const v = Number(msg.params[1] ?? 0);
      if (v >= 302) {
        c.capVersion = Math.max(c.capVersion, v);
        // 302 implies cap-notify (IRCv3 cap-notify spec).
        c.caps.add('cap-notify');
      }
      const list = [...offered(c)]
        .map(([k, val]) => (val !== '' && c.capVersion >= 302 ? `${k}=${val}` : k))
        .join(' ');
      c.fromServer('CAP', [c.target, 'LS', list]);
      return;
    }
    case 'LIST':
      c.fromServer('CAP', [c.target, 'LIST', [...c.caps].join(' ')]);
      return;
    case 'REQ': {
      if (!c.registered) c.capPending = true;
      const req = (msg.params[1] ?? '').trim();
      const have = offered(c);
      const items = req.split(/ +/).filter((x) => x !== '');
      // All or nothing (IRCv3: a REQ is ACKed or NAKed as a whole).
      const ok =
        items.length > 0 &&
        items.every((x) => have.has(x.replace(/^-/, '')) && !NOT_REQUESTABLE.has(x.replace(/^-/, '')));
      if (!ok) {
        c.fromServer('CAP', [c.target, 'NAK', req]);
        return;
      }
      for (const x of items) {
        if (x.startsWith('-')) c.caps.delete(x.slice(1));
        else c.caps.add(x);
      }
      c.capsChanged();
      c.fromServer('CAP', [c.target, 'ACK', req]);
      return;
    }
    case 'END':
      if (c.registered) return;
      c.capPending = false;
      return maybeWelcome(c);
    default:
      c.reply(ERR_INVALIDCAPCMD, sub || '*', 'Invalid CAP command');
  }
}
