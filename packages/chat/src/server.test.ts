import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient, plainUser } from './__fixtures__/line-client.js';
import { type ChatBus, memoryBus } from './bus.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(
  options: ChatServerOptions = {},
): Promise<{ server: ChatServer; port: number; irc: number }> {
  const server = createChatServer({ log: () => {}, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return { server, port: server.address()!.port, irc: server.ircAddress()!.port };
}

async function user(port: number, nick: string): Promise<LineClient> {
  const c = await plainUser(port, nick);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('plain protocol', () => {
  it('greets, registers and relays room messages to the other members', async () => {
    const { port } = await start();
    const a = await user(port, 'alice');
    const b = await user(port, 'bob');
    await a.waitFor(/\* bob joined #lobby/);
    a.send('hello there');
    expect(await b.waitFor(/^<alice>/)).toBe('<alice> hello there');
    b.send('/me waves');
    expect(await a.waitFor(/bob waves/)).toBe('** bob waves');
    expect(a.lines.some((l) => l.includes('<alice> hello there'))).toBe(false);
  });
});

describe('plain commands', () => {
  it('handles /nick /join /who /rooms /msg /part /help and keeps the connection after errors', async () => {
    const { port } = await start({ floodControl: false });
    const a = await user(port, 'alice');
    const b = await user(port, 'bob');
    a.send('/bogus');
    await a.waitFor(/^\* error: unknown command "\/bogus"/);
    a.send('/help');
    await a.waitFor(/\/msg NICK text/);
    a.send('/who');
    await a.waitFor(/^\* in #lobby: .*alice.*bob|^\* in #lobby: .*bob.*alice/);
    a.send('/msg bob psst');
    expect(await b.waitFor(/^\*alice\*/)).toBe('*alice* psst');
    a.send('/msg nobody hi');
    await a.waitFor(/no such nick "nobody"/);
    a.send('/nick alicia');
    await a.waitFor(/you are now known as alicia/);
    await b.waitFor(/\* alice is now known as alicia/);
    a.send('/join #dev');
    await a.waitFor(/you joined #dev/);
    await b.waitFor(/\* alicia left #lobby/);
    a.send('/rooms');
    await a.waitFor(/^\* {3}#dev \(1\)/);
    a.send('/part');
    await a.waitFor(/you left #dev/);
    a.send('talking to nobody');
    await a.waitFor(/not in a room/);
    a.send('/quit gone fishing');
    await a.waitFor(/^\* closing: bye/);
    await a.ended;
    b.send('/join #dev');
    await b.waitFor(/you joined #dev \(1 here: bob\)/);
  });

  it('replays room history on join', async () => {
    const { port } = await start({ history: 3 });
    const a = await user(port, 'alice');
    for (let i = 1; i <= 5; i++) a.send(`line ${i}`);
    a.send('/who');
    await a.waitFor(/^\* in #lobby/);
    const b = await user(port, 'bob');
    await b.waitFor(/<alice> line 5/);
    expect(b.lines.filter((l) => l.startsWith('<alice>'))).toEqual([
      '<alice> line 3',
      '<alice> line 4',
      '<alice> line 5',
    ]);
  });
});

/** A memory bus whose nick registry answers only when the test opens the gate (a slow Redis). */
function gatedBus(): { bus: ChatBus; open(): void; waiting(): number } {
  const inner = memoryBus();
  let gates: Array<() => void> = [];
  const bus: ChatBus = {
    async attach(handler) {
      const node = await inner.attach(handler);
      return {
        nodeId: node.nodeId,
        publish: (ev) => node.publish(ev),
        releaseNick: (f, o) => node.releaseNick(f, o),
        stats: () => node.stats(),
        close: () => node.close(),
        async claimNick(folded, owner) {
          await new Promise<void>((r) => gates.push(r));
          return node.claimNick(folded, owner);
        },
      };
    },
  };
  return {
    bus,
    open() {
      const g = gates;
      gates = [];
      for (const f of g) f();
    },
    waiting: () => gates.length,
  };
}

function track(c: LineClient): LineClient {
  clients.push(c);
  return c;
}

async function until(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('nick registry races', () => {
  it('a client that disconnects while its rename is being claimed does not keep the new nick', async () => {
    const gate = gatedBus();
    const { server, port, irc } = await start({ bus: gate.bus, floodControl: false });
    const pending = [user(port, 'alice'), ircUser(irc, 'ircy').then(track)];
    await until('two registration claims', () => gate.waiting() === 2);
    gate.open();
    const [a, i] = await Promise.all(pending);
    // Both ask for a new nick, then vanish before the registry answers.
    a!.send('/nick alicia');
    i!.send('NICK ircster');
    await until('two rename claims', () => gate.waiting() === 2);
    // Abruptly (RST): a FIN would let the server finish the pending rename first.
    a!.socket.resetAndDestroy();
    i!.socket.resetAndDestroy();
    await until('both connections gone', () => server.stats().connections === 0);
    gate.open();
    await new Promise((r) => setTimeout(r, 50));
    expect(server.stats().clients).toBe(0);
    // The nicks are free again.
    const again = user(port, 'alicia');
    await until('a third claim', () => gate.waiting() === 1);
    gate.open();
    expect((await again).lines.some((l) => l.includes('hello alicia'))).toBe(true);
    const again2 = ircUser(irc, 'IRCSTER').then(track);
    await until('a fourth claim', () => gate.waiting() === 1);
    gate.open();
    await again2;
  });
});

describe('half-close', () => {
  it('lines sent before a FIN are handled even while the nick claim is still pending', async () => {
    // `printf 'carol\nhello\n' | nc host port`: the FIN arrives while the registry is answering.
    const gate = gatedBus();
    const { port } = await start({ bus: gate.bus, floodControl: false });
    const pendingBob = user(port, 'bob');
    await until('bob claim', () => gate.waiting() === 1);
    gate.open();
    const bob = await pendingBob;
    const carol = track(await LineClient.open(port));
    await carol.waitFor(/what is your nick/);
    carol.socket.end('carol\r\nhello from a pipe\r\n/me waves\r\n');
    await until('carol claim', () => gate.waiting() === 1);
    await new Promise((r) => setTimeout(r, 100)); // let the server see the FIN first
    gate.open();
    await bob.waitFor(/^<carol> hello from a pipe$/);
    await bob.waitFor(/^\*\* carol waves$/);
    await bob.waitFor(/^\* carol quit \(connection closed\)$/);
    await carol.ended;
    expect(carol.lines).toContain('* hello carol, type /help for commands');
  });
});

describe('limits and hygiene', () => {
  it('refuses taken nicks with rfc1459 case folding, on both front ends', async () => {
    const { port, irc } = await start();
    await user(port, 'Alice[1]');
    const c = await LineClient.open(port);
    clients.push(c);
    await c.waitFor(/what is your nick/);
    c.send('aLICE{1}');
    await c.waitFor(/^\* error: nick "aLICE\{1\}" is taken/);
    c.send('9lives');
    await c.waitFor(/^\* error: nick "9lives" has characters/);
    c.send('alice2');
    await c.waitFor(/hello alice2/);
    const i = await LineClient.open(irc);
    clients.push(i);
    i.send('NICK ALICE[1]');
    await i.waitFor(/ 433 \* ALICE\[1\] :Nickname is already in use/);
    i.send('NICK bad!nick');
    await i.waitFor(/ 432 /);
    i.send('NICK');
    await i.waitFor(/ 431 /);
  });

  it('rejects invalid utf-8 and control characters with an error line but accepts split code points', async () => {
    const { port } = await start();
    const a = await user(port, 'alice');
    const b = await user(port, 'bob');
    a.socket.write(Buffer.from([0x68, 0x69, 0xc3, 0x28, 0x0a]));
    await a.waitFor(/^\* error: line is not valid utf-8/);
    a.send('bell\x07here');
    await a.waitFor(/^\* error: control characters/);
    // C1 controls too: U+009B is CSI to some terminals.
    const before = a.lines.length;
    a.send('csi\u009b2Jhere');
    await a.waitFor(/^\* error: control characters/, 10_000, before);
    const e = Buffer.from('caf\u00e9 \u2713\r\n');
    a.socket.write(e.subarray(0, 4));
    await new Promise((r) => setTimeout(r, 20));
    a.socket.write(e.subarray(4));
    expect(await b.waitFor(/^<alice>/)).toBe('<alice> caf\u00e9 \u2713');
    expect(b.lines.filter((l) => l.startsWith('<alice>'))).toHaveLength(1);
  });

  it('drops over-long lines with an error (plain) and 417 (IRC), keeping the connection', async () => {
    const { port, irc } = await start({ maxLineLength: 64 });
    const a = await user(port, 'alice');
    a.send('x'.repeat(65));
    await a.waitFor(/^\* error: line longer than 64 bytes/);
    a.send('/who');
    await a.waitFor(/^\* in #lobby: alice/);
    const i = await ircUser(irc, 'ircy');
    clients.push(i);
    i.send(`PRIVMSG #lobby :${'y'.repeat(600)}`);
    await i.waitFor(/ 417 ircy :Input line was too long/);
    i.send('PING :still-here');
    await i.waitFor(/PONG .*still-here/);
    expect(a.lines.some((l) => l.includes('yyyy'))).toBe(false);
  });

  it('delays a burst instead of dropping it: a 15-line paste arrives complete and in order', async () => {
    const { port } = await start({ floodControl: { burst: 10, rate: 20 } });
    const a = await user(port, 'paster');
    const b = await user(port, 'bob');
    await a.waitFor(/bob joined/);
    a.socket.write(Array.from({ length: 15 }, (_, k) => `paste ${k}\r\n`).join(''));
    await b.waitFor(/<paster> paste 14/);
    expect(b.lines.filter((l) => l.startsWith('<paster>'))).toEqual(
      Array.from({ length: 15 }, (_, k) => `<paster> paste ${k}`),
    );
    expect(a.closed).toBe(false);
  });

  it('disconnects only on sustained excess, with Excess Flood, and relays no more than it allowed', async () => {
    const { server, port } = await start({ floodControl: { burst: 5, rate: 1, maxQueued: 20 } });
    const a = await user(port, 'flooder');
    const b = await user(port, 'bob');
    await a.waitFor(/bob joined/);
    a.socket.write(Array.from({ length: 200 }, (_, k) => `spam ${k}\r\n`).join(''));
    await a.ended;
    expect(a.lines.some((l) => l.includes('Excess Flood'))).toBe(true);
    await b.waitFor(/flooder quit \(Excess Flood\)/);
    expect(b.lines.filter((l) => l.startsWith('<flooder>')).length).toBeLessThanOrEqual(7);
    expect(server.stats().disconnects['excess flood']).toBe(1);
  });

  it('times out a slowloris that never registers', async () => {
    const { server, port, irc } = await start({ registrationTimeout: 300 });
    const a = await LineClient.open(port);
    clients.push(a);
    a.socket.write('half a ni');
    const i = await LineClient.open(irc);
    clients.push(i);
    i.send('NICK slow');
    await Promise.all([a.ended, i.ended]);
    expect(a.lines.at(-1)).toBe('* closing: registration timed out');
    expect(i.lines.at(-1)).toMatch(/^ERROR :Closing Link: .*registration timed out/);
    expect(server.stats().disconnects['registration timeout']).toBe(2);
    expect(server.stats().connections).toBe(0);
  });

  it('pings idle IRC clients and drops those that do not answer', async () => {
    const { server, irc } = await start({ pingInterval: 200, pingTimeout: 300 });
    const quiet = await ircUser(irc, 'quiet');
    const alive = await ircUser(irc, 'alive');
    clients.push(quiet, alive);
    const onPing = () => {
      for (const l of alive.lines.splice(0)) if (l.startsWith('PING')) alive.send(`PONG ${l.slice(5)}`);
    };
    const t = setInterval(onPing, 20);
    try {
      await quiet.waitFor(/^PING :asyncnet.chat/);
      await quiet.ended;
      expect(quiet.lines.at(-1)).toMatch(/ping timeout/);
      expect(alive.closed).toBe(false);
      expect(server.stats().disconnects['ping timeout']).toBe(1);
    } finally {
      clearInterval(t);
    }
  });

  it('limits connections per IP', async () => {
    const { server, port } = await start({ maxConnectionsPerIp: 3 });
    const open = await Promise.all([0, 1, 2].map(() => LineClient.open(port)));
    clients.push(...open);
    for (const c of open) await c.waitFor(/what is your nick/);
    const extra = await LineClient.open(port);
    clients.push(extra);
    await extra.ended;
    expect(extra.lines).toEqual(['* error: too many connections from 127.0.0.1']);
    open[0]!.close();
    await open[0]!.ended;
    await new Promise((r) => setTimeout(r, 50));
    const again = await LineClient.open(port);
    clients.push(again);
    await again.waitFor(/what is your nick/);
    expect(server.stats().disconnects['too many connections']).toBe(1);
  });
});

describe('ChatServer lifecycle: close during listen', () => {
  it('close() while listen() is in progress leaves nothing listening', async () => {
    for (const ircPort of [undefined, 0]) {
      const server = createChatServer({ log: () => {} });
      const listening = server.listen({ port: 0, ircPort }).then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
      await server.close();
      expect(await listening).toBe('ERR_SERVER_CLOSED');
      expect(server.address()).toBeNull();
      expect(server.ircAddress()).toBeNull();
    }
    // close() after the bus attached, while the listener is still binding (resolving 'localhost').
    const inner = memoryBus();
    const server: ChatServer = createChatServer({
      log: () => {},
      bus: {
        async attach(handler) {
          const node = await inner.attach(handler);
          process.nextTick(() => void server.close());
          return node;
        },
      },
    });
    await expect(server.listen({ host: 'localhost', port: 0, ircPort: 0 })).rejects.toMatchObject({
      code: 'ERR_SERVER_CLOSED',
    });
    expect(server.address()).toBeNull();
    expect(server.ircAddress()).toBeNull();
  });
});

describe('ChatServer lifecycle', () => {
  it('validates options and refuses a second listen or a listen after close', async () => {
    expect(() => createChatServer({ sendQueue: { soft: 10, hard: 5 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createChatServer({ maxLineLength: -1 })).toThrow(
      /maxLineLength must be a positive number, got -1/,
    );
    // Options that end up on the wire or in the transport are checked up front too.
    for (const bad of [
      { highWaterMark: -5 },
      { defaultRoom: 'lobby' },
      { defaultRoom: '#a b' },
      { motd: ['hi\r\nQUIT'] },
      { serverName: 'my server' },
      { network: '' },
    ]) {
      expect(() => createChatServer(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
    const { server } = await start();
    await expect(server.listen()).rejects.toMatchObject({ code: 'ERR_SERVER_LISTENING' });
    await server.close({ timeout: 100 });
    await expect(server.listen()).rejects.toMatchObject({ code: 'ERR_SERVER_CLOSED' });
    expect(server.stats().connections).toBe(0);
  });
});
