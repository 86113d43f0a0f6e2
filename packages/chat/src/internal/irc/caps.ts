import { hasScram } from '../accounts.js';
import type { Ctx } from '../context.js';
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
  if (accountsUp(c.ctx)) {
    out.set('sasl', saslMechanisms(c.ctx).join(','));
    if (c.ctx.opts.registration) out.set('draft/account-registration', 'before-connect');
  }
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

/** SASL mechanisms offered (908 RPL_SASLMECHS, `sasl=` in CAP LS 302): SCRAM when the store keeps its credentials. */
export function saslMechanisms(ctx: Ctx): string[] {
  return ctx.accounts !== null && hasScram(ctx.accounts) ? ['PLAIN', 'SCRAM-SHA-256'] : ['PLAIN'];
}

/** Whether there is an account store and it can answer now (a shared one may be unreachable). */
export function accountsUp(ctx: Ctx): boolean {
  return ctx.accounts !== null && (ctx.accounts.available?.() ?? true);
}

/**
 * The account store went away or came back: `CAP DEL` / `CAP NEW` for `sasl` (and
 * `draft/account-registration`) to every cap-notify client (IRCv3 cap-notify). A client without
 * cap-notify is not told; its AUTHENTICATE fails (904) until the store is back.
 */
export function accountsAvailability(ctx: Ctx, up: boolean): void {
  if (ctx.accounts === null) return;
  ctx.log(
    up
      ? 'account store is available: SASL and registration offered (CAP NEW)'
      : 'account store is unavailable: SASL and registration withdrawn (CAP DEL) until it is back',
  );
  const names = ctx.opts.registration ? ['sasl', 'draft/account-registration'] : ['sasl'];
  for (const x of ctx.conns) {
    // Duck-typed: every IRC connection (TCP, TLS, WebSocket) has caps.
    const c = x as Partial<IrcConn>;
    if (c.caps === undefined || c.closing || !c.caps.has('cap-notify')) continue;
    const conn = c as IrcConn;
    if (up) {
      const have = offered(conn);
      const list = names
        .filter((n) => have.has(n))
        .map((n) => (have.get(n) !== '' && conn.capVersion >= 302 ? `${n}=${have.get(n)}` : n));
      if (list.length > 0) conn.fromServer('CAP', [conn.target, 'NEW', list.join(' ')]);
    } else {
      // Cancelled for the client once DEL is sent (cap-notify: the server MUST stop the behaviour).
      for (const n of names) conn.caps.delete(n);
      conn.capsChanged();
      conn.fromServer('CAP', [conn.target, 'DEL', names.join(' ')]);
    }
  }
}

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
