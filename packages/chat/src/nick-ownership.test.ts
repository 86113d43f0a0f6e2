import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient } from './__fixtures__/line-client.js';
import { ChatClient } from './client.js';
import type { ChatServerOptions } from './options.js';
import { hashPassword } from './passwords.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];
const chats: ChatClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(chats.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

async function start(extra: Partial<NonNullable<ChatServerOptions['accounts']>> = {}) {
  const server = createChatServer({
    log: () => {},
    floodControl: false,
    accounts: { users: { owner: await hashPassword('ownerpw') }, nickGrace: 300, ...extra },
  });
  servers.push(server);
  await server.listen({ port: 0, ircPort: 0 });
  return { port: server.address()!.port, irc: server.ircAddress()!.port };
}

/** An IRC client registered as `someone` with the sasl capability. */
async function saslUser(port: number): Promise<LineClient> {
  const c = await LineClient.open(port);
  clients.push(c);
  c.send('CAP REQ :sasl');
  c.send('NICK someone');
  c.send('USER s 0 * :S');
  c.send('CAP END');
  await c.waitFor(/ 376 someone /);
  return c;
}

const sasl = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

describe('nick ownership', () => {
  it('warns, then renames someone holding a registered nick without logging in; the owner can take it', async () => {
    const { irc } = await start();
    const watcher = await ircUser(irc, 'watcher');
    clients.push(watcher);
    watcher.send('JOIN #n');
    await watcher.waitFor(/ 366 watcher #n /);
    const squatter = await ircUser(irc, 'owner');
    clients.push(squatter);
    await squatter.waitFor(/ NOTICE owner :nick owner is a registered account: log in to it within 1 s/);
    squatter.send('JOIN #n');
    await squatter.waitFor(/ 366 owner #n /);
    const renamed = await squatter.waitFor(/^:owner!~owner@127\.0\.0\.1 NICK :Guest\d{4}$/);
    const guest = renamed.slice(renamed.lastIndexOf(':') + 1);
    await squatter.waitFor(
      new RegExp(` NOTICE ${guest} :nick owner belongs to a registered account; you are now ${guest}`),
    );
    await watcher.waitFor(new RegExp(`^:owner!~owner@127\\.0\\.0\\.1 NICK :${guest}$`));
    // The nick is free again: its owner registers with it over SASL and keeps it.
    const real = await LineClient.open(irc);
    clients.push(real);
    real.send('CAP REQ :sasl');
    real.send('NICK owner');
    real.send('USER o 0 * :O');
    real.send('AUTHENTICATE PLAIN');
    await real.waitFor(/^AUTHENTICATE \+$/);
    real.send(`AUTHENTICATE ${sasl('owner', 'ownerpw')}`);
    await real.waitFor(/ 903 owner /);
    real.send('CAP END');
    await real.waitFor(/ 376 owner /);
    await new Promise((r) => setTimeout(r, 700));
    real.send('PING :kept');
    await real.waitFor(/PONG .*kept/);
    expect(real.lines.some((l) => / NICK :Guest/.test(l) || /registered account/.test(l))).toBe(false);
  });

  it('keeps the nick of someone who logs in within the grace period, also after a rename to it', async () => {
    const { irc } = await start({ nickGrace: 1_000 }); // room for a loaded machine to deliver the login in time
    const c = await saslUser(irc);
    c.send('NICK owner');
    await c.waitFor(/ NOTICE owner :nick owner is a registered account/);
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${sasl('owner', 'ownerpw')}`);
    await c.waitFor(/ 903 owner /);
    await new Promise((r) => setTimeout(r, 1_200));
    c.send('PING :still');
    await c.waitFor(/PONG .*still/);
    expect(c.lines.some((l) => / NICK :Guest/.test(l))).toBe(false);
  });

  it('renames a plain client too (ChatClient follows), and /login in time keeps it', async () => {
    const { port } = await start({ nickGrace: 1_000 });
    const squatter = await ChatClient.connect('127.0.0.1', port, { nick: 'owner' });
    chats.push(squatter);
    const renamed = new Promise<void>((resolve) =>
      squatter.on('notice', (ev) => {
        if (ev.type === 'notice' && ev.text.startsWith('nick owner belongs to a registered account'))
          resolve();
      }),
    );
    await renamed;
    expect(squatter.nick).toMatch(/^Guest\d{4}$/);
    const keeper = await ChatClient.connect('127.0.0.1', port, { nick: 'owner' });
    chats.push(keeper);
    keeper.command('/login owner ownerpw');
    await new Promise<void>((resolve) =>
      keeper.on(
        'notice',
        (ev) => ev.type === 'notice' && ev.text === 'you are logged in as owner' && resolve(),
      ),
    );
    await new Promise((r) => setTimeout(r, 1_200));
    expect(keeper.nick).toBe('owner');
  });

  /**
   * Someone takes the nick `owner` (grace 300 ms) on a server whose store answers a login after
   * 600 ms, past the grace period, and logs in with `password`.
   */
  async function slowLogin(password: string): Promise<{ c: LineClient; verified: () => number }> {
    let verified = 0;
    const store = {
      verify: async (name: string, given: string) => {
        await new Promise((r) => setTimeout(r, 600));
        verified++;
        return name === 'owner' && given === 'ownerpw' ? 'owner' : null;
      },
      register: async () => false,
      exists: async (name: string) => name.toLowerCase() === 'owner',
    };
    const server = createChatServer({
      log: () => {},
      floodControl: false,
      accounts: { store, nickGrace: 300 },
    });
    servers.push(server);
    await server.listen({ port: 0, ircPort: 0 });
    const c = await saslUser(server.ircAddress()!.port);
    c.send('NICK owner');
    await c.waitFor(/ NOTICE owner :nick owner is a registered account/);
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${sasl('owner', password)}`);
    return { c, verified: () => verified };
  }

  it('a login the store is still checking when the grace period ends keeps the nick (a busy server)', async () => {
    const { c, verified } = await slowLogin('ownerpw');
    await c.waitFor(/ 903 owner /);
    expect(verified()).toBe(1);
    c.send('PING :kept');
    await c.waitFor(/PONG .*kept/);
    expect(c.lines.some((l) => / NICK :Guest/.test(l))).toBe(false);
  });

  it('a login the store refuses after the grace period ends still renames', async () => {
    const { c } = await slowLogin('wrong');
    await c.waitFor(/ 904 owner /);
    await c.waitFor(/ NICK :Guest\d+$/);
  });

  it('enforces nothing with nickGrace 0', async () => {
    const { irc } = await start({ nickGrace: 0 });
    const c = await ircUser(irc, 'owner');
    clients.push(c);
    await new Promise((r) => setTimeout(r, 500));
    c.send('PING :free');
    await c.waitFor(/PONG .*free/);
    expect(c.lines.some((l) => /registered account|NICK :Guest/.test(l))).toBe(false);
  });
});
