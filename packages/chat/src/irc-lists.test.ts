import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, type LineClient } from './__fixtures__/line-client.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(options: ChatServerOptions = {}): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return server.ircAddress()!.port;
}

type User = LineClient & { ask(line: string, re: RegExp): Promise<string> };

async function user(irc: number, nick: string): Promise<User> {
  const c = (await ircUser(irc, nick)) as User;
  clients.push(c);
  c.ask = (line, re) => {
    const from = c.lines.length;
    c.send(line);
    return c.waitFor(re, 5_000, from);
  };
  return c;
}

/** Sends a line and returns every line up to the PONG that fences it. */
async function fenced(c: User, line: string): Promise<string[]> {
  const from = c.lines.length;
  c.send(line);
  c.send('PING :fence');
  await c.waitFor(/PONG .*fence/, 5_000, from);
  return c.lines.slice(from, -1);
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('IRC ban exceptions (+e) and invite exceptions (+I)', () => {
  it('advertises EXCEPTS, INVEX and MAXLIST=beI, and CHANMODES lists beI as type A', async () => {
    const irc = await start({ maxBans: 7 });
    const c = await user(irc, 'c');
    const isupport = c.lines.filter((l) => / 005 /.test(l)).join(' ');
    expect(isupport).toMatch(/ CHANMODES=beI,k,l,imnpst /);
    expect(isupport).toMatch(/ EXCEPTS /);
    expect(isupport).toMatch(/ INVEX /);
    expect(isupport).toMatch(/ MAXLIST=beI:7 /);
  });

  it('lets a +e mask past a matching +b (348/349), and -e bans it again', async () => {
    const irc = await start();
    const op = await user(irc, 'op');
    const friend = await user(irc, 'friend');
    await op.ask('JOIN #e', / 366 /);
    await op.ask('MODE #e +b *!*@127.0.0.1', / MODE #e \+b \*!\*@127\.0\.0\.1$/);
    await friend.ask('JOIN #e', / 474 friend #e /);
    await op.ask('MODE #e +e friend', /^:op!~op@127\.0\.0\.1 MODE #e \+e friend!\*@\*$/);
    await op.ask('MODE #e e', / 348 op #e friend!\*@\* op!~op@127\.0\.0\.1 \d+$/);
    await op.waitFor(/ 349 op #e :End of channel exception list$/);
    await friend.ask('JOIN #e', /^:friend!~friend@127\.0\.0\.1 JOIN #e$/);
    // The exception covers speaking too: a banned member may not talk, an excepted one may.
    friend.send('PRIVMSG #e :still here');
    await op.waitFor(/:friend!\S+ PRIVMSG #e :still here$/);
    await friend.ask('PART #e', / PART #e$/);
    await op.ask('MODE #e -e friend!*@*', / MODE #e -e friend!\*@\*$/);
    await friend.ask('JOIN #e', / 474 friend #e /);
    expect((await fenced(op, 'MODE #e +e')).filter((l) => / 348 /.test(l))).toEqual([]);
  }, 20_000);

  it('lets a +I mask past +i without INVITE (346/347); others still get 473', async () => {
    const irc = await start();
    const op = await user(irc, 'op');
    const staff = await user(irc, 'staff');
    const other = await user(irc, 'other');
    await op.ask('JOIN #i', / 366 /);
    await op.ask('MODE #i +iI staff!*@*', / MODE #i \+iI staff!\*@\*$/);
    await op.ask('MODE #i +I', / 346 op #i staff!\*@\* op!~op@127\.0\.0\.1 \d+$/);
    await op.waitFor(/ 347 op #i :End of channel invite list$/);
    await other.ask('JOIN #i', / 473 other #i /);
    await staff.ask('JOIN #i', / JOIN #i$/);
    // +I does not pass +b: an exempt invite is not a ban exception.
    await staff.ask('PART #i', / PART #i$/);
    await op.ask('MODE #i +b staff', / MODE #i \+b staff!\*@\*$/);
    await staff.ask('JOIN #i', / 474 staff #i /);
  }, 20_000);

  it('shows +e/+I lists only to members, refuses changes from non-ops (482) and outsiders (442)', async () => {
    const irc = await start();
    const op = await user(irc, 'op');
    const peon = await user(irc, 'peon');
    const out = await user(irc, 'out');
    await op.ask('JOIN #p', / 366 /);
    await peon.ask('JOIN #p', / 366 /);
    await op.ask('MODE #p +eI a!*@* b!*@*', / MODE #p \+eI a!\*@\* b!\*@\*$/);
    await peon.ask('MODE #p +e c', / 482 peon #p /);
    await peon.ask('MODE #p -I b!*@*', / 482 peon #p /);
    expect((await fenced(peon, 'MODE #p e')).some((l) => / 348 peon #p a!\*@\* /.test(l))).toBe(true);
    const outsider = await fenced(out, 'MODE #p +e');
    expect(outsider.some((l) => / 348 /.test(l))).toBe(false);
    expect(outsider.some((l) => / 349 out #p /.test(l))).toBe(true);
    await out.ask('MODE #p +e x', / 442 out #p /);
  }, 20_000);

  it('bounds the three lists together with 478 and ignores garbage masks', async () => {
    const irc = await start({ maxBans: 3 });
    const op = await user(irc, 'op');
    await op.ask('JOIN #f', / 366 /);
    await op.ask('MODE #f +beI a b c', / MODE #f \+beI a!\*@\* b!\*@\* c!\*@\*$/);
    await op.ask('MODE #f +e d', / 478 op #f d!\*@\* :Channel list is full$/);
    // Setting an entry already there is not an addition, so a full list does not refuse it.
    const again = await fenced(op, 'MODE #f +b a!*@*');
    expect(again.filter((l) => / (478|MODE) /.test(l))).toEqual([]);
    await op.ask('MODE #f -b a!*@*', / MODE #f -b a!\*@\*$/);
    await op.ask('MODE #f +I d', / MODE #f \+I d!\*@\*$/);
    // Too long, a control character, a comma, a leading colon: none becomes an entry.
    await op.ask('MODE #f -e b', / MODE #f -e b!\*@\*$/);
    const garbage = await fenced(op, `MODE #f +bbb ${'x'.repeat(200)} a,b \x01x`);
    expect(garbage.filter((l) => / (MODE|478) /.test(l))).toEqual([]);
    expect((await fenced(op, 'MODE #f +b')).filter((l) => / 367 /.test(l))).toEqual([]);
  }, 20_000);

  it('matches a hostile mask with many stars in bounded steps', async () => {
    const irc = await start();
    const op = await user(irc, 'op');
    const victim = await user(irc, `v${'a'.repeat(20)}`);
    await op.ask('JOIN #h', / 366 /);
    const evil = `${'*a'.repeat(40)}*b!*@*`.slice(0, 128);
    await op.ask(`MODE #h +b ${evil}`, / MODE #h \+b /);
    // With a backtracking regular expression this JOIN would take longer than the test lives.
    await victim.ask('JOIN #h', / JOIN #h$/);
  }, 20_000);

  it('refuses list changes from an unregistered connection with 451', async () => {
    const irc = await start();
    const { LineClient } = await import('./__fixtures__/line-client.js');
    const raw = await LineClient.open(irc);
    clients.push(raw);
    raw.send('MODE #x +e a');
    await raw.waitFor(/ 451 /);
  });
});
