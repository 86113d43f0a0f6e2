import { afterEach, describe, expect, it } from 'vitest';
import { type DatagramEndpoint, openDatagramEndpoint } from './datagram.js';

const open: DatagramEndpoint[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});
async function endpoint(...args: Parameters<typeof openDatagramEndpoint>) {
  const e = await openDatagramEndpoint(...args);
  open.push(e);
  return e;
}

describe('openDatagramEndpoint', () => {
  it('echoes datagrams', async () => {
    const server = await endpoint({ localAddress: '127.0.0.1' });
    void (async () => {
      for await (const { data, address, port } of server) await server.send(data, port, address);
    })();
    const client = await endpoint({ remoteAddress: '127.0.0.1', remotePort: server.address().port });
    await client.send('ping');
    const reply = await client.receive({ signal: AbortSignal.timeout(2000) });
    expect(Buffer.from(reply.data).toString()).toBe('ping');
    expect(reply.port).toBe(server.address().port);
  });

  it('bounds the receive queue and counts drops', async () => {
    const server = await endpoint({ localAddress: '127.0.0.1', queueLimit: 4 });
    const client = await endpoint({ localAddress: '127.0.0.1' });
    for (let i = 0; i < 10; i++) await client.send(`m${i}`, server.address().port, '127.0.0.1');
    const deadline = Date.now() + 2000;
    while (server.dropped < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.dropped).toBe(6);
    const got = [];
    for (let i = 0; i < 4; i++) got.push(Buffer.from((await server.receive()).data).toString());
    expect(got).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('a receive can be cancelled, and close() ends iteration and pending receives', async () => {
    const e = await endpoint({ localAddress: '127.0.0.1' });
    await expect(e.receive({ signal: AbortSignal.timeout(20) })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    const pending = e.receive();
    await e.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
  });

  it('works over IPv6 loopback', async () => {
    const server = await openDatagramEndpoint({ localAddress: '::1' }).catch(() => null);
    if (server === null) return;
    open.push(server);
    const client = await endpoint({ remoteAddress: '::1', remotePort: server.address().port });
    await client.send('v6');
    expect(Buffer.from((await server.receive()).data).toString()).toBe('v6');
  });

  it('refuses a send without destination on an unconnected endpoint', async () => {
    const e = await endpoint({ localAddress: '127.0.0.1' });
    await expect(e.send('x')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
