import { afterEach, describe, expect, it } from 'vitest';
import { type LineClient, plainUser } from './__fixtures__/line-client.js';
import { type ChatServer, type ChatServerOptions, createChatServer } from './server.js';

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
    expect(await a.waitFor(/^\* bob waves/)).toBe('* bob waves');
    expect(a.lines.some((l) => l.includes('<alice> hello there'))).toBe(false);
  });
});
