import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient } from './__fixtures__/line-client.js';
import { readChallenge, scramLogin, sendMessage } from './__fixtures__/sasl.js';
import { ScramClient } from './__fixtures__/scram-client.js';
import type { ChatAccountStore } from './account-store.js';
import type { ChatServerOptions } from './options.js';
import { hashPassword, hashScram } from './passwords.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(options: ChatServerOptions = {}): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return server.ircAddress()!.port;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

/** A connection that negotiated `sasl` and is still registering (NICK/USER sent, no CAP END). */
async function saslConn(irc: number, nick = 'x'): Promise<LineClient> {
  const c = await LineClient.open(irc);
  clients.push(c);
  c.socket.setNoDelay(true);
  c.send('CAP LS 302');
  c.send('CAP REQ :sasl');
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick}`);
  await c.waitFor(/ CAP \S+ ACK :sasl/);
  return c;
}

const users = async () => ({
  alice: { password: await hashPassword('wonderland'), scram: await hashScram('wonderland') },
  // An account configured with a scrypt hash only: PLAIN works, SCRAM cannot.
  old: await hashPassword('oldpassword'),
});

describe('SASL SCRAM-SHA-256', () => {
  it('is offered in CAP LS 302 and 908, and logs in (server signature checked, 900/903, then 001)', async () => {
    const irc = await start({ accounts: { users: await users() } });
    const c = await saslConn(irc, 'al');
    await c.waitFor(/ CAP \* LS :.*\bsasl=PLAIN,SCRAM-SHA-256\b/);
    c.send('AUTHENTICATE EXTERNAL');
    await c.waitFor(/ 908 al PLAIN,SCRAM-SHA-256 :are available SASL mechanisms/);
    await c.waitFor(/ 904 al /);
    expect(await scramLogin(c, 'alice', 'wonderland')).toEqual({ ok: true, serverVerified: true });
    await c.waitFor(/ 900 al al!~al@127\.0\.0\.1 alice :You are now logged in as alice/);
    c.send('CAP END');
    await c.waitFor(/ 001 al /);
    const w = await ircUser(irc, 'who');
    clients.push(w);
    w.send('WHOIS al');
    await w.waitFor(/ 330 who al alice :is logged in as/);
  });

  it('completes at any split of the AUTHENTICATE payload and any nonce length (chunked both ways)', async () => {
    const irc = await start({ accounts: { users: await users() } });
    await fc.assert(
      fc.asyncProperty(
        // Nonce lengths around the 400-byte chunk edges: client-final is 78 + n bytes (exactly
        // 400 base64 at n = 220..222), server-first 60 + n (exactly 400 at n = 238..240).
        fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 215, max: 245 })),
        // Nonce characters: any printable ASCII but ',' (RFC 5802), '=' and '+' included.
        fc.array(
          fc.integer({ min: 0x21, max: 0x7e }).filter((x) => x !== 0x2c),
          { minLength: 256, maxLength: 256 },
        ),
        fc.array(fc.nat({ max: 1_000 }), { maxLength: 6 }),
        fc.constantFrom('alice', 'ALICE', 'Alice'),
        async (nonceLength, chars, cuts, user) => {
          const c = await saslConn(irc);
          const nonce = String.fromCharCode(...chars.slice(0, nonceLength));
          const r = await scramLogin(c, user, 'wonderland', { nonce, cuts });
          expect(r).toEqual({ ok: true, serverVerified: true });
          await c.waitFor(/ 900 \S+ \S+ alice :/);
          c.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('fails a wrong password, a tampered nonce, proof or channel binding, and an unknown account alike (904)', async () => {
    const irc = await start({ accounts: { users: await users() } });
    const c = await saslConn(irc);
    expect(await scramLogin(c, 'alice', 'wonderlanD')).toEqual({ ok: false, numeric: '904' });
    const d = await saslConn(irc);
    expect(await scramLogin(d, 'alice', 'wonderland', { tamper: 'nonce' })).toEqual({
      ok: false,
      numeric: '904',
    });
    expect(await scramLogin(d, 'alice', 'wonderland', { tamper: 'proof' })).toEqual({
      ok: false,
      numeric: '904',
    });
    const e = await saslConn(irc);
    expect(await scramLogin(e, 'alice', 'wonderland', { tamper: 'binding' })).toEqual({
      ok: false,
      numeric: '904',
    });
    // An unknown account gets a salt and runs to the proof, so it looks like a wrong password.
    expect(await scramLogin(e, 'nobody', 'wonderland')).toEqual({ ok: false, numeric: '904' });
    // A hash-only account fails SCRAM the same way, and still logs in with PLAIN.
    expect(await scramLogin(e, 'old', 'oldpassword')).toEqual({ ok: false, numeric: '904' });
    const f = await saslConn(irc, 'o');
    f.send('AUTHENTICATE PLAIN');
    await f.waitFor(/^AUTHENTICATE \+$/);
    f.send(`AUTHENTICATE ${Buffer.from('\0old\0oldpassword').toString('base64')}`);
    await f.waitFor(/ 903 o /);
    for (const x of [c, d, e]) expect(x.lines.some((l) => / 90[03] /.test(l))).toBe(false);
  });

  it('aborts with AUTHENTICATE * (906) mid-exchange, and a new exchange then works', async () => {
    const irc = await start({ accounts: { users: await users() } });
    const c = await saslConn(irc, 'ab');
    const client = new ScramClient('alice', 'wonderland');
    c.send('AUTHENTICATE SCRAM-SHA-256');
    await c.waitFor(/^AUTHENTICATE \+$/);
    const k = c.lines.length;
    await sendMessage(c, client.first());
    const sf = await readChallenge(c, k);
    expect(sf?.text).toMatch(/^r=.+,s=.+,i=4096$/);
    c.send('AUTHENTICATE *');
    await c.waitFor(/ 906 ab :SASL authentication aborted/);
    // What the old exchange would have sent next is now a stray message of a new one: refused.
    expect(await scramLogin(c, 'alice', 'wonderland')).toEqual({ ok: true, serverVerified: true });
  });

  it('allows 3 failed attempts per connection (PLAIN and SCRAM together), then refuses at once', async () => {
    const irc = await start({ accounts: { users: await users() } });
    const c = await saslConn(irc, 'lim');
    expect(await scramLogin(c, 'alice', 'bad1')).toEqual({ ok: false, numeric: '904' });
    c.send('AUTHENTICATE PLAIN');
    await c.waitFor(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${Buffer.from('\0alice\0bad2').toString('base64')}`);
    await c.waitCount(/ 904 lim /, 2);
    expect(await scramLogin(c, 'alice', 'bad3')).toEqual({ ok: false, numeric: '904' });
    const k = c.lines.length;
    c.send('AUTHENTICATE SCRAM-SHA-256');
    await c.waitFor(/ 904 lim :SASL authentication failed: too many attempts/, 10_000, k);
    expect(c.lines.slice(k).some((l) => l.startsWith('AUTHENTICATE'))).toBe(false);
    // Registration still completes: the client is not stuck in SASL.
    c.send('CAP END');
    await c.waitFor(/ 001 lim /);
  });

  it('answers 905 to a chunk over 400 bytes or a message over 4096, and 904 to bad base64', async () => {
    const irc = await start({ accounts: { users: await users() } });
    const c = await saslConn(irc, 'big');
    c.send('AUTHENTICATE SCRAM-SHA-256');
    await c.waitFor(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${'A'.repeat(401)}`);
    await c.waitFor(/ 905 big :SASL message too long/);
    c.send('AUTHENTICATE SCRAM-SHA-256');
    await c.waitCount(/^AUTHENTICATE \+$/, 2);
    for (let i = 0; i < 11; i++) c.send(`AUTHENTICATE ${'A'.repeat(400)}`);
    await c.waitCount(/ 905 big /, 2);
    c.send('AUTHENTICATE SCRAM-SHA-256');
    await c.waitCount(/^AUTHENTICATE \+$/, 3);
    c.send('AUTHENTICATE bm,,n=x');
    await c.waitFor(/ 904 big /);
  });

  it('offers only PLAIN when the store keeps no SCRAM credentials', async () => {
    const store: ChatAccountStore = {
      verify: async (name, password) => (name === 'bob' && password === 'builder' ? 'bob' : null),
      register: async () => false,
      exists: async (name) => name === 'bob',
    };
    const irc = await start({ accounts: { store } });
    const c = await saslConn(irc, 'p');
    await c.waitFor(/ CAP \* LS :.*\bsasl=PLAIN(?: |$)/);
    c.send('AUTHENTICATE SCRAM-SHA-256');
    await c.waitFor(/ 908 p PLAIN :are available SASL mechanisms/);
    await c.waitFor(/ 904 p /);
  });

  it('logs in with SCRAM to an account made by REGISTER (credentials derived at registration)', async () => {
    const irc = await start({ accounts: { registration: true } });
    const r = await ircUser(irc, 'carol');
    clients.push(r);
    r.send('REGISTER * * hunter22');
    await r.waitFor(/ REGISTER SUCCESS carol /);
    const c = await saslConn(irc, 'c2');
    expect(await scramLogin(c, 'carol', 'hunter22')).toEqual({ ok: true, serverVerified: true });
  });

  it('keeps SCRAM credentials in accounts.file across a restart (hashes only)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asyncnet-chat-accounts-'));
    try {
      const file = join(dir, 'accounts.json');
      const irc = await start({ accounts: { file, registration: true } });
      const r = await ircUser(irc, 'dave');
      clients.push(r);
      r.send('REGISTER * * password42');
      await r.waitFor(/ REGISTER SUCCESS dave /);
      const saved = readFileSync(file, 'utf8');
      expect(JSON.parse(saved)).toEqual({
        dave: {
          password: expect.stringMatching(/^scrypt\$/),
          scram: expect.stringMatching(/^scram-sha-256\$4096\$/),
        },
      });
      expect(saved).not.toContain('password42');
      await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
      const again = await start({ accounts: { file } });
      const c = await saslConn(again, 'd2');
      expect(await scramLogin(c, 'dave', 'password42')).toEqual({ ok: true, serverVerified: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
