import { Client as IrcClient } from 'irc-framework';
import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient, plainUser } from './__fixtures__/line-client.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(
  options: ChatServerOptions = {},
): Promise<{ server: ChatServer; port: number; irc: number }> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return { server, port: server.address()!.port, irc: server.ircAddress()!.port };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('IRC front end', () => {
  it('negotiates CAP LS, welcomes with 001-005 and MOTD only after CAP END', async () => {
    const { irc } = await start();
    const c = await LineClient.open(irc);
    clients.push(c);
    c.send('CAP LS 302');
    c.send('NICK capper');
    c.send('USER cap 0 * :Cap Per');
    await c.waitFor(/^:asyncnet.chat CAP \* LS :account-notify .*message-tags.* server-time/);
    c.send('JOIN #x');
    await c.waitFor(/ 451 /);
    expect(c.lines.some((l) => / 001 /.test(l))).toBe(false);
    c.send('CAP END');
    await c.waitFor(/ 376 capper /);
    for (const n of ['001', '002', '003', '004', '005', '375', '372']) {
      expect(c.lines.some((l) => l.startsWith(`:asyncnet.chat ${n} capper `))).toBe(true);
    }
    expect(c.lines.find((l) => / 001 /.test(l))).toMatch(
      /Welcome to the asyncnet Network, capper!~cap@127\.0\.0\.1$/,
    );
    expect(c.lines.find((l) => / 005 /.test(l))).toMatch(/CASEMAPPING=rfc1459/);
  });

  it('answers commands and errors with the right numerics', async () => {
    const { irc } = await start();
    const c = await ircUser(irc, 'nums');
    clients.push(c);
    const expectLine = async (send: string, re: RegExp) => {
      const from = c.lines.length;
      c.send(send);
      return c.waitFor(re, 5_000, from);
    };
    await expectLine('FROB', / 421 nums FROB :Unknown command/);
    await expectLine('JOIN', / 461 nums JOIN :Not enough parameters/);
    await expectLine('PRIVMSG ghost :boo', / 401 nums ghost :No such nick/);
    await expectLine('PRIVMSG #nowhere :boo', / 401 nums #nowhere :No such nick\/channel/);
    await expectLine('JOIN #Dev', /^:nums!~nums@127\.0\.0\.1 JOIN #Dev$/);
    await c.waitFor(/ 353 nums = #Dev :@nums$/);
    await c.waitFor(/ 366 nums #Dev :End of \/NAMES list\./);
    await expectLine('TOPIC #dev', / 331 nums #Dev :No topic is set/);
    await expectLine('TOPIC #dev :all about dev', /^:nums!~nums@127\.0\.0\.1 TOPIC #Dev :all about dev$/);
    await expectLine('TOPIC #DEV', / 332 nums #Dev :all about dev/);
    await expectLine('LIST', / 322 nums #Dev 1 :all about dev/);
    await c.waitFor(/ 323 /);
    await expectLine('WHO #dev', / 352 nums #Dev ~nums 127\.0\.0\.1 asyncnet\.chat nums H@ :0 nums real/);
    await c.waitFor(/ 315 nums #dev /);
    await expectLine('MOTD', / 376 nums /);
    await expectLine('PING :abc', /^:asyncnet.chat PONG asyncnet.chat :abc$/);
    await expectLine('PART #dev :bye', /^:nums!~nums@127\.0\.0\.1 PART #Dev :bye$/);
    await expectLine('PART #dev', / 403 nums #dev /);
    c.send(`JOIN ${Array.from({ length: 25 }, (_, k) => `#r${k}`).join(',')}`);
    await c.waitFor(/ 405 nums #r20 :You have joined too many channels/);
    await expectLine('QUIT :done', /^ERROR :Closing Link: 127\.0\.0\.1 \(Quit: done\)$/);
    await c.ended;
  });

  it('bridges plain and IRC clients in one room: messages, actions, private messages, names, quits', async () => {
    const { port, irc } = await start();
    const alice = await plainUser(port, 'alice');
    const bob = await ircUser(irc, 'bob');
    clients.push(alice, bob);
    bob.send('JOIN #lobby');
    await bob.waitFor(/ 353 bob = #lobby :(@alice bob|bob @alice)$/);
    await alice.waitFor(/^\* bob joined #lobby$/);
    alice.send('hi bob');
    expect(await bob.waitFor(/PRIVMSG #lobby/)).toBe(':alice!plain@127.0.0.1 PRIVMSG #lobby :hi bob');
    bob.send('PRIVMSG #lobby :hi alice');
    expect(await alice.waitFor(/^<bob>/)).toBe('<bob> hi alice');
    bob.send('PRIVMSG #lobby :\x01ACTION waves\x01');
    await alice.waitFor(/^\*\* bob waves$/);
    bob.send('PRIVMSG alice :\x01ACTION pokes you\x01');
    await alice.waitFor(/^\*\*bob\*\* pokes you$/);
    alice.send('/me bows');
    await bob.waitFor((l) => l === ':alice!plain@127.0.0.1 PRIVMSG #lobby :\x01ACTION bows\x01');
    alice.send('/msg BOB secret');
    await bob.waitFor(/^:alice!plain@127\.0\.0\.1 PRIVMSG bob :secret$/);
    bob.send('PRIVMSG Alice :psst');
    await alice.waitFor(/^\*bob\* psst$/);
    bob.send('NOTICE #lobby :heads up');
    await alice.waitFor(/^-bob- heads up$/);
    bob.send('PRIVMSG #lobby :\x02bold\x02 and \x0304,12colour\x03 text');
    await alice.waitFor(/^<bob> bold and colour text$/);
    alice.send('/nick alicia');
    await bob.waitFor(/^:alice!plain@127\.0\.0\.1 NICK :alicia$/);
    alice.send('/quit later');
    await bob.waitFor(/^:alicia!plain@127\.0\.0\.1 QUIT :Quit: later$/);
  });

  it('runs a full irc-framework session against the server', async () => {
    const { port, irc } = await start();
    const plain = await plainUser(port, 'plainy');
    clients.push(plain);
    const bot = new IrcClient();
    const seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`irc-framework session stalled: ${seen.join(' | ')}`)),
        15_000,
      );
      bot.on('registered', () => {
        seen.push('registered');
        bot.join('#lobby');
      });
      bot.on('userlist', (ev: { channel: string; users: Array<{ nick: string }> }) => {
        seen.push(
          `userlist ${ev.users
            .map((u) => u.nick)
            .sort()
            .join(',')}`,
        );
        bot.say('#lobby', 'hello from irc-framework');
      });
      bot.on('message', (ev: { type: string; nick: string; target: string; message: string }) => {
        seen.push(`${ev.type} ${ev.nick}->${ev.target}: ${ev.message}`);
        if (ev.message === 'hi bot') bot.changeNick('frameworked');
      });
      bot.on('nick', (ev: { nick: string; new_nick: string }) => {
        seen.push(`nick ${ev.nick}->${ev.new_nick}`);
        bot.quit('bye now');
      });
      bot.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    bot.connect({
      host: '127.0.0.1',
      port: irc,
      nick: 'botty',
      username: 'botty',
      gecos: 'Bot',
      auto_reconnect: false,
    });
    await plain.waitFor(/^<botty> hello from irc-framework$/);
    plain.send('hi bot');
    await done;
    await plain.waitFor(/^\* botty is now known as frameworked$/);
    await plain.waitFor(/^\* frameworked quit \(bye now\)$/);
    expect(seen).toEqual([
      'registered',
      'userlist botty,plainy',
      'privmsg plainy->#lobby: hi bot',
      'nick botty->frameworked',
    ]);
  });
});
