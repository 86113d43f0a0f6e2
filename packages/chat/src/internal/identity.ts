import { foldCase } from './casemap.js';
import type { HubMember } from './hub.js';
import type { IrcConn } from './irc-conn.js';
import { formatIrcMessage as fmt } from './irc-message.js';
import { releaseNickWatch } from './nick-ownership.js';

/**
 * The username of a logged-in member: its account (USERLEN 10, username characters), without the
 * `~` that marks a name nobody vouched for (as ngIRCd does for PAM-identified users).
 */
export function identUser(account: string): string {
  return account.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 10) || 'user';
}

/** Sends `line` once to `m` and every member sharing a room with it that has `cap` (IRC only). */
function tellSharing(m: HubMember, cap: string, line: string): void {
  const seen = new Set<HubMember>([m]);
  const tell = (x: HubMember) => {
    // Duck-typed: any IRC connection (TCP, TLS, WebSocket) has caps and send().
    const irc = x as Partial<IrcConn>;
    if (x.kind === 1 && !x.closing && irc.caps?.has(cap)) irc.send!(line);
  };
  tell(m);
  for (const room of m.rooms)
    for (const x of room.members) {
      if (seen.has(x)) continue;
      seen.add(x);
      tell(x);
    }
}

/**
 * Records a login (SASL, REGISTER, `/login`, `/register`). Once registered, the member's username
 * becomes the account (CHGHOST to `chghost` clients), and `account-notify` clients sharing a room
 * with it (itself included) get `ACCOUNT`. Before registration the welcome applies both.
 */
export function loggedIn(m: HubMember, account: string): void {
  m.account = account;
  if (foldCase(account) === m.folded) releaseNickWatch(m);
  if (!m.registered) return;
  const user = identUser(account);
  if (user !== m.user) {
    tellSharing(m, 'chghost', fmt(`${m.nick}!${m.user}@${m.host}`, 'CHGHOST', [user, m.host]));
    m.user = user;
  }
  tellSharing(m, 'account-notify', fmt(`${m.nick}!${m.user}@${m.host}`, 'ACCOUNT', [account]));
}
