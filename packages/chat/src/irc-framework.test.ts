import { Client as IrcClient } from 'irc-framework';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChatServer, createChatServer } from './server.js';

/** What irc-framework hands to its listeners, as far as these tests read it. */
interface FwMessage {
  nick: string;
  target: string;
  group?: string;
  message: string;
  tags: Record<string, string>;
  time?: number;
  batch?: { id: string; type: string; params: string[] };
}
interface FwBatch {
  id: string;
  type: string;
  params: string[];
  commands: unknown[];
}

const servers: ChatServer[] = [];
const bots: IrcClient[] = [];

afterEach(async () => {
  for (const b of bots.splice(0)) b.quit('done');
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

async function start(): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, history: 20 });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', ircPort: 0 });
  return server.ircAddress()!.port;
}

/** Resolves with the first event `name` for which `test` holds (rejects after 10 s). */
function next<T>(bot: IrcClient, name: string, test: (ev: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`irc-framework: no ${name} event`)), 10_000);
    bot.on(name, ((ev: T) => {
      if (!test(ev)) return;
      clearTimeout(timer);
      resolve(ev);
    }) as (ev: never) => void);
  });
}

/** An irc-framework client, registered, in `#fw`, with draft/chathistory requested on top. */
async function bot(port: number, nick: string): Promise<IrcClient> {
  const b = new IrcClient();
  bots.push(b);
  b.requestCap('draft/chathistory');
  const registered = next(b, 'registered');
  b.connect({ host: '127.0.0.1', port, nick, username: nick, gecos: nick, auto_reconnect: false });
  await registered;
  const joined = next<{ nick: string; channel: string }>(b, 'join', (e) => e.nick === nick);
  b.join('#fw');
  await joined;
  return b;
}

describe('irc-framework against the server', () => {
  it('gets client tags by TAGMSG (+typing), server-time and msgid on messages, and STATUSMSG groups', async () => {
    const port = await start();
    const alice = await bot(port, 'alice');
    const bob = await bot(port, 'bob');
    const typing = next<FwMessage>(bob, 'tagmsg');
    alice.tagmsg('#fw', { '+typing': 'active' });
    const t = await typing;
    expect(t.nick).toBe('alice');
    expect(t.target).toBe('#fw');
    expect(t.tags['+typing']).toBe('active');

    const before = Date.now();
    const said = next<FwMessage>(bob, 'privmsg', (e) => e.message === 'tagged hello');
    alice.say('#fw', 'tagged hello');
    const m = await said;
    expect(m.tags.msgid).toMatch(/^\S+$/);
    expect(m.tags.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // irc-framework parses server-time into ms: the server's clock, not the receipt's.
    expect(Math.abs(m.time! - before)).toBeLessThan(60_000);

    // STATUSMSG from 005: irc-framework splits `@#fw` into the group and the channel.
    const toOps = next<FwMessage>(alice, 'privmsg', (e) => e.message === 'for the op');
    bob.say('@#fw', 'for the op');
    const o = await toOps;
    expect(o.target).toBe('#fw');
    expect(o.group).toBe('@');
  }, 30_000);

  it('requests CHATHISTORY for a room and a nick and gets chathistory batches', async () => {
    const port = await start();
    const alice = await bot(port, 'alice');
    const bob = await bot(port, 'bob');
    const heard = next<FwMessage>(bob, 'privmsg', (e) => e.message === 'three');
    for (const text of ['one', 'two', 'three']) alice.say('#fw', text);
    await heard;
    const pm = next<FwMessage>(alice, 'privmsg', (e) => e.message === 'psst');
    bob.say('alice', 'psst');
    await pm;

    const replayed: FwMessage[] = [];
    alice.on('privmsg', ((e: FwMessage) => {
      if (e.batch?.type === 'chathistory') replayed.push(e);
    }) as (ev: never) => void);
    const room = next<FwBatch>(alice, 'batch end chathistory', (b) => b.params[0] === '#fw');
    alice.raw('CHATHISTORY', 'LATEST', '#fw', '*', '10');
    const rb = await room;
    expect(rb.commands).toHaveLength(3);
    expect(replayed.map((e) => e.message)).toEqual(['one', 'two', 'three']);
    for (const e of replayed) expect(e.tags.msgid).toBeDefined();

    replayed.length = 0;
    const dm = next<FwBatch>(alice, 'batch end chathistory', (b) => b.params[0] === 'bob');
    alice.raw('CHATHISTORY', 'LATEST', 'bob', '*', '10');
    await dm;
    expect(replayed.map((e) => `${e.nick}: ${e.message}`)).toEqual(['bob: psst']);

    const targets = next<FwBatch>(alice, 'batch end draft/chathistory-targets');
    alice.raw(
      'CHATHISTORY',
      'TARGETS',
      'timestamp=1970-01-01T00:00:00.000Z',
      'timestamp=2999-01-01T00:00:00.000Z',
      '10',
    );
    expect((await targets).commands).toHaveLength(2);
  }, 30_000);
});
