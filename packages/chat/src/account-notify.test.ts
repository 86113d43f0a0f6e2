import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient, plainUser } from './__fixtures__/line-client.js';
import type { ChatAccountStore } from './account-store.js';
import type { ChatServerOptions } from './options.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(options: ChatServerOptions): Promise<{ port: number; irc: number }> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ port: 0, ircPort: 0 });
  return { port: server.address()!.port, irc: server.ircAddress()!.port };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

/** Registers an IRC client that asked for `caps` first. */
async function withCaps(irc: number, nick: string, caps: string): Promise<LineClient> {
  const c = await LineClient.open(irc);
  clients.push(c);
  c.send('CAP LS 302');
  c.send(`CAP REQ :${caps}`);
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick}`);
  await c.waitFor(/ CAP \S+ (ACK|NAK) /);
  c.send('CAP END');
  await c.waitFor(/ 376 /);
  return c;
}

const plainAuth = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

describe('account-notify and chghost', () => {
  it('tells account-notify/chghost clients in shared rooms (and the user) about a login after registration', async () => {
    const { irc } = await start({ accounts: { users: { bob: await hashPassword('bobsecret') } } });
    const watcher = await withCaps(irc, 'watcher', 'account-notify chghost');
    const plainIrc = await ircUser(irc, 'oldschool');
    clients.push(plainIrc);
    const bob = await withCaps(irc, 'bob', 'account-notify chghost sasl');
    for (const c of [watcher, plainIrc, bob]) {
      c.send('JOIN #acc');
      await c.waitFor(/ 366 \S+ #acc /);
    }
    bob.send('AUTHENTICATE PLAIN');
    await bob.waitFor(/^AUTHENTICATE \+$/);
    bob.send(`AUTHENTICATE ${plainAuth('bob', 'bobsecret')}`);
    await bob.waitFor(/ 903 bob /);
    // The username becomes the account (no ~): CHGHOST first, then ACCOUNT from the new mask.
    await watcher.waitFor(/^:bob!~bob@127\.0\.0\.1 CHGHOST bob 127\.0\.0\.1$/);
    await watcher.waitFor(/^:bob!bob@127\.0\.0\.1 ACCOUNT bob$/);
    await bob.waitFor(/^:bob!bob@127\.0\.0\.1 ACCOUNT bob$/);
    await bob.waitFor(/ 900 bob bob!bob@127\.0\.0\.1 bob /);
    plainIrc.send('PING :quiet');
    await plainIrc.waitFor(/PONG .*quiet/);
    expect(plainIrc.lines.some((l) => / (ACCOUNT|CHGHOST) /.test(l))).toBe(false);
    plainIrc.send('WHOIS bob');
    await plainIrc.waitFor(/ 311 oldschool bob bob 127\.0\.0\.1 /);
    await plainIrc.waitFor(/ 330 oldschool bob bob /);
  });

  it('announces a plain-protocol /login to IRC watchers, and a login during registration shows in 001', async () => {
    const { port, irc } = await start({
      accounts: { users: { carol: await hashPassword('carolpw'), dave: await hashPassword('davepw') } },
    });
    const watcher = await withCaps(irc, 'watcher', 'account-notify chghost');
    watcher.send('JOIN #lobby');
    await watcher.waitFor(/ 366 watcher #lobby /);
    const carol = await plainUser(port, 'carol');
    clients.push(carol);
    carol.send('/login carol carolpw');
    await carol.waitFor(/^\* you are logged in as carol$/);
    await watcher.waitFor(/^:carol!plain@127\.0\.0\.1 CHGHOST carol 127\.0\.0\.1$/);
    await watcher.waitFor(/^:carol!carol@127\.0\.0\.1 ACCOUNT carol$/);
    const dave = await LineClient.open(irc);
    clients.push(dave);
    dave.send('CAP REQ :sasl');
    dave.send('NICK dave');
    dave.send('USER d 0 * :D');
    dave.send('AUTHENTICATE PLAIN');
    await dave.waitFor(/^AUTHENTICATE \+$/);
    dave.send(`AUTHENTICATE ${plainAuth('dave', 'davepw')}`);
    await dave.waitFor(/ 903 /);
    dave.send('CAP END');
    await dave.waitFor(/ 001 dave :Welcome to the asyncnet Network, dave!dave@127\.0\.0\.1$/);
  });
});

/** An account store whose database can be switched off, as a shared store's can go away. */
function flakyStore(users: Record<string, string>): ChatAccountStore & { setUp(up: boolean): void } {
  let up = true;
  const listeners = new Set<(up: boolean) => void>();
  return {
    async verify(name, password) {
      if (!up) throw new Error('store down');
      const hash = users[name];
      return hash !== undefined && (await verifyPassword(password, hash)) ? name : null;
    },
    async register() {
      return false;
    },
    async exists(name) {
      return name in users;
    },
    available: () => up,
    onAvailability(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    setUp(v) {
      up = v;
      for (const l of listeners) l(v);
    },
  };
}

describe('cap-notify', () => {
  it('sends CAP DEL sasl while the account store is away and CAP NEW sasl when it is back', async () => {
    const store = flakyStore({ erin: await hashPassword('erinpw') });
    const { port, irc } = await start({ accounts: { store } });
    const modern = await withCaps(irc, 'modern', 'sasl');
    const legacy = await LineClient.open(irc);
    clients.push(legacy);
    legacy.send('CAP LS');
    legacy.send('NICK legacy');
    legacy.send('USER l 0 * :L');
    legacy.send('CAP END');
    await legacy.waitFor(/ 376 /);
    store.setUp(false);
    await modern.waitFor(/^:asyncnet\.chat CAP modern DEL :sasl$/);
    modern.send('CAP LIST');
    const list = await modern.waitFor(/ CAP modern LIST /);
    expect(list).not.toMatch(/\bsasl\b/);
    modern.send('CAP LS 302');
    expect(await modern.waitFor(/ CAP modern LS /)).not.toMatch(/\bsasl/);
    modern.send('AUTHENTICATE PLAIN');
    await modern.waitFor(/ 904 modern /);
    const plain = await plainUser(port, 'plainer');
    clients.push(plain);
    plain.send('/login erin erinpw');
    await plain.waitFor(/^\* error: accounts are unavailable right now/);
    store.setUp(true);
    await modern.waitFor(/^:asyncnet\.chat CAP modern NEW :sasl=PLAIN$/);
    modern.send('CAP REQ :sasl');
    await modern.waitFor(/ CAP modern ACK :sasl$/);
    modern.send('AUTHENTICATE PLAIN');
    await modern.waitFor(/^AUTHENTICATE \+$/);
    modern.send(`AUTHENTICATE ${plainAuth('erin', 'erinpw')}`);
    await modern.waitFor(/ 903 modern /);
    // A client without cap-notify (no CAP LS 302) is never sent NEW or DEL.
    legacy.send('PING :x');
    await legacy.waitFor(/PONG .*x/);
    expect(legacy.lines.some((l) => / CAP legacy (NEW|DEL) /.test(l))).toBe(false);
  });
});
