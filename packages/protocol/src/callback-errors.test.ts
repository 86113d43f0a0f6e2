import { openConnection } from '@asyncnet/streams';
import { describe, expect, it } from 'vitest';
import { deferred, HOST, portOf, RecordingProtocol, until, useLoopback } from './__fixtures__/helpers.js';
import type { Protocol, Transport } from './protocol.js';

const { serve, connect } = useLoopback();

describe('callback failures', () => {
  it('survives an onError that throws while reporting a throwing factory', async () => {
    let calls = 0;
    const server = await serve(
      () => {
        calls++;
        if (calls === 1) throw new Error('factory failed');
        return { connectionMade: (t: Transport) => t.write('ok') };
      },
      {
        onError: (e: unknown) => {
          throw new Error(`onError failed on ${(e as Error).message}`);
        },
      },
    );
    const [r1, w1] = await openConnection(HOST, portOf(server));
    await r1.read(-1).catch(() => undefined);
    w1.close();
    const [r2, w2] = await openConnection(HOST, portOf(server));
    expect(Buffer.from(await r2.readExactly(2)).toString()).toBe('ok');
    expect(server.isServing()).toBe(true);
    w2.close();
  });

  it('reports a throwing connectionLost to onError without crashing', async () => {
    const errors: unknown[] = [];
    const server = await serve(
      () => ({
        connectionLost: () => {
          throw new Error('lost failed');
        },
      }),
      { onError: (e: unknown) => errors.push(e) },
    );
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.close();
    await reader.read();
    await until(() => errors.length === 1);
    expect((errors[0] as Error).message).toBe('lost failed');
  });

  it('passes a throwing eofReceived or pauseWriting to connectionLost', async () => {
    const lost: Array<Error | null> = [];
    const server = await serve(
      (): Protocol => {
        let t!: Transport;
        return {
          connectionMade: (tr) => {
            t = tr;
          },
          dataReceived: () => {
            t.write(Buffer.alloc(200_000));
          },
          pauseWriting: () => {
            throw new Error('pause failed');
          },
          eofReceived: () => {
            throw new Error('eof failed');
          },
          connectionLost: (e) => {
            lost.push(e);
          },
        };
      },
      { onError: () => {} },
    );
    const [, w1] = await openConnection(HOST, portOf(server));
    w1.writeEof();
    const [, w2] = await openConnection(HOST, portOf(server));
    w2.write('go');
    await until(() => lost.length === 2);
    expect(lost.map((e) => e?.message).sort()).toEqual(['eof failed', 'pause failed']);
    w1.close();
    w2.close();
  });

  it('turns a non-Error throw into an Error with the value as cause', async () => {
    const lost = deferred<Error | null>();
    const server = await serve(
      (): Protocol => ({
        dataReceived: () => {
          throw 'a string';
        },
        connectionLost: (e) => lost.resolve(e),
      }),
      { onError: () => {} },
    );
    const [, writer] = await openConnection(HOST, portOf(server));
    writer.write('x');
    const err = await lost.promise;
    expect(err).toBeInstanceOf(Error);
    expect(err?.cause).toBe('a string');
    writer.close();
  });

  it('closes gracefully with closeClients(): connectionLost(null) on both sides', async () => {
    const serverSide = deferred<RecordingProtocol>();
    const server = await serve(() => {
      const p = new RecordingProtocol();
      serverSide.resolve(p);
      return p;
    });
    const [, client] = await connect(() => new RecordingProtocol(), portOf(server));
    const p = await serverSide.promise;
    await p.made.promise;
    server.close();
    server.closeClients();
    await server.waitClosed();
    expect(await p.lost.promise).toBeNull();
    expect(await client.lost.promise).toBeNull();
    expect(client.events).toEqual(['made', 'eof', 'lost']);
  });
});
