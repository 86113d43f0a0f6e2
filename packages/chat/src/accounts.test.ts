import { Client as IrcClient } from 'irc-framework';
import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient, plainUser } from './__fixtures__/line-client.js';
import type { ChatServerOptions } from './options.js';
import { hashPassword } from './passwords.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(options: ChatServerOptions = {}): Promise<{ port: number; irc: number }> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return { port: server.address()!.port, irc: server.ircAddress()!.port };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('accounts', () => {
  it('logs in with SASL PLAIN (raw), refuses a wrong password with 904, and shows 330 in WHOIS', async () => {
    const { irc } = await start({ accounts: { users: { alice: await hashPassword('wonderland') } } });
    const bad = await LineClient.open(irc);
    clients.push(bad);
    bad.send('CAP LS 302');
    await bad.waitFor(/ CAP \* LS :.*sasl=PLAIN/);
    bad.send('CAP REQ :sasl');
    await bad.waitFor(/ACK :sasl/);
    bad.send('AUTHENTICATE PLAIN');
    await bad.waitFor(/^AUTHENTICATE \+$/);
    bad.send(`AUTHENTICATE ${Buffer.from('\0alice\0nope').toString('base64')}`);
    await bad.waitFor(/ 904 \* :SASL authentication failed/);
    const c = await LineClient.open(irc);
    clients.push(c);
    c.send('CAP REQ :sasl');
    c.send('NICK al');
    c.send('USER al 0 * :Al');
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${Buffer.from('\0alice\0wonderland').toString('base64')}`);
    await c.waitFor(/ 900 al al!~al@127\.0\.0\.1 alice :You are now logged in as alice/);
    await c.waitFor(/ 903 al /);
    c.send('CAP END');
    await c.waitFor(/ 001 al /);
    const w = await ircUser(irc, 'who');
    clients.push(w);
    w.send('WHOIS al');
    await w.waitFor(/ 330 who al alice :is logged in as/);
  });

  it('irc-framework logs in over SASL and registers', async () => {
    const { irc } = await start({ accounts: { users: { bot: await hashPassword('robotpw') } } });
    const bot = new IrcClient();
    const result = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('irc-framework SASL stalled')), 10_000);
      bot.on('loggedin', (ev: { account: string }) => {
        clearTimeout(t);
        resolve(ev.account);
      });
      bot.on('sasl failed', () => reject(new Error('sasl failed')));
      bot.connect({
        host: '127.0.0.1',
        port: irc,
        nick: 'botnick',
        username: 'bot',
        gecos: 'Bot',
        auto_reconnect: false,
        account: { account: 'bot', password: 'robotpw' },
      });
    });
    expect(result).toBe('bot');
    bot.quit('done');
  });

  it('creates accounts with REGISTER (draft/account-registration) and /register, then /login', async () => {
    const { irc, port } = await start({ accounts: { registration: true } });
    const c = await ircUser(irc, 'newbie');
    clients.push(c);
    c.send('REGISTER * * hunter22');
    await c.waitFor(/REGISTER SUCCESS newbie :Account created/);
    await c.waitFor(/ 900 newbie /);
    c.send('REGISTER * * hunter22');
    await c.waitFor(/FAIL REGISTER ALREADY_AUTHENTICATED/);
    const p = await plainUser(port, 'plainacct');
    clients.push(p);
    p.send('/register newbie hunter22');
    await p.waitFor(/error: account "newbie" already exists/);
    p.send('/login newbie wrong');
    await p.waitFor(/error: login failed/);
    p.send('/login newbie hunter22');
    await p.waitFor(/^\* you are logged in as newbie$/);
  });

  it('/login and /register answer with an error when the store fails mid-command, and the next try works', async () => {
    let failing = true;
    const logged: string[] = [];
    const store = {
      verify: async (name: string, password: string) => {
        if (failing) throw new Error('database went away');
        return name === 'acct' && password === 'secret1' ? 'acct' : null;
      },
      register: async () => {
        if (failing) throw new Error('database went away');
        return true;
      },
      exists: async () => false,
    };
    const { port } = await start({ accounts: { store, registration: true }, log: (l) => logged.push(l) });
    const p = await plainUser(port, 'tries');
    clients.push(p);
    p.send('/login acct secret1');
    await p.waitFor(/error: accounts are unavailable right now, try later/);
    const from = p.lines.length;
    p.send('/register fresh secret2');
    await p.waitFor(/error: accounts are unavailable right now, try later/, 10_000, from);
    expect(logged.filter((l) => l.includes('database went away'))).toHaveLength(2);
    failing = false;
    p.send('/login acct secret1');
    await p.waitFor(/^\* you are logged in as acct$/);
  });
});

describe('plain protocol moderation', () => {
  it('/op /kick /ban /mode /away /whois /invite act on the hub that IRC members see', async () => {
    const { irc, port } = await start();
    const boss = await plainUser(port, 'boss');
    clients.push(boss);
    const i = await ircUser(irc, 'ircy');
    clients.push(i);
    i.send('JOIN #lobby');
    await i.waitFor(/ 353 ircy = #lobby :(@boss ircy|ircy @boss)$/);
    boss.send('/op ircy');
    await i.waitFor(/^:boss!plain@127\.0\.0\.1 MODE #lobby \+o ircy$/);
    await boss.waitFor(/^\* boss sets mode \+o ircy on #lobby$/);
    boss.send('/mode +m');
    await i.waitFor(/ MODE #lobby \+m$/);
    boss.send('/mode');
    await boss.waitFor(/^\* modes of #lobby: \+mnt$/);
    boss.send('/away brb');
    await boss.waitFor(/^\* you are marked as away$/);
    i.send('WHOIS boss');
    await i.waitFor(/ 301 ircy boss :brb/);
    boss.send('/whois ircy');
    await boss.waitFor(/^\* ircy is in @#lobby$/);
    const victim = await plainUser(port, 'victim');
    clients.push(victim);
    victim.send('cannot speak');
    await victim.waitFor(/error: you cannot speak in #lobby/);
    boss.send('/kick victim enough');
    await i.waitFor(/^:boss!plain@127\.0\.0\.1 KICK #lobby victim :enough$/);
    await victim.waitFor(/^\* victim was kicked from #lobby by boss \(enough\)$/);
    boss.send('/ban victim');
    await i.waitFor(/ MODE #lobby \+b victim!\*@\*$/);
    victim.send('/join #lobby');
    await victim.waitFor(/error: cannot join #lobby: you are banned/);
    boss.send('/kick nobody');
    await boss.waitFor(/error: "nobody" is not in #lobby/);
  });

  it('refuses room names with controls, formatting bytes or invisible characters', async () => {
    const { irc, port } = await start();
    const p = await plainUser(port, 'hyg');
    clients.push(p);
    for (const bad of ['#a\u200bb', '#\u202egnp', '#x\u00ady', '#\ufeffz']) {
      p.send(`/join ${bad}`);
      await p.waitFor(
        (l) => l.includes('holds control, formatting or invisible characters'),
        5_000,
        p.lines.length - 1,
      );
    }
    const i = await ircUser(irc, 'hygirc');
    clients.push(i);
    i.send('JOIN #bold\x02room');
    await i.waitFor(/ 403 hygirc /);
  });
});
