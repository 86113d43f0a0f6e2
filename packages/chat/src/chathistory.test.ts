import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient } from './__fixtures__/line-client.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

async function start(): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, history: 50 });
  servers.push(server);
  await server.listen({ ircPort: 0 });
  return server.ircAddress()!.port;
}

/** A client with batch, server-time, message-tags and draft/chathistory. */
async function historian(port: number, nick: string): Promise<LineClient> {
  const c = await LineClient.open(port);
  clients.push(c);
  c.send('CAP LS 302');
  c.send('CAP REQ :batch server-time message-tags draft/chathistory');
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick}`);
  await c.waitFor(/ CAP \S+ ACK /);
  c.send('CAP END');
  await c.waitFor(/ 376 /);
  return c;
}

/** Sends a CHATHISTORY command and returns the texts of the batch it answers with (in order). */
async function ask(c: LineClient, line: string): Promise<{ type: string; texts: string[]; raw: string[] }> {
  const from = c.lines.length;
  c.send(line);
  const open = await c.waitFor(/ BATCH \+\S+ \S+/, 5_000, from);
  const [, id, type] = / BATCH \+(\S+) (\S+)/.exec(open)!;
  await c.waitFor(new RegExp(` BATCH -${id}$`), 5_000, from);
  const raw = c.lines
    .slice(from)
    .filter((l) => l.startsWith(`@batch=${id};`) || l.startsWith(`@batch=${id} `));
  return { type: type!, raw, texts: raw.map((l) => l.slice(l.lastIndexOf(' :') + 2)) };
}

async function failOf(c: LineClient, line: string): Promise<string> {
  const from = c.lines.length;
  c.send(line);
  return c.waitFor(/ FAIL CHATHISTORY /, 5_000, from);
}

describe('IRCv3 draft/chathistory', () => {
  it('answers LATEST, BEFORE, AFTER, AROUND and BETWEEN by msgid and timestamp, in chathistory batches', async () => {
    const port = await start();
    const reader = await historian(port, 'reader');
    const speaker = await ircUser(port, 'speaker');
    clients.push(speaker);
    reader.send('JOIN #h');
    await reader.waitFor(/ 366 reader #h /);
    speaker.send('JOIN #h');
    await reader.waitFor(/ JOIN #h/);
    for (let k = 1; k <= 6; k++) speaker.send(`PRIVMSG #h :m${k}`);
    await reader.waitFor(/ PRIVMSG #h :m6$/);
    const ids: string[] = [];
    for (const l of reader.lines) {
      const m = /msgid=([^; ]+).* PRIVMSG #h :m(\d)$/.exec(l);
      if (m !== null) ids[Number(m[2])] = m[1]!;
    }
    expect(ids.filter(Boolean)).toHaveLength(6);
    expect(reader.lines.some((l) => / 005 .* CHATHISTORY=100 /.test(l))).toBe(true);
    expect(reader.lines.some((l) => / 005 .* MSGREFTYPES=msgid,timestamp /.test(l))).toBe(true);

    const latest = await ask(reader, 'CHATHISTORY LATEST #h * 3');
    expect(latest.type).toBe('chathistory');
    expect(latest.texts).toEqual(['m4', 'm5', 'm6']);
    // Each line keeps its original msgid and carries server-time.
    expect(latest.raw[0]).toMatch(new RegExp(`time=\\d{4}-[^;]+Z.*msgid=${ids[4]}`));
    expect((await ask(reader, `CHATHISTORY LATEST #h msgid=${ids[4]} 10`)).texts).toEqual(['m5', 'm6']);
    expect((await ask(reader, `CHATHISTORY BEFORE #h msgid=${ids[4]} 2`)).texts).toEqual(['m2', 'm3']);
    expect((await ask(reader, `CHATHISTORY AFTER #h msgid=${ids[2]} 2`)).texts).toEqual(['m3', 'm4']);
    expect((await ask(reader, `CHATHISTORY AROUND #h msgid=${ids[3]} 3`)).texts).toEqual(['m2', 'm3', 'm4']);
    expect((await ask(reader, `CHATHISTORY AROUND #h msgid=${ids[1]} 2`)).texts).toEqual(['m1', 'm2']);
    expect((await ask(reader, `CHATHISTORY BETWEEN #h msgid=${ids[1]} msgid=${ids[5]} 10`)).texts).toEqual([
      'm2',
      'm3',
      'm4',
    ]);
    // Backwards: from the newer reference back towards the older one, still oldest first.
    expect((await ask(reader, `CHATHISTORY BETWEEN #h msgid=${ids[5]} msgid=${ids[1]} 2`)).texts).toEqual([
      'm3',
      'm4',
    ]);
    // Forwards with more in range than the limit: the ones right after the first reference.
    expect((await ask(reader, `CHATHISTORY BETWEEN #h msgid=${ids[1]} msgid=${ids[6]} 2`)).texts).toEqual([
      'm2',
      'm3',
    ]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await ask(reader, `CHATHISTORY BEFORE #h timestamp=${future} 2`)).texts).toEqual(['m5', 'm6']);
    expect((await ask(reader, 'CHATHISTORY AFTER #h timestamp=1970-01-01T00:00:00.000Z 1')).texts).toEqual([
      'm1',
    ]);
    expect((await ask(reader, `CHATHISTORY AFTER #h timestamp=${future} 5`)).texts).toEqual([]);
    // A msgid this server never issued matches nothing.
    expect((await ask(reader, 'CHATHISTORY BEFORE #h msgid=nope 5')).texts).toEqual([]);
    // The limit is clamped to CHATHISTORY=100.
    expect((await ask(reader, 'CHATHISTORY LATEST #h * 5000')).texts).toHaveLength(6);
  });

  it('lists TARGETS in a draft/chathistory-targets batch and keeps history to room members', async () => {
    const port = await start();
    const a = await historian(port, 'alice');
    const outsider = await historian(port, 'outsider');
    a.send('JOIN #one,#two');
    await a.waitFor(/ 366 alice #two /);
    a.send('PRIVMSG #one :first');
    a.send('PRIVMSG #two :second');
    a.send('PING :sent');
    await a.waitFor(/PONG .*sent/);
    const t = await ask(
      a,
      'CHATHISTORY TARGETS timestamp=1970-01-01T00:00:00.000Z timestamp=2999-01-01T00:00:00.000Z 10',
    );
    expect(t.type).toBe('draft/chathistory-targets');
    expect(t.raw.map((l) => l.replace(/^@\S+ :\S+ /, ''))).toEqual([
      expect.stringMatching(/^CHATHISTORY TARGETS #one \d{4}-\d\d-\d\dT[\d:.]+Z$/),
      expect.stringMatching(/^CHATHISTORY TARGETS #two \d{4}-/),
    ]);
    // Not a member: an empty batch, the same as for a room that does not exist.
    expect((await ask(outsider, 'CHATHISTORY LATEST #one * 10')).texts).toEqual([]);
    expect((await ask(outsider, 'CHATHISTORY LATEST #nosuch * 10')).texts).toEqual([]);
    expect((await ask(outsider, 'CHATHISTORY LATEST alice * 10')).texts).toEqual([]);
    expect(
      (
        await ask(
          outsider,
          'CHATHISTORY TARGETS timestamp=1970-01-01T00:00:00.000Z timestamp=2999-01-01T00:00:00.000Z 10',
        )
      ).raw,
    ).toEqual([]);
  });

  it('answers bad requests with FAIL CHATHISTORY standard replies', async () => {
    const port = await start();
    const c = await historian(port, 'picky');
    expect(await failOf(c, 'CHATHISTORY FROB #h * 1')).toMatch(/FAIL CHATHISTORY UNKNOWN_COMMAND FROB :/);
    expect(await failOf(c, 'CHATHISTORY LATEST #h')).toMatch(/FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :/);
    expect(await failOf(c, 'CHATHISTORY LATEST #h * 0')).toMatch(
      /FAIL CHATHISTORY INVALID_PARAMS LATEST 0 :/,
    );
    expect(await failOf(c, 'CHATHISTORY BEFORE #h yesterday 5')).toMatch(
      /FAIL CHATHISTORY INVALID_PARAMS BEFORE yesterday :/,
    );
    expect(await failOf(c, 'CHATHISTORY BEFORE #h * 5')).toMatch(/INVALID_PARAMS/);
    expect(await failOf(c, 'CHATHISTORY TARGETS msgid=x timestamp=2000-01-01T00:00:00Z 5')).toMatch(
      /INVALID_PARAMS TARGETS/,
    );
  });

  it('does not push history on join to a chathistory client, which asks for it instead', async () => {
    const port = await start();
    const early = await ircUser(port, 'early');
    clients.push(early);
    early.send('JOIN #r');
    early.send('PRIVMSG #r :before you came');
    early.send('PING :x');
    await early.waitFor(/PONG .*x/);
    const c = await historian(port, 'late');
    c.send('JOIN #r');
    await c.waitFor(/ 366 late #r /);
    expect((await ask(c, 'CHATHISTORY LATEST #r * 10')).texts).toEqual(['before you came']);
    expect(c.lines.filter((l) => l.includes('before you came'))).toHaveLength(1);
  });
});
