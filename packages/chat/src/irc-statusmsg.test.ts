import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, type LineClient, plainUser } from './__fixtures__/line-client.js';
import { memoryBus } from './bus.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(options: ChatServerOptions = {}): Promise<ChatServer> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return server;
}

type User = LineClient & { ask(line: string, re: RegExp): Promise<string> };

async function user(server: ChatServer, nick: string): Promise<User> {
  const c = (await ircUser(server.ircAddress()!.port, nick)) as User;
  clients.push(c);
  c.ask = (line, re) => {
    const from = c.lines.length;
    c.send(line);
    return c.waitFor(re, 5_000, from);
  };
  return c;
}

/** Lines a client got up to a PONG that fences everything sent before it. */
async function drained(c: User): Promise<string[]> {
  const from = c.lines.length;
  c.send('PING :drain');
  await c.waitFor(/PONG .*drain/, 5_000, from);
  return c.lines;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('IRC STATUSMSG', () => {
  it('advertises STATUSMSG=@+ and delivers @#room to ops only, +#room to voiced and ops', async () => {
    const s = await start();
    const op = await user(s, 'op');
    const v = await user(s, 'v');
    const plain = await user(s, 'plain');
    expect(op.lines.some((l) => / 005 .* STATUSMSG=@\+ /.test(l))).toBe(true);
    for (const c of [op, v, plain]) await c.ask('JOIN #s', / 366 /);
    await op.ask('MODE #s +v v', / MODE #s \+v v$/);
    v.send('PRIVMSG @#s :for ops');
    await op.waitFor(/^:v!~v@127\.0\.0\.1 PRIVMSG @#s :for ops$/);
    op.send('PRIVMSG +#s :for voices');
    await v.waitFor(/^:op!~op@127\.0\.0\.1 PRIVMSG \+#s :for voices$/);
    v.send('NOTICE @+#s :lowest prefix wins');
    await op.waitFor(/ NOTICE \+#s :lowest prefix wins$/);
    op.send('PRIVMSG #s :everyone');
    await plain.waitFor(/ PRIVMSG #s :everyone$/);
    expect((await drained(plain)).filter((l) => /for ops|for voices|lowest/.test(l))).toEqual([]);
    // The sender does not get its own line back (no echo-message), ops do not get +#s twice.
    expect((await drained(v)).filter((l) => /for ops|lowest/.test(l))).toEqual([]);
    expect((await drained(op)).filter((l) => /for voices/.test(l))).toEqual([]);
  });

  it('keeps status messages out of room history and CHATHISTORY', async () => {
    const s = await start();
    const op = await user(s, 'op');
    await op.ask('JOIN #h', / 366 /);
    op.send('PRIVMSG @#h :secret plan');
    op.send('PRIVMSG #h :public line');
    await op.ask('PING :x', /PONG/);
    const late = await user(s, 'late');
    await late.ask('JOIN #h', / 366 /);
    await late.ask('CHATHISTORY LATEST #h * 10', /PRIVMSG #h :public line$/);
    const lines = await drained(late);
    expect(lines.some((l) => l.includes('public line'))).toBe(true);
    expect(lines.some((l) => l.includes('secret plan'))).toBe(false);
  });

  it('refuses outsiders and muted members (404), unknown rooms (401), and says nothing to NOTICE', async () => {
    const s = await start();
    const op = await user(s, 'op');
    const member = await user(s, 'member');
    const out = await user(s, 'out');
    await op.ask('JOIN #r', / 366 /);
    await member.ask('JOIN #r', / 366 /);
    await op.ask('MODE #r -n', / MODE #r -n$/);
    // -n lets outsiders talk to the whole room, never to a part of it.
    await out.ask('PRIVMSG @#r :let me in', / 404 out #r :Cannot send to channel$/);
    await op.ask('MODE #r +m', / MODE #r \+m$/);
    await member.ask('PRIVMSG @#r :muted', / 404 member #r /);
    await member.ask('PRIVMSG @#nochan :x', / 401 member @#nochan /);
    await member.ask('PRIVMSG @nick :x', / 401 member @nick /);
    const from = member.lines.length;
    member.send('NOTICE @#nochan :x');
    await drained(member);
    expect(member.lines.slice(from).filter((l) => / 40[14] /.test(l))).toEqual([]);
    expect((await drained(op)).some((l) => /let me in|muted/.test(l))).toBe(false);
  });

  it('echoes to an echo-message sender with the status target, and shows plain ops who it was for', async () => {
    const s = await start();
    const op = await user(s, 'op');
    await op.ask('JOIN #p', / 366 /);
    const p = await plainUser(s.address()!.port, 'plainop');
    clients.push(p);
    p.send('/join #p');
    await p.waitFor(/joined #p/);
    await op.ask('MODE #p +o plainop', / MODE #p \+o plainop$/);
    await op.ask('CAP REQ echo-message', / ACK :echo-message/);
    await op.ask('PRIVMSG @#p :ops, look', /^:op!~op@127\.0\.0\.1 PRIVMSG @#p :ops, look$/);
    await p.waitFor(/^<op to @#p> ops, look$/);
  });

  it('reaches ops on another node of the bus, and not that node’s other members', async () => {
    const bus = memoryBus();
    const a = await start({ bus });
    const b = await start({ bus });
    const op = await user(a, 'op');
    await op.ask('JOIN #c', / 366 /);
    const remoteOp = await user(b, 'rop');
    const remoteMember = await user(b, 'rmem');
    await remoteOp.ask('JOIN #c', / 366 /);
    await remoteMember.ask('JOIN #c', / 366 /);
    await op.ask('MODE #c +o rop', / MODE #c \+o rop$/);
    await remoteOp.waitFor(/ MODE #c \+o rop$/);
    remoteMember.send('PRIVMSG @#c :to every op');
    await op.waitFor(/:rmem!\S+ PRIVMSG @#c :to every op$/);
    op.send('PRIVMSG @#c :ops across nodes');
    await remoteOp.waitFor(/:op!\S+ PRIVMSG @#c :ops across nodes$/);
    op.send('PRIVMSG #c :fence');
    await remoteMember.waitFor(/PRIVMSG #c :fence$/);
    expect(remoteMember.lines.some((l) => l.includes('ops across nodes'))).toBe(false);
  });
});
