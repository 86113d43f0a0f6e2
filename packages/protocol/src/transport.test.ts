import type { AddressInfo } from 'node:net';
import { openConnection } from '@asyncnet/streams';
import { describe, expect, it } from 'vitest';
import { deferred, HOST, portOf, RecordingProtocol, until, useLoopback } from './__fixtures__/helpers.js';
import { createConnection } from './create-connection.js';
import { createServer } from './create-server.js';
import { createDatagramEndpoint } from './datagram.js';
import type { BufferedProtocol, Protocol, Transport } from './protocol.js';

const { servers, transports } = useLoopback();

describe('Transport', () => {
  it('reports addresses, writes lines in order and validates water marks', async () => {
    const serverT = deferred<Transport>();
    const server = await createServer(
      (): Protocol => ({ connectionMade: (t) => serverT.resolve(t) }),
      HOST,
      0,
    );
    servers.push(server);
    const [t, client] = await createConnection(() => new RecordingProtocol(), HOST, portOf(server));
    transports.push(t);
    const st = await serverT.promise;
    expect((t.getExtraInfo('peername') as AddressInfo).port).toBe(portOf(server));
    expect((st.getExtraInfo('sockname') as AddressInfo).port).toBe(portOf(server));
    expect(t.getExtraInfo('no such thing', 'dflt')).toBe('dflt');
    expect(t.getExtraInfo('cipher', 'none')).toBe('none');
    expect(t.canWriteEof()).toBe(true);
    expect(t.isReading()).toBe(true);
    st.writeLines(['a', Buffer.from('b'), 'c\n']);
    await until(() => client.received.toString() === 'abc\n');
    expect(() => st.setWriteBufferLimits({ high: 10, low: 20 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    st.setWriteBufferLimits({ low: 100 });
    expect(st.getWriteBufferLimits()).toEqual({ high: 400, low: 100 });
    expect(st.getWriteBufferSize()).toBe(0);
  });

  it('throws ERR_WRITE_AFTER_CLOSE for a write after close(), and isClosing() turns true', async () => {
    const server = await createServer(() => ({}), HOST, 0);
    servers.push(server);
    const [t, client] = await createConnection(() => new RecordingProtocol(), HOST, portOf(server));
    t.close();
    expect(t.isClosing()).toBe(true);
    expect(() => t.write('late')).toThrow(expect.objectContaining({ code: 'ERR_WRITE_AFTER_CLOSE' }));
    expect(await client.lost.promise).toBeNull();
  });

  it('writeEof() half-closes: the peer sees EOF and can still answer', async () => {
    const server = await createServer(
      (): Protocol => {
        let t!: Transport;
        return {
          connectionMade: (tr) => {
            t = tr;
          },
          eofReceived: () => {
            t.write('bye');
            return false;
          },
        };
      },
      HOST,
      0,
    );
    servers.push(server);
    const [t, client] = await createConnection(() => new RecordingProtocol(), HOST, portOf(server));
    t.writeEof();
    await client.lost.promise;
    expect(client.received.toString()).toBe('bye');
    expect(client.events).toEqual(['made', 'data', 'eof', 'lost']);
  });
});

describe('close() and abort() stop delivery', () => {
  it('delivers no data after close(), even while the socket drains (an echo never writes after close)', async () => {
    const counts: number[] = [];
    const lost = deferred<Error | null>();
    const server = await createServer(
      (): Protocol => {
        let t!: Transport;
        let n = 0;
        return {
          connectionMade: (tr) => {
            t = tr;
          },
          dataReceived: (d) => {
            n++;
            t.write(d); // would throw ERR_WRITE_AFTER_CLOSE if called after close()
            t.close();
          },
          connectionLost: (e) => {
            counts.push(n);
            lost.resolve(e);
          },
        };
      },
      HOST,
      0,
      { onError: () => {} },
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write(Buffer.alloc(4 * 1024 * 1024, 1));
    expect(await lost.promise).toBeNull();
    expect(counts).toEqual([1]);
    await reader.read().catch(() => undefined);
  });

  it('stops filling a BufferedProtocol as soon as it calls close(), even mid-chunk', async () => {
    const lost = deferred<Error | null>();
    let updates = 0;
    const server = await createServer(
      (): BufferedProtocol => {
        let t!: Transport;
        const buf = new Uint8Array(4); // many bufferUpdated() calls per chunk
        return {
          connectionMade: (tr) => {
            t = tr;
          },
          getBuffer: () => buf,
          bufferUpdated: () => {
            updates++;
            t.close();
          },
          connectionLost: (e) => lost.resolve(e),
        };
      },
      HOST,
      0,
      { onError: () => {} },
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('x'.repeat(1000));
    expect(await lost.promise).toBeNull();
    expect(updates).toBe(1);
    await reader.read().catch(() => undefined);
  });

  it('does the same over connectProtocol', async () => {
    const { createStreamPair } = await import('@asyncnet/streams');
    const { connectProtocol } = await import('./adapters.js');
    const [[, writer], [r2, w2]] = createStreamPair({ chunking: 'random', maxChunk: 10 });
    let n = 0;
    const lost = deferred<Error | null>();
    const t = connectProtocol(r2, w2, {
      dataReceived: (d) => {
        n++;
        t.write(d);
        t.close();
      },
      connectionLost: (e) => lost.resolve(e),
    });
    writer.write(Buffer.alloc(1000, 1));
    await until(() => n > 0);
    writer.close();
    expect(await lost.promise).toBeNull();
    expect(n).toBe(1);
  });
});

describe('DatagramTransport', () => {
  it('close() still sends the datagrams already passed to sendto()', async () => {
    const [server] = await createDatagramEndpoint(() => ({}), { localAddr: ['127.0.0.1', 0] });
    const { port } = server.getExtraInfo('sockname') as AddressInfo;
    const got: string[] = [];
    const [receiver] = await createDatagramEndpoint(
      () => ({ datagramReceived: (d: Uint8Array) => got.push(Buffer.from(d).toString()) }),
      { localAddr: ['127.0.0.1', 0] },
    );
    const rport = (receiver.getExtraInfo('sockname') as AddressInfo).port;
    for (let i = 0; i < 20; i++) server.sendto(`d${i}`, ['127.0.0.1', rport]);
    expect(server.getWriteBufferSize()).toBeGreaterThan(0);
    server.close();
    await server.closed;
    await until(() => got.length === 20);
    expect(got.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `d${i}`).sort());
    expect(port).toBeGreaterThan(0);
    receiver.close();
    await receiver.closed;
  });
});

describe('createConnection options', () => {
  it('honours an already-aborted signal', async () => {
    const server = await createServer(() => ({}), HOST, 0);
    servers.push(server);
    await expect(
      createConnection(() => ({}), HOST, portOf(server), { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const [, w] = await openConnection(HOST, portOf(server));
    w.close();
  });
});
