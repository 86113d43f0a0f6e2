import { afterEach, describe, expect, it } from 'vitest';
import { LineClient } from './__fixtures__/line-client.js';
import type { ChatServerOptions } from './options.js';
import { hashPassword } from './passwords.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];
const EVER = 'timestamp=1970-01-01T00:00:00.000Z timestamp=2999-01-01T00:00:00.000Z';

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

async function start(options: ChatServerOptions = {}): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, history: 50, ...options });
  servers.push(server);
  await server.listen({ ircPort: 0 });
  return server.ircAddress()!.port;
}

/** A chathistory client, logged in with SASL PLAIN when `password` is given. */
async function historian(port: number, nick: string, password?: string): Promise<LineClient> {
  const c = await LineClient.open(port);
  clients.push(c);
  c.send('CAP LS 302');
  c.send(`CAP REQ :batch server-time message-tags draft/chathistory${password ? ' sasl' : ''}`);
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick}`);
  await c.waitFor(/ CAP \S+ ACK /);
  if (password !== undefined) {
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${Buffer.from(`\0${nick}\0${password}`).toString('base64')}`);
    await c.waitFor(/ 903 /);
  }
  c.send('CAP END');
  await c.waitFor(/ 376 /);
  return c;
}

async function ask(c: LineClient, line: string): Promise<{ params: string; raw: string[]; texts: string[] }> {
  const from = c.lines.length;
  c.send(line);
  const open = await c.waitFor(/ BATCH \+\S+ \S+/, 5_000, from);
  const [, id, params] = / BATCH \+(\S+) (.+)$/.exec(open)!;
  await c.waitFor(new RegExp(` BATCH -${id}$`), 5_000, from);
  const raw = c.lines
    .slice(from)
    .filter((l) => l.startsWith(`@batch=${id};`) || l.startsWith(`@batch=${id} `));
  return { params: params!, raw, texts: raw.map((l) => l.slice(l.lastIndexOf(' :') + 2)) };
}

async function settle(c: LineClient): Promise<void> {
  const from = c.lines.length;
  c.send('PING :settle');
  await c.waitFor(/PONG .*settle/, 5_000, from);
}

/** Waits until `nick` has left the server (WHOIS answers 401). */
async function gone(c: LineClient, nick: string): Promise<void> {
  for (let k = 0; k < 100; k++) {
    const from = c.lines.length;
    c.send(`WHOIS ${nick}`);
    await c.waitFor(/ (401|318) /, 5_000, from);
    if (c.lines.slice(from).some((l) => / 401 /.test(l))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${nick} never left`);
}

describe('CHATHISTORY for nicks (private messages)', () => {
  it('replays both directions of a conversation, tagged, to each side only', async () => {
    const port = await start();
    const alice = await historian(port, 'alice');
    const bob = await historian(port, 'bob');
    const carol = await historian(port, 'carol');
    alice.send('PRIVMSG bob :hi bob');
    await bob.waitFor(/PRIVMSG bob :hi bob$/);
    bob.send('PRIVMSG alice :hi alice');
    await alice.waitFor(/PRIVMSG alice :hi alice$/);
    bob.send('NOTICE alice :notices are not history');
    await alice.waitFor(/NOTICE alice :notices/);
    const a = await ask(alice, 'CHATHISTORY LATEST bob * 10');
    expect(a.params).toBe('chathistory bob');
    expect(a.raw.map((l) => l.replace(/^@\S+ /, ''))).toEqual([
      ':alice!~alice@127.0.0.1 PRIVMSG bob :hi bob',
      ':bob!~bob@127.0.0.1 PRIVMSG alice :hi alice',
    ]);
    for (const l of a.raw) expect(l).toMatch(/^@batch=\w+;time=\d{4}-[^;]+Z;msgid=\S+ /);
    // The nick is case-folded; bob sees the same conversation from his side.
    expect((await ask(bob, 'CHATHISTORY LATEST ALICE * 10')).texts).toEqual(['hi bob', 'hi alice']);
    // BEFORE/AFTER by msgid page through it like a room's.
    const second = /msgid=([^; ]+)/.exec(a.raw[1]!)![1]!;
    expect((await ask(alice, `CHATHISTORY BEFORE bob msgid=${second} 10`)).texts).toEqual(['hi bob']);
    expect((await ask(alice, `CHATHISTORY AFTER bob msgid=${second} 10`)).texts).toEqual([]);
    // A third party asking for either side gets nothing.
    expect((await ask(carol, 'CHATHISTORY LATEST alice * 10')).texts).toEqual([]);
    expect((await ask(carol, 'CHATHISTORY LATEST bob * 10')).texts).toEqual([]);
    expect((await ask(carol, `CHATHISTORY TARGETS ${EVER} 10`)).raw).toEqual([]);
  });

  it('lists rooms and nicks with recent messages in TARGETS, oldest first, up to the limit', async () => {
    const port = await start();
    const alice = await historian(port, 'alice');
    const bob = await historian(port, 'bob');
    alice.send('JOIN #room');
    await alice.waitFor(/ 366 alice #room /);
    alice.send('PRIVMSG #room :in the room');
    await settle(alice);
    await new Promise((r) => setTimeout(r, 5));
    alice.send('PRIVMSG bob :in private');
    await bob.waitFor(/in private$/);
    const t = await ask(alice, `CHATHISTORY TARGETS ${EVER} 10`);
    expect(t.params).toBe('draft/chathistory-targets');
    expect(t.raw.map((l) => l.replace(/^@\S+ :\S+ /, ''))).toEqual([
      expect.stringMatching(/^CHATHISTORY TARGETS #room \d{4}-/),
      expect.stringMatching(/^CHATHISTORY TARGETS bob \d{4}-/),
    ]);
    expect((await ask(alice, `CHATHISTORY TARGETS ${EVER} 1`)).raw).toHaveLength(1);
    expect((await ask(bob, `CHATHISTORY TARGETS ${EVER} 10`)).raw.map((l) => l.split(' ').at(-2))).toEqual([
      'alice',
    ]);
  });

  it('keeps the last `history` messages per conversation', async () => {
    const port = await start({ history: 3 });
    const alice = await historian(port, 'alice');
    const bob = await historian(port, 'bob');
    for (let k = 0; k < 10; k++) alice.send(`PRIVMSG bob :m${k}`);
    await bob.waitFor(/:m9$/);
    expect((await ask(alice, 'CHATHISTORY LATEST bob * 100')).texts).toEqual(['m7', 'm8', 'm9']);
  });

  it('never shows a session’s messages to the next holder of its nick; an account keeps its own', async () => {
    const port = await start({ accounts: { users: { acct: await hashPassword('pw-acct') } } });
    const bob = await historian(port, 'bob');
    const first = await historian(port, 'alice');
    first.send('PRIVMSG bob :from the first alice');
    await bob.waitFor(/from the first alice$/);
    first.send('QUIT');
    await gone(bob, 'alice');
    const second = await historian(port, 'alice');
    expect((await ask(second, 'CHATHISTORY LATEST bob * 10')).texts).toEqual([]);
    // Bob's side is his own and stays.
    expect((await ask(bob, 'CHATHISTORY LATEST alice * 10')).texts).toEqual(['from the first alice']);
    // A logged-in account reads its conversations again from a new session.
    const acct = await historian(port, 'acct', 'pw-acct');
    acct.send('PRIVMSG bob :from the account');
    await bob.waitFor(/from the account$/);
    acct.close();
    await gone(bob, 'acct');
    const again = await historian(port, 'acct', 'pw-acct');
    expect((await ask(again, 'CHATHISTORY LATEST bob * 10')).texts).toEqual(['from the account']);
  });

  it('answers unknown nicks and status-prefixed targets with an empty batch', async () => {
    const port = await start();
    const alice = await historian(port, 'alice');
    expect((await ask(alice, 'CHATHISTORY LATEST nobody * 10')).texts).toEqual([]);
    expect((await ask(alice, 'CHATHISTORY LATEST @#room * 10')).texts).toEqual([]);
  });
});
