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

async function user(
  irc: number,
  nick: string,
): Promise<LineClient & { ask(line: string, re: RegExp): Promise<string> }> {
  const c = (await ircUser(irc, nick)) as LineClient & { ask(line: string, re: RegExp): Promise<string> };
  clients.push(c);
  c.ask = (line, re) => {
    const from = c.lines.length;
    c.send(line);
    return c.waitFor(re, 5_000, from);
  };
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('IRC channel moderation', () => {
  it('makes the creator op, reports modes 324/329, and refuses non-ops with 482', async () => {
    const { irc } = await start();
    const op = await user(irc, 'op');
    const peon = await user(irc, 'peon');
    await op.ask('JOIN #m', / 366 op #m /);
    await peon.ask('JOIN #m', / 353 peon = #m :(@op peon|peon @op)$/);
    await op.ask('MODE #m', / 324 op #m \+nt$/);
    await op.waitFor(/ 329 op #m \d+$/);
    await peon.ask('MODE #m +m', / 482 peon #m :You're not channel operator/);
    await peon.ask('TOPIC #m :mine', / 482 peon #m /);
    await peon.ask('MODE #m +Z', / 482 peon #m /);
    await op.ask('MODE #m +Z', / 472 op Z :is unknown mode char to me/);
    await op.ask('MODE op +Q', / 501 op :Unknown MODE flag/);
    await op.ask('MODE peon +i', / 502 op /);
    await op.ask('MODE op +i', /^:op!~op@127\.0\.0\.1 MODE op :\+i$/);
    await op.ask('MODE op', / 221 op \+i$/);
  });

  it('broadcasts one MODE line per change to every member, and enforces +v/+m/+n/+t', async () => {
    const { irc } = await start();
    const op = await user(irc, 'op');
    const v = await user(irc, 'v');
    const out = await user(irc, 'outsider');
    await op.ask('JOIN #m', / 366 /);
    await v.ask('JOIN #m', / 366 /);
    const mark = v.lines.length;
    await op.ask('MODE #m +mv v', /^:op!~op@127\.0\.0\.1 MODE #m \+mv v$/);
    await v.waitFor(/ MODE #m \+mv v$/, 5_000, mark);
    await op.ask('TOPIC #m :sync', / TOPIC #m :sync/);
    expect(op.lines.filter((l) => / MODE #m \+mv v$/.test(l))).toHaveLength(1);
    expect(v.lines.filter((l) => / MODE #m \+mv v$/.test(l))).toHaveLength(1);
    v.send('PRIVMSG #m :voiced');
    await op.waitFor(/:v!~v@127\.0\.0\.1 PRIVMSG #m :voiced/);
    await op.ask('MODE #m -v v', / MODE #m -v v$/);
    await v.ask('PRIVMSG #m :muted', / 404 v #m :Cannot send to channel/);
    await out.ask('PRIVMSG #m :from outside', / 404 outsider #m /);
    await op.ask('MODE #m -n', / MODE #m -n$/);
    out.send('PRIVMSG #m :from outside');
    await op.waitFor(/:outsider!~outsider@127\.0\.0\.1 PRIVMSG #m :from outside/);
    await op.ask('TOPIC #m :set by op', / TOPIC #m :set by op/);
    await v.ask('TOPIC #m', / 333 v #m op!~op@127\.0\.0\.1 \d+$/);
  }, 30_000);

  it('bans with masks (367/368, 474), keys (475), limits (471) and invite-only (473, INVITE 341)', async () => {
    const { irc } = await start();
    const op = await user(irc, 'op');
    const bad = await user(irc, 'bad');
    await op.ask('JOIN #b', / 366 /);
    await op.ask('MODE #b +b bad', / MODE #b \+b bad!\*@\*$/);
    await op.ask('MODE #b +b', / 367 op #b bad!\*@\* op!~op@127\.0\.0\.1 \d+$/);
    await op.waitFor(/ 368 op #b /);
    await bad.ask('JOIN #b', / 474 bad #b :Cannot join channel \(\+b\)/);
    await op.ask('MODE #b -b bad!*@*', / MODE #b -b bad!\*@\*$/);
    await op.ask('MODE #b +k sesame', / MODE #b \+k sesame$/);
    await bad.ask('JOIN #b', / 475 bad #b /);
    await bad.ask('MODE #b', / 324 bad #b \+ntk \*$/);
    await bad.ask('JOIN #b sesame', /^:bad!~bad@127\.0\.0\.1 JOIN #b$/);
    await bad.ask('PART #b', / PART #b$/);
    await op.ask('MODE #b -k *', / MODE #b -k \*$/);
    await op.ask('MODE #b +l 1', / MODE #b \+l 1$/);
    await bad.ask('JOIN #b', / 471 bad #b /);
    await op.ask('MODE #b -l+i', / MODE #b -l\+i$/);
    await bad.ask('JOIN #b', / 473 bad #b /);
    await op.ask('INVITE bad #b', / 341 op bad #b$/);
    await bad.waitFor(/^:op!~op@127\.0\.0\.1 INVITE bad #b$/);
    await bad.ask('JOIN #b', / JOIN #b$/);
    await op.ask('INVITE bad #b', / 443 op bad #b /);
  }, 30_000);

  it('kicks with a reason (441/442/482) and hides +s rooms from LIST, NAMES and WHOIS', async () => {
    const { irc } = await start();
    const op = await user(irc, 'op');
    const u = await user(irc, 'u');
    const other = await user(irc, 'other');
    await op.ask('JOIN #k', / 366 /);
    await u.ask('JOIN #k', / 366 /);
    await u.ask('KICK #k op', / 482 u #k /);
    await other.ask('KICK #k u', / 442 other #k /);
    await op.ask('KICK #k other', / 441 op other #k /);
    await op.ask('KICK #k u :behave', /^:op!~op@127\.0\.0\.1 KICK #k u :behave$/);
    await u.waitFor(/ KICK #k u :behave$/);
    await u.ask('PRIVMSG #k :back?', / 404 u #k /);
    await op.ask('MODE #k +s', / MODE #k \+s$/);
    await other.ask('LIST', / 323 /);
    expect(other.lines.some((l) => / 322 other #k /.test(l))).toBe(false);
    await op.ask('LIST', / 322 op #k 1 /);
    await other.ask('NAMES #k', / 366 other #k /);
    expect(other.lines.some((l) => / 353 other . #k /.test(l))).toBe(false);
    await other.ask('WHOIS op', / 318 other op /);
    expect(other.lines.some((l) => / 319 other op /.test(l))).toBe(false);
    await u.ask('JOIN #pub', / 366 /);
    await other.ask('LIST >0', / 323 /);
    await other.waitFor(/ 322 other #pub 1 /);
    await other.ask('LIST #nomatch*', / 323 /);
  });
});

describe('IRC queries', () => {
  it('answers AWAY, WHOIS, ISON, USERHOST, WHOWAS, LUSERS, VERSION, TIME, INFO, ADMIN', async () => {
    const { irc } = await start();
    const a = await user(irc, 'ann');
    const b = await user(irc, 'ben');
    await a.ask('JOIN #q', / 366 /);
    await a.ask('AWAY :lunch', / 306 ann :You have been marked as being away/);
    await b.ask('PRIVMSG ann :hi', / 301 ben ann :lunch/);
    await b.ask('WHOIS ann', / 311 ben ann ~ann 127\.0\.0\.1 \* :ann real$/);
    for (const n of [
      '319 ben ann :@#q',
      '312 ben ann asyncnet.chat',
      '301 ben ann :lunch',
      '317 ben ann \\d+ \\d+',
      '318 ben ann',
    ])
      await b.waitFor(new RegExp(` ${n}`));
    await b.ask('USERHOST ann ben', / 302 ben :(ann=-~ann@127\.0\.0\.1 ben=\+~ben@127\.0\.0\.1)$/);
    await a.ask('AWAY', / 305 ann /);
    await b.ask('ISON ann nobody ben', / 303 ben :ann ben$/);
    await b.ask('WHOWAS ghost', / 406 ben ghost /);
    await b.waitFor(/ 369 ben ghost /);
    await a.ask('NICK anna', /NICK :anna$/);
    await b.ask('WHOWAS ann', / 314 ben ann ~ann 127\.0\.0\.1 \* :ann real$/);
    await b.ask('LUSERS', / 251 ben :There are 2 users/);
    await b.waitFor(/ 266 ben /);
    await b.ask('VERSION', / 351 ben asyncnet-chat-/);
    await b.ask('TIME', / 391 ben asyncnet\.chat :/);
    await b.ask('INFO', / 374 ben /);
    await b.ask('ADMIN', / 259 ben /);
    await b.ask('NAMES', / 366 ben \* /);
  });

  it('advertises 005 tokens from the real limits and enforces MAXTARGETS without duplicate delivery', async () => {
    const { irc } = await start({ nickMaxLength: 16, topicMaxLength: 100 });
    const a = await user(irc, 'tgt');
    const isupport = a.lines.filter((l) => / 005 /.test(l)).join(' ');
    for (const t of [
      'NICKLEN=16',
      'TOPICLEN=100',
      'PREFIX=(ov)@+',
      'CHANMODES=beI,k,l,imnpst',
      'EXCEPTS',
      'INVEX',
      'MAXTARGETS=4',
      'CASEMAPPING=rfc1459',
      'CHANTYPES=#',
      'KICKLEN=',
      'AWAYLEN=',
      'TARGMAX=',
      'LINELEN=512',
      'MODES=4',
    ])
      expect(isupport).toContain(t);
    const b = await user(irc, 'rcpt');
    a.send('PRIVMSG rcpt,RCPT,rcpt :once');
    await b.waitFor(/PRIVMSG rcpt :once/);
    await a.ask('PRIVMSG a,b,c,d,e :too many', / 407 tgt /);
    await a.ask('PING :sync', /PONG/);
    expect(b.lines.filter((l) => l.includes(':once'))).toHaveLength(1);
  });

  it('keeps unregistered connections invisible: no WHOIS, no PMs', async () => {
    const { irc } = await start();
    const half = await LineClient.open(irc);
    clients.push(half);
    half.send('CAP LS 302');
    half.send('NICK lurker');
    half.send('USER l 0 * :L');
    await half.waitFor(/ CAP \* LS /);
    const a = await user(irc, 'looker');
    await a.ask('WHOIS lurker', / 401 looker lurker /);
    await a.ask('PRIVMSG lurker :hi', / 401 looker lurker /);
    expect(half.lines.some((l) => l.includes(':hi'))).toBe(false);
  });
});

describe('IRC operators and passwords', () => {
  it('OPER with an scrypt hash, then KILL and WALLOPS; 481 for others', async () => {
    const { irc } = await start({ operators: [{ name: 'root', password: await hashPassword('pw') }] });
    const o = await user(irc, 'boss');
    const w = await user(irc, 'watcher');
    await w.ask('MODE watcher +w', /MODE watcher :\+w/);
    await w.ask('KILL boss :no', / 481 watcher /);
    await o.ask('OPER root nope', / 464 boss /);
    await o.ask('OPER root pw', / 381 boss /);
    await w.ask('WHOIS boss', / 313 watcher boss /);
    o.send('WALLOPS :hear ye');
    await w.waitFor(/^:boss!~boss@127\.0\.0\.1 WALLOPS :hear ye$/);
    o.send('KILL watcher :bye');
    await w.waitFor(/^ERROR :Closing Link: 127\.0\.0\.1 \(Killed \(boss \(bye\)\)\)/);
    await w.ended;
  });

  it('refuses a wrong server password with 464 and accepts the right one', async () => {
    const { irc } = await start({ password: 'letmein' });
    const bad = await LineClient.open(irc);
    clients.push(bad);
    bad.send('PASS wrong');
    bad.send('NICK x');
    bad.send('USER x 0 * :x');
    await bad.waitFor(/ 464 x :Password incorrect/);
    await bad.ended;
    const good = await LineClient.open(irc);
    clients.push(good);
    good.send('PASS letmein');
    good.send('NICK y');
    good.send('USER y 0 * :y');
    await good.waitFor(/ 001 y /);
  });
});

describe('IRCv3', () => {
  it('ACKs and NAKs CAP REQ, tags messages with server-time and msgid, echoes, relays client tags and TAGMSG', async () => {
    const { irc, port } = await start();
    const t = await LineClient.open(irc);
    clients.push(t);
    t.send('CAP LS 302');
    t.send('NICK tagger');
    t.send('USER t 0 * :T');
    await t.waitFor(/ CAP \* LS /);
    t.send('CAP REQ :bogus-cap');
    await t.waitFor(/ CAP tagger NAK :bogus-cap$/);
    t.send('CAP REQ :server-time message-tags echo-message multi-prefix labeled-response batch');
    await t.waitFor(
      / CAP tagger ACK :server-time message-tags echo-message multi-prefix labeled-response batch$/,
    );
    t.send('CAP END');
    await t.waitFor(/ 376 tagger /);
    const plain = await plainUser(port, 'plainy');
    clients.push(plain);
    const other = await user(irc, 'plainirc');
    t.send('JOIN #lobby');
    other.send('JOIN #lobby');
    await other.waitFor(/ 366 /);
    await t.waitFor(/ 366 tagger #lobby/);
    t.send('@+draft/reply=abc PRIVMSG #lobby :tagged hello');
    const echo = await t.waitFor(/PRIVMSG #lobby :tagged hello/);
    expect(echo).toMatch(
      /^@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z;msgid=[^ ;]+;\+draft\/reply=abc :tagger!~t@127\.0\.0\.1 PRIVMSG #lobby :tagged hello$/,
    );
    expect(await other.waitFor(/tagged hello/)).toBe(':tagger!~t@127.0.0.1 PRIVMSG #lobby :tagged hello');
    await plain.waitFor(/^<tagger> tagged hello$/);
    other.send('PRIVMSG #lobby :from untagged');
    expect(await t.waitFor(/from untagged/)).toMatch(/^@time=[^ ]+;msgid=[^ ]+ :plainirc!/);
    t.send('@label=L1 PING :x');
    await t.waitFor(/^@label=L1 :asyncnet\.chat PONG asyncnet\.chat :x$/);
    t.send('@label=L2 MODE #lobby');
    await t.waitFor(/^@label=L2 :asyncnet\.chat BATCH \+\w+ labeled-response$/);
    await t.waitFor(/^@batch=\w+ :asyncnet\.chat 324 tagger #lobby/);
    t.send('@label=L3 PONG :x');
    await t.waitFor(/^@label=L3 :asyncnet\.chat ACK$/);
    t.send('@+typing=active TAGMSG #lobby');
    await t.waitFor(/^@time=[^ ]+;msgid=[^ ]+;\+typing=active :tagger!~t@127\.0\.0\.1 TAGMSG #lobby$/);
    t.send('PING :done');
    await t.waitFor(/PONG .*done/);
    expect(other.lines.some((l) => / TAGMSG #lobby/.test(l))).toBe(false);
  });

  it('replays history on join as a chathistory batch with the original server-time', async () => {
    const { irc } = await start();
    const a = await user(irc, 'old');
    await a.ask('JOIN #h', / 366 /);
    a.send('PRIVMSG #h :earlier');
    await a.ask('PING :s', /PONG/);
    const h = await LineClient.open(irc);
    clients.push(h);
    h.send('CAP REQ :batch server-time');
    h.send('NICK newer');
    h.send('USER n 0 * :N');
    h.send('CAP END');
    await h.waitFor(/ 376 /);
    h.send('JOIN #h');
    const open = await h.waitFor(/BATCH \+\w+ chathistory #h$/);
    const id = /BATCH \+(\w+)/.exec(open)![1]!;
    await h.waitFor(new RegExp(`^@batch=${id};time=[^ ]+ :old!~old@127\\.0\\.0\\.1 PRIVMSG #h :earlier$`));
    await h.waitFor(new RegExp(`BATCH -${id}$`));
  });
});
