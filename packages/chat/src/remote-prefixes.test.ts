import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, type LineClient } from './__fixtures__/line-client.js';
import { memoryBus } from './bus.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

async function start(options: ChatServerOptions): Promise<number> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return server.ircAddress()!.port;
}

async function user(port: number, nick: string): Promise<LineClient> {
  const c = await ircUser(port, nick);
  clients.push(c);
  return c;
}

async function names(c: LineClient, room: string): Promise<string> {
  const from = c.lines.length;
  c.send(`NAMES ${room}`);
  return c.waitFor(/ 353 /, 5_000, from);
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('membership prefixes across nodes', () => {
  it('shows a remote op and voice in NAMES, follows MODE changes and nick changes', async () => {
    const bus = memoryBus();
    const a = await start({ bus });
    const b = await start({ bus });
    const owner = await user(a, 'owner');
    owner.send('JOIN #team');
    await owner.waitFor(/ 366 /);
    const guest = await user(b, 'guest');
    guest.send('JOIN #team');
    await guest.waitFor(/ 366 /);
    // The creator on node A is op; node B learns it from the creator's +o.
    expect(await names(guest, '#team')).toMatch(/[ :]@owner\b/);
    owner.send('MODE #team +v guest');
    await guest.waitFor(/MODE #team \+v guest/);
    expect(await names(owner, '#team')).toMatch(/[ :]\+guest\b/);
    owner.send('MODE #team +o guest');
    await guest.waitFor(/MODE #team \+o guest/);
    expect(await names(owner, '#team')).toMatch(/[ :]@guest\b/);
    owner.send('MODE #team -o owner');
    await guest.waitFor(/MODE #team -o owner/);
    const after = await names(guest, '#team');
    expect(after).toMatch(/[ :]owner\b/);
    expect(after).not.toMatch(/@owner/);
    // The flags follow a remote member's nick change.
    guest.send('NICK boss');
    await owner.waitFor(/NICK :?boss/);
    expect(await names(owner, '#team')).toMatch(/[ :]@boss\b/);
  });

  it('learns prefixes from a presence exchange (a node that joins later)', async () => {
    const bus = memoryBus();
    const a = await start({ bus });
    const owner = await user(a, 'owner');
    owner.send('JOIN #late');
    await owner.waitFor(/ 366 /);
    const b = await start({ bus });
    const guest = await user(b, 'guest');
    guest.send('JOIN #late');
    await guest.waitFor(/ 366 /);
    expect(await names(guest, '#late')).toMatch(/[ :]@owner\b/);
  });
});
