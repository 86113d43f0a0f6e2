import { foldCase } from './casemap.js';
import type { Ctx } from './context.js';
import type { HubMember } from './hub.js';

const timers = new WeakMap<HubMember, ReturnType<typeof setTimeout>>();
/** A login of the member that the account store is still checking. */
const logins = new WeakMap<HubMember, Promise<unknown>>();

/**
 * Marks `attempt` (a store call for a login of `m`) as in flight: a grace period that ends
 * meanwhile waits for it, so a slow password hash on a busy server never renames someone who
 * logged in on time.
 */
export function trackLogin<T>(m: HubMember, attempt: Promise<T>): Promise<T> {
  const settled = attempt.then(
    () => {},
    () => {},
  );
  logins.set(m, settled);
  void settled.then(() => {
    if (logins.get(m) === settled) logins.delete(m);
  });
  return attempt;
}

/** Stops waiting for `m` to log in (it changed nick, logged in, or left). */
export function releaseNickWatch(m: HubMember): void {
  const t = timers.get(m);
  if (t !== undefined) clearTimeout(t);
  timers.delete(m);
}

/**
 * Nick ownership (as ergo does): a member that holds a nick which is a registered account's name,
 * without being logged into that account, is told to log in and, after `accounts.nickGrace` ms
 * still not logged in, renamed to a free `GuestNNNN`. Called after registration and after every
 * rename; a store that cannot answer enforces nothing (no one is renamed on a guess).
 */
export async function watchNick(ctx: Ctx, m: HubMember): Promise<void> {
  releaseNickWatch(m);
  const store = ctx.accounts;
  const grace = ctx.opts.nickGrace;
  if (store === null || grace === 0 || !m.registered || foldCase(m.account) === m.folded) return;
  const nick = m.folded;
  let owned: boolean;
  try {
    owned = (store.available?.() ?? true) && (await store.exists(m.nick));
  } catch {
    return;
  }
  if (!owned || m.closing || m.folded !== nick || foldCase(m.account) === nick) return;
  m.tell?.(
    `nick ${m.nick} is a registered account: log in to it within ${Math.ceil(grace / 1000)} s ` +
      `(SASL, or ${m.kind === 0 ? `/login ${m.nick} PASSWORD` : "your client's SASL settings"}) or you will be renamed`,
  );
  const t = setTimeout(async () => {
    timers.delete(m);
    // The attempt's own continuation (which records the login) runs before this one.
    for (let p = logins.get(m); p !== undefined; p = logins.get(m)) await p.then(() => undefined);
    if (m.closing || m.folded !== nick || foldCase(m.account) === nick || timers.has(m)) return;
    void rename(ctx, m);
  }, grace);
  t.unref?.();
  timers.set(m, t);
}

async function rename(ctx: Ctx, m: HubMember): Promise<void> {
  const hub = ctx.hub;
  const old = m.nick;
  for (let tries = 0; tries < 20; tries++) {
    const guest = `Guest${1000 + Math.floor(Math.random() * 9000)}`;
    if (hub.nickTaken(foldCase(guest), m)) continue;
    // Through the registry like any rename, so the owner can take the nick back at once.
    if (!(await hub.claimNick(m, guest))) continue;
    if (m.closing) return;
    m.forcedRename?.(old, `nick ${old} belongs to a registered account; you are now ${guest}`);
    hub.renamed(m, old);
    return;
  }
  ctx.log(`could not find a guest nick for ${old}`);
}
