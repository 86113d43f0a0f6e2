import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ircUser, LineClient, plainUser } from './__fixtures__/line-client.js';
import { findRedisServer, RedisProcess } from './__fixtures__/redis.js';
import { scramLogin } from './__fixtures__/sasl.js';
import type { ChatAccountStore } from './account-store.js';
import type { ChatServerOptions } from './options.js';
import { hashPassword } from './passwords.js';
import { redisAccountStore } from './redis-account-store.js';
import { redisBus } from './redis-bus.js';
import { type ChatServer, createChatServer } from './server.js';

const bin = findRedisServer();
if (bin === null) {
  console.warn(
    'SKIPPED: redis-server is not installed, so the Redis account store tests do not run (apt-get install redis-server)',
  );
}

/** One raw Redis command over RESP (the test reads and writes keys behind the servers' backs; ASCII replies). */
function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      const eol = out.indexOf('\r\n');
      if (eol === -1) return;
      // A bulk string ($len) is complete after its data; other replies end at the first CRLF.
      const len = out.startsWith('$') ? Number(out.slice(1, eol)) : -1;
      if (len >= 0 && Buffer.byteLength(out) < eol + 2 + len + 2) return;
      s.destroy();
      resolve(out);
    });
    s.on('error', reject);
    s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

describe.skipIf(bin === null)('accounts in Redis (two servers on one redis-server)', () => {
  let redis: RedisProcess;
  let prefix = '';
  let run = 0;
  const servers: ChatServer[] = [];
  const clients: LineClient[] = [];

  beforeAll(async () => {
    // AOF on: accounts must survive the Redis restarts below.
    redis = await RedisProcess.start(bin!, true);
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
  });

  /** Two servers on one Redis bus (a fresh prefix per test), accounts in Redis by default. */
  async function pair(accounts: ChatServerOptions['accounts'] = { registration: true }) {
    prefix = `t${++run}`;
    const out: Array<{ irc: number; port: number }> = [];
    for (let k = 0; k < 2; k++) {
      const s = createChatServer({
        bus: redisBus({ url: redis.url, prefix, maxRetryDelay: 100 }),
        accounts,
        floodControl: false,
        nodeTimeout: 2_000,
        log: () => {},
      });
      servers.push(s);
      await s.listen({ port: 0, ircPort: 0 });
      out.push({ irc: s.ircAddress()!.port, port: s.address()!.port });
    }
    return out as [{ irc: number; port: number }, { irc: number; port: number }];
  }

  async function irc(port: number, nick: string): Promise<LineClient> {
    const c = await ircUser(port, nick);
    clients.push(c);
    return c;
  }

  /** A registering connection with cap-notify (302) and sasl. */
  async function saslConn(port: number, nick: string): Promise<LineClient> {
    const c = await LineClient.open(port);
    clients.push(c);
    c.send('CAP LS 302');
    c.send('CAP REQ :sasl');
    c.send(`NICK ${nick}`);
    c.send(`USER ${nick} 0 * :${nick}`);
    await c.waitFor(/ CAP \S+ ACK :sasl/);
    return c;
  }

  async function plainLogin(c: LineClient, user: string, password: string): Promise<string> {
    const k = c.lines.length;
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/^AUTHENTICATE \+$| 904 /, 10_000, k);
    c.send(`AUTHENTICATE ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`);
    return c.waitFor(/ 90[34] /, 10_000, k);
  }

  it('an account registered on one node logs in on the other (PLAIN, SCRAM, /login), stored as hashes only', async () => {
    const [a, b] = await pair();
    const r = await irc(a.irc, 'alice');
    r.send('REGISTER * * wonderland');
    await r.waitFor(/ REGISTER SUCCESS alice /);
    const p = await plainUser(a.port, 'bob');
    clients.push(p);
    p.send('/register bob builder99');
    await p.waitFor(/account bob created/);

    const c = await saslConn(b.irc, 'x1');
    await c.waitFor(/ CAP \* LS :.*\bsasl=PLAIN,SCRAM-SHA-256\b.*draft\/account-registration/);
    expect(await plainLogin(c, 'ALICE', 'wonderland')).toMatch(/ 903 /);
    const d = await saslConn(b.irc, 'x2');
    expect(await scramLogin(d, 'bob', 'builder99')).toEqual({ ok: true, serverVerified: true });
    const e = await saslConn(b.irc, 'x3');
    expect(await plainLogin(e, 'alice', 'wrong')).toMatch(/ 904 /);
    const q = await plainUser(b.port, 'carl');
    clients.push(q);
    q.send('/login alice wonderland');
    await q.waitFor(/you are logged in as alice/);
    // The name is taken on the other node too.
    const t = await irc(b.irc, 'mallory');
    t.send('REGISTER alice * other-password');
    await t.waitFor(/ FAIL REGISTER ACCOUNT_EXISTS alice /);

    // What Redis holds: spelling, scrypt hash and SCRAM credentials; never a password.
    for (const [name, password] of [
      ['alice', 'wonderland'],
      ['bob', 'builder99'],
    ] as const) {
      const raw = await redisCommand(redis.port, 'GET', `${prefix}:account:${name}`);
      const json = JSON.parse(raw.split('\r\n')[1]!) as Record<string, string>;
      expect(Object.keys(json).sort()).toEqual(['hash', 'name', 'scram']);
      expect(json.hash).toMatch(/^scrypt\$/);
      expect(json.scram).toMatch(/^scram-sha-256\$4096\$/);
      expect(raw).not.toContain(password);
    }
  });

  it('a registration race between the nodes has exactly one winner per name', async () => {
    const [a, b] = await pair();
    const names = Array.from({ length: 8 }, (_, k) => `racer${k}`);
    const left = await Promise.all(names.map((_n, k) => irc(a.irc, `l${k}`)));
    const right = await Promise.all(names.map((_n, k) => irc(b.irc, `r${k}`)));
    names.forEach((n, k) => {
      left[k]!.send(`REGISTER ${n} * password-left`);
      right[k]!.send(`REGISTER ${n} * password-right`);
    });
    for (let k = 0; k < names.length; k++) {
      const re = new RegExp(` (REGISTER SUCCESS|FAIL REGISTER ACCOUNT_EXISTS) ${names[k]} `);
      const [x, y] = await Promise.all([left[k]!.waitFor(re), right[k]!.waitFor(re)]);
      const wins = [x, y].filter((l) => l.includes('SUCCESS')).length;
      expect(wins, `${names[k]}: ${x} / ${y}`).toBe(1);
      // The winner's password is the one that works, on either node.
      const winner = x.includes('SUCCESS') ? 'password-left' : 'password-right';
      const c = await saslConn(k % 2 === 0 ? a.irc : b.irc, `w${k}`);
      expect(await plainLogin(c, names[k]!, winner)).toMatch(/ 903 /);
    }
  });

  it('withdraws SASL and registration (CAP DEL) while Redis is down and offers them again (CAP NEW)', async () => {
    const [a] = await pair();
    const r = await irc(a.irc, 'dora');
    r.send('REGISTER * * explorer1');
    await r.waitFor(/ REGISTER SUCCESS dora /);
    const c = await saslConn(a.irc, 'cn');
    await redis.kill();
    await c.waitFor(/ CAP \S+ DEL :sasl draft\/account-registration/);
    // A client that tries anyway gets a clear failure, not silence.
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/ 904 \S+ /);
    const reg = await irc(a.irc, 'newbie');
    reg.send('REGISTER * * whatever1');
    await reg.waitFor(/ FAIL REGISTER TEMPORARILY_UNAVAILABLE /);
    await redis.restart();
    await c.waitFor(
      / CAP \S+ NEW :sasl=PLAIN,SCRAM-SHA-256 draft\/account-registration=before-connect/,
      15_000,
    );
    c.send('CAP REQ :sasl');
    await c.waitCount(/ CAP \S+ ACK :sasl/, 2);
    expect(await scramLogin(c, 'dora', 'explorer1')).toEqual({ ok: true, serverVerified: true });
  }, 30_000);

  it('a login caught by Redis dying or stalling mid-exchange fails with 904 (bounded by commandTimeout), then works', async () => {
    prefix = `t${++run}`;
    const store = redisAccountStore({ url: redis.url, prefix, commandTimeout: 500, maxRetryDelay: 100 });
    const s = createChatServer({
      accounts: { store, registration: true },
      floodControl: false,
      log: () => {},
    });
    servers.push(s);
    await s.listen({ port: 0, ircPort: 0 });
    const port = s.ircAddress()!.port;
    const r = await irc(port, 'erin');
    r.send('REGISTER * * password1');
    await r.waitFor(/ REGISTER SUCCESS erin /);

    // Stalled: the connection stays up, the command times out.
    const c = await saslConn(port, 'st');
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/^AUTHENTICATE \+$/);
    redis.signal('SIGSTOP');
    const t0 = Date.now();
    c.send(`AUTHENTICATE ${Buffer.from('\0erin\0password1').toString('base64')}`);
    await c.waitFor(/ 904 st :SASL authentication failed: accounts are unavailable, try later/, 5_000);
    expect(Date.now() - t0).toBeLessThan(4_000);
    // A SCRAM exchange stalled the same way.
    const d = await saslConn(port, 'sd');
    expect(await scramLogin(d, 'erin', 'password1')).toEqual({ ok: false, numeric: '904' });
    redis.signal('SIGCONT');
    // Killed between the mechanism and the credentials.
    const e = await saslConn(port, 'kd');
    e.send('AUTHENTICATE PLAIN');
    await e.waitFor(/^AUTHENTICATE \+$/);
    await redis.kill();
    e.send(`AUTHENTICATE ${Buffer.from('\0erin\0password1').toString('base64')}`);
    await e.waitFor(/ 904 \S+ /, 5_000);
    // The failures did not use up the connection's attempts: once Redis is back, it logs in.
    await redis.restart();
    await e.waitFor(/ CAP \S+ NEW :sasl/, 15_000);
    e.send('CAP REQ :sasl');
    await e.waitCount(/ ACK :sasl/, 2);
    expect(await plainLogin(e, 'erin', 'password1')).toMatch(/ 903 /);
  }, 30_000);

  it('configured users stay in front of Redis: they log in and their names cannot be registered there', async () => {
    const [a, b] = await pair({ users: { admin: await hashPassword('rootroot') }, registration: true });
    const c = await saslConn(b.irc, 'ad');
    expect(await plainLogin(c, 'admin', 'rootroot')).toMatch(/ 903 /);
    const r = await irc(a.irc, 'sneaky');
    r.send('REGISTER admin * password1');
    await r.waitFor(/ FAIL REGISTER ACCOUNT_EXISTS admin /);
    expect(await redisCommand(redis.port, 'EXISTS', `${prefix}:account:admin`)).toBe(':0\r\n');
  });

  it('treats hostile records as no account (bad JSON, absurd scrypt cost, wrong name, plain text)', async () => {
    const [a] = await pair();
    const good = await hashPassword('secret99');
    const poison: Record<string, string> = {
      j: '{not json',
      // N = 2^30 would make every login allocate gigabytes.
      n: JSON.stringify({ name: 'n', hash: good.replace('$16384$', '$1073741824$') }),
      w: JSON.stringify({ name: 'someoneelse', hash: good }),
      // A password in clear must never be compared as one.
      p: JSON.stringify({ name: 'p', hash: 'secret99' }),
      big: JSON.stringify({ name: 'big', hash: good, pad: 'x'.repeat(5_000) }),
    };
    for (const [k, v] of Object.entries(poison))
      await redisCommand(redis.port, 'SET', `${prefix}:account:${k}`, v);
    for (const k of Object.keys(poison)) {
      const c = await saslConn(a.irc, `h${k}`);
      expect(await plainLogin(c, k, 'secret99'), k).toMatch(/ 904 /);
    }
    const store: ChatAccountStore = redisAccountStore({ url: redis.url, prefix });
    await store.open!();
    try {
      expect(await store.exists('j')).toBe(false);
      expect(await store.verify('x'.repeat(10_000), 'pw')).toBeNull();
      expect(await store.exists('bad name')).toBe(false);
      await expect(store.register('ok', 'p'.repeat(2_000))).rejects.toThrow(/over 1024 bytes/);
    } finally {
      await store.close!();
    }
  });
});
