import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryBus } from './bus.js';
import { ChatClient, type ChatEvent } from './client.js';
import { ChatError } from './errors.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const chats: ChatClient[] = [];

async function start(options: ChatServerOptions = {}): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0 });
  return server.address()!.port;
}

async function connect(port: number, nick: string): Promise<ChatClient> {
  const c = await ChatClient.connect('127.0.0.1', port, { nick });
  chats.push(c);
  return c;
}

function next(
  c: ChatClient,
  type: ChatEvent['type'],
  test: (ev: ChatEvent) => boolean = () => true,
): Promise<ChatEvent> {
  return new Promise((resolve) => {
    const on = (ev: ChatEvent) => {
      if (!test(ev)) return;
      c.off(type, on);
      resolve(ev);
    };
    c.on(type, on);
  });
}

afterEach(async () => {
  await Promise.all(chats.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('ChatClient', () => {
  it('connects, says, messages and iterates events', async () => {
    const port = await start();
    const alice = await connect(port, 'alice');
    expect(alice.room).toBe('#lobby');
    const bob = await connect(port, 'bob');
    const events: ChatEvent[] = [];
    const reading = (async () => {
      for await (const ev of alice) {
        events.push(ev);
        if (ev.type === 'private') break;
      }
    })();
    bob.say('/not a command');
    bob.me('waves');
    bob.msg('alice', 'hi there');
    await reading;
    expect(events).toContainEqual({ type: 'message', room: '#lobby', from: 'bob', text: '/not a command' });
    expect(events).toContainEqual({
      type: 'action',
      room: '#lobby',
      from: 'bob',
      text: 'waves',
      private: false,
    });
    expect(events.at(-1)).toEqual({ type: 'private', from: 'bob', text: 'hi there' });
  });

  it('reports /me as an action, never as a server notice, so an action cannot forge a quit line', async () => {
    const port = await start();
    const alice = await connect(port, 'alice');
    const bob = await connect(port, 'bob');
    const seen: ChatEvent[] = [];
    alice.on('event', (ev: ChatEvent) => seen.push(ev));
    const action = next(alice, 'action');
    bob.me('quit (ping timeout: 90 seconds)');
    expect(await action).toEqual({
      type: 'action',
      room: '#lobby',
      from: 'bob',
      text: 'quit (ping timeout: 90 seconds)',
      private: false,
    });
    const quit = next(alice, 'notice', (ev) => ev.type === 'notice' && ev.text.startsWith('bob quit'));
    await bob.close('for real');
    expect(await quit).toEqual({ type: 'notice', text: 'bob quit (for real)' });
    expect(seen.filter((ev) => ev.type === 'notice' && ev.text.includes('ping timeout'))).toEqual([]);
  });

  it('joins rooms and reports errors as events', async () => {
    const port = await start();
    const alice = await connect(port, 'alice');
    const bob = await connect(port, 'bob');
    // Registration lines are kept for display: the greeting, then the join with who is there.
    expect(bob.welcome.at(-1)).toMatch(/^\* you joined #lobby \(2 here: .*alice.*\)/);
    expect(bob.welcome.length).toBeGreaterThan(1);
    const joined = next(
      alice,
      'notice',
      (ev) => ev.type === 'notice' && ev.text.startsWith('you joined #dev'),
    );
    alice.join('#dev');
    await joined;
    expect(alice.room).toBe('#dev');
    const err = next(alice, 'error');
    alice.msg('nobody', 'x');
    expect(await err).toEqual({ type: 'error', text: 'no such nick "nobody"' });
    // Without an 'error' listener an error line must not throw out of the read loop.
    const anyEvent = new Promise((r) => bob.once('event', r));
    bob.msg('nobody', 'x');
    expect(await anyEvent).toEqual({ type: 'error', text: 'no such nick "nobody"' });
    const still = next(bob, 'notice', (ev) => ev.type === 'notice' && ev.text.startsWith('in #lobby'));
    bob.command('/who');
    await still;
    bob.join('#dev');
    const msg = next(alice, 'message');
    bob.say('in dev');
    expect(await msg).toEqual({ type: 'message', room: '#dev', from: 'bob', text: 'in dev' });
    expect(() => alice.say('two\nlines')).toThrow(ChatError);
  });

  it('rejects a taken or invalid nick with a ChatError code', async () => {
    const port = await start();
    await connect(port, 'Alice');
    await expect(ChatClient.connect('127.0.0.1', port, { nick: 'ALICE' })).rejects.toMatchObject({
      code: 'ERR_NICK_IN_USE',
    });
    await expect(ChatClient.connect('127.0.0.1', port, { nick: 'no spaces' })).rejects.toMatchObject({
      code: 'ERR_INVALID_NICK',
    });
    // A member called "you" could forge `* you joined #elsewhere` with /me and move every
    // ChatClient's idea of its room (or nick); the server reserves it.
    await expect(ChatClient.connect('127.0.0.1', port, { nick: 'YOU' })).rejects.toMatchObject({
      code: 'ERR_INVALID_NICK',
    });
  });

  it('reports a refused connection as ERR_CONNECTION_CLOSED, not as a bad nick', async () => {
    const port = await start({ maxConnectionsPerIp: 1 });
    await connect(port, 'alice');
    const err = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatError);
    expect(err).toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
      message: `server 127.0.0.1:${port} refused the connection: too many connections from 127.0.0.1`,
    });
    // A nick that would smuggle a second line is refused before anything is sent.
    await expect(ChatClient.connect('127.0.0.1', port, { nick: 'mallory\r\n/quit' })).rejects.toMatchObject({
      code: 'ERR_PROTOCOL',
    });
  });

  it('ends every concurrent iterator when the connection ends', async () => {
    // Regression: a single wake-up slot left all but the last waiting iterator hung forever.
    const port = await start();
    const alice = await connect(port, 'alice');
    const bob = await connect(port, 'bob');
    const seen: string[] = [];
    const loops = [0, 1, 2].map(async () => {
      for await (const ev of alice) if (ev.type === 'message') seen.push(ev.text);
    });
    await new Promise((r) => setTimeout(r, 20)); // all three are waiting now
    bob.say('one');
    bob.say('two');
    await vi.waitFor(() => expect(seen.length).toBe(2));
    await servers[0]!.close({ timeout: 200 });
    await Promise.all(loops);
    expect(seen.sort()).toEqual(['one', 'two']);
  });

  it('ends iteration and emits close when the server goes away; methods then throw', async () => {
    const port = await start();
    const alice = await connect(port, 'alice');
    const closed = new Promise<void>((r) => alice.once('close', r));
    const seen: ChatEvent[] = [];
    const loop = (async () => {
      for await (const ev of alice) seen.push(ev);
    })();
    await servers[0]!.close({ timeout: 200 });
    await closed;
    await loop;
    expect(seen).toContainEqual({ type: 'notice', text: 'closing: server shutting down' });
    expect(() => alice.say('hello?')).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });
});

describe('memoryBus', () => {
  it('joins two servers in one process: rooms, private messages and nicks are shared', async () => {
    const bus = memoryBus();
    const p1 = await start({ bus });
    const p2 = await start({ bus });
    const alice = await connect(p1, 'alice');
    const bob = await connect(p2, 'bob');
    const msg = next(bob, 'message');
    alice.say('across nodes');
    expect(await msg).toEqual({ type: 'message', room: '#lobby', from: 'alice', text: 'across nodes' });
    const priv = next(alice, 'private');
    bob.msg('ALICE', 'hi from node 2');
    expect(await priv).toEqual({ type: 'private', from: 'bob', text: 'hi from node 2' });
    await expect(ChatClient.connect('127.0.0.1', p2, { nick: 'Alice' })).rejects.toMatchObject({
      code: 'ERR_NICK_IN_USE',
    });
    const who = next(alice, 'notice', (ev) => ev.type === 'notice' && ev.text.startsWith('in #lobby'));
    alice.command('/who');
    expect(await who).toEqual({ type: 'notice', text: 'in #lobby: alice, bob' });
    const quit = next(alice, 'notice', (ev) => ev.type === 'notice' && ev.text.startsWith('bob quit'));
    await bob.close('done');
    await quit;
    await connect(p1, 'bob');
  });
});
