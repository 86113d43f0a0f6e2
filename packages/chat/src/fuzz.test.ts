import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ircUser, LineClient, plainUser } from './__fixtures__/line-client.js';
import { type ChatServer, createChatServer } from './server.js';

let server: ChatServer;
let port = 0;
let irc = 0;
const logs: string[] = [];

beforeAll(async () => {
  server = createChatServer({
    log: (l) => logs.push(l),
    maxConnectionsPerIp: 0,
    floodControl: { burst: 50, rate: 100 },
  });
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  port = server.address()!.port;
  irc = server.ircAddress()!.port;
});

afterAll(async () => {
  await server.close({ timeout: 200 });
});

const commands = [
  'NICK',
  'USER',
  'JOIN',
  'PART',
  'PRIVMSG',
  'NOTICE',
  'TOPIC',
  'NAMES',
  'LIST',
  'WHO',
  'WHOIS',
  'MODE',
  'CAP',
  'PING',
  'PONG',
  'QUIT',
  'MOTD',
  'USERHOST',
  'FOO',
];
const word = fc.oneof(
  fc.constantFrom('#lobby', '#x', 'a', '*', '', ':', '0', 'LS', 'END', 'REQ'),
  fc.string({ maxLength: 8 }),
);
const ircLine = fc
  .tuple(
    fc.option(fc.constantFrom(':pfx ', '@tag=1 '), { nil: '' }),
    fc.constantFrom(...commands),
    fc.array(word, { maxLength: 5 }),
    fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
  )
  .map(
    ([pre, cmd, params, trailing]) =>
      `${pre}${cmd} ${params.join(' ')}${trailing === undefined ? '' : ` :${trailing}`}`,
  );
const slashLine = fc
  .tuple(
    fc.constantFrom('/nick', '/join', '/part', '/rooms', '/who', '/me', '/msg', '/help', '/x', ''),
    fc.string({ maxLength: 20 }),
  )
  .map(([c, rest]) => `${c} ${rest}`);

async function stillServes(): Promise<void> {
  const p = await plainUser(port, `ok${Math.floor(Math.random() * 1e9)}`);
  p.close();
  const i = await ircUser(irc, `ok${Math.floor(Math.random() * 1e9)}`);
  i.close();
}

describe('misbehaving peers', () => {
  it('random bytes and random command lines never crash the server (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            ircLine.map((l) => new TextEncoder().encode(`${l}\r\n`)),
            slashLine.map((l) => new TextEncoder().encode(`${l}\n`)),
          ),
          {
            maxLength: 25,
          },
        ),
        async (toIrc, chunks) => {
          const c = await LineClient.open(toIrc ? irc : port);
          if (toIrc) {
            c.send(`NICK f${Math.floor(Math.random() * 1e9)}`);
            c.send('USER f 0 * :f');
          } else {
            c.send(`f${Math.floor(Math.random() * 1e9)}`);
          }
          for (const chunk of chunks) c.socket.write(chunk);
          await new Promise((r) => setTimeout(r, 5));
          c.close();
        },
      ),
      { numRuns: 60 },
    );
    await stillServes();
    expect(logs.filter((l) => l.startsWith('error handling'))).toEqual([]);
  });
});
