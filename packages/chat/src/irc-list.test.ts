import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, type LineClient } from './__fixtures__/line-client.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

async function start(options: ChatServerOptions = {}): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ ircPort: 0 });
  return server.ircAddress()!.port;
}

async function user(port: number, nick: string, rooms: string): Promise<LineClient> {
  const c = await ircUser(port, nick);
  clients.push(c);
  // One JOIN line must fit in 512 bytes.
  const names = rooms.split(',').filter((r) => r !== '');
  for (let k = 0; k < names.length; k += 10) c.send(`JOIN ${names.slice(k, k + 10).join(',')}`);
  c.send('PING :joined');
  await c.waitFor(/PONG .*joined/);
  return c;
}

/** The channels a LIST answers with, sorted. */
async function list(c: LineClient, args: string): Promise<string[]> {
  const from = c.lines.length;
  c.send(`LIST ${args}`.trim());
  await c.waitFor(/ 323 /, 5_000, from);
  return c.lines
    .slice(from)
    .map((l) => / 322 \S+ (\S+) /.exec(l)?.[1])
    .filter((x): x is string => x !== undefined)
    .sort();
}

describe('IRC LIST (ELIST=MNU, SAFELIST)', () => {
  it('filters by masks, !masks and member counts (<n, >n, U<n, U>n)', async () => {
    const port = await start();
    const a = await user(port, 'a', '#a,#b,#c');
    await user(port, 'b', '#b,#c');
    await user(port, 'c', '#c');
    expect(a.lines.some((l) => / 005 .* ELIST=MNU /.test(l))).toBe(true);
    expect(await list(a, '')).toEqual(['#a', '#b', '#c']);
    expect(await list(a, '>1')).toEqual(['#b', '#c']);
    expect(await list(a, '<2')).toEqual(['#a']);
    expect(await list(a, 'U>2')).toEqual(['#c']);
    expect(await list(a, 'U<3,>1')).toEqual(['#b']);
    expect(await list(a, '!#a')).toEqual(['#b', '#c']);
    expect(await list(a, '#a,#c')).toEqual(['#a', '#c']);
    expect(await list(a, '#*,!#b,>0')).toEqual(['#a', '#c']);
    expect(await list(a, '#nomatch*')).toEqual([]);
  });

  it('stops a list at a quarter of the send queue hard limit with a notice, and the client stays', async () => {
    const port = await start({ sendQueue: { soft: 2_048, hard: 4_096 }, maxRoomsPerClient: 100 });
    const rooms = Array.from({ length: 60 }, (_, k) => `#room-with-a-rather-long-name-${k}`);
    const owner = await user(port, 'owner', rooms.join(','));
    const reader = await user(port, 'reader', '');
    const got = await list(reader, '');
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(rooms.length);
    await reader.waitFor(/ NOTICE reader :LIST stopped after \d+ channels/);
    reader.send('PING :alive');
    await reader.waitFor(/PONG .*alive/);
    expect(reader.closed).toBe(false);
    owner.send('PING :owner');
    await owner.waitFor(/PONG .*owner/);
  });
});
