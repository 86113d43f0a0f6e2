import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { deferred, HOST, portOf, useLoopback } from './__fixtures__/helpers.js';
import { createServer } from './create-server.js';
import type { Transport } from './protocol.js';

const { servers } = useLoopback();

/** An asyncio-style producer: writes until paused, resumes writing in resumeWriting. */
function producer() {
  const events: string[] = [];
  const lost = deferred<Error | null>();
  let writes = 0;
  let transport: Transport | undefined;
  let paused = false;
  const chunk = Buffer.alloc(65_536, 0x62);
  const pump = () => {
    while (!paused && transport !== undefined && !transport.isClosing() && writes < 100_000) {
      transport.write(chunk);
      writes++;
    }
  };
  const protocol = {
    connectionMade(t: Transport) {
      transport = t;
      pump();
    },
    pauseWriting() {
      paused = true;
      events.push('pause');
    },
    resumeWriting() {
      paused = false;
      events.push('resume');
      pump();
    },
    connectionLost(err: Error | null) {
      events.push('lost');
      lost.resolve(err);
    },
  };
  return { protocol, events, lost: lost.promise, writes: () => writes, transport: () => transport };
}

async function rawPeer(port: number): Promise<Socket> {
  const s = connect({ host: HOST, port });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

describe('a Protocol whose peer resets while writing is paused', () => {
  it('gets connectionLost(ECONNRESET) at once, no resumeWriting after it, and no write spin', async () => {
    const p = producer();
    const server = await createServer(() => p.protocol, HOST, 0);
    servers.push(server);
    const peer = await rawPeer(portOf(server));
    peer.pause();
    await new Promise((r) => setTimeout(r, 150));
    expect(p.events.at(-1)).toBe('pause');
    const before = p.writes();
    peer.resetAndDestroy();
    const err = await p.lost;
    expect(err).toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) });
    expect(p.transport()?.isClosing()).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(p.events.at(-1)).toBe('lost');
    expect(p.writes() - before).toBeLessThan(100);
  });

  it('gets connectionLost when the peer closes without reading', async () => {
    const p = producer();
    const server = await createServer(() => p.protocol, HOST, 0);
    servers.push(server);
    const peer = await rawPeer(portOf(server));
    peer.pause();
    await new Promise((r) => setTimeout(r, 50));
    peer.destroy();
    await p.lost;
    expect(p.transport()?.isClosing()).toBe(true);
    expect(p.writes()).toBeLessThan(1000);
  });
});
