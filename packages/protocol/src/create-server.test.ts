import { randomBytes } from 'node:crypto';
import { openConnection } from '@asyncnet/streams';
import { describe, expect, it } from 'vitest';
import {
  deferred,
  EchoProtocol,
  HOST,
  makeCert,
  portOf,
  RecordingProtocol,
  tmpSocketPath,
  until,
  useLoopback,
} from './__fixtures__/helpers.js';
import { createConnection } from './create-connection.js';
import { createServer } from './create-server.js';
import type { BufferedProtocol, Protocol, Transport } from './protocol.js';

const { servers, transports, serve, connect } = useLoopback();

describe('createServer / createConnection', () => {
  it('runs the seed EchoProtocol: 1 MiB echoed intact, callbacks in order on both sides', async () => {
    const serverSide: RecordingProtocol[] = [];
    const server = await serve(() => {
      const p = new RecordingProtocol();
      serverSide.push(p);
      return Object.assign(p, {
        dataReceived(this: RecordingProtocol, data: Uint8Array) {
          RecordingProtocol.prototype.dataReceived.call(this, data);
          this.transport.write(data);
        },
      });
    });
    const [transport, client] = await connect(() => new RecordingProtocol(), portOf(server));
    expect(client.events).toEqual(['made']);
    const payload = randomBytes(1 << 20);
    transport.write(payload);
    await until(() => client.received.length >= payload.length);
    expect(client.received.equals(payload)).toBe(true);
    transport.close();
    expect(await client.lost.promise).toBeNull();
    expect(await serverSide[0]!.lost.promise).toBeNull();
    // A 1 MiB write crosses the high-water mark; flow-control callbacks are tested elsewhere.
    const lifecycle = (events: string[]) => events.filter((e) => !e.endsWith('Writing'));
    expect(client.events.slice(0, 2)).toEqual(['made', 'pauseWriting']);
    expect(lifecycle(client.events)).toEqual(['made', 'data', 'lost']);
    expect(lifecycle(serverSide[0]!.events)).toEqual(['made', 'data', 'eof', 'lost']);
    expect(serverSide[0]!.lostCount).toBe(1);
    expect(client.lostCount).toBe(1);
    await transport.closed;
  });

  it('interoperates with the streams API (openConnection client)', async () => {
    const server = await serve(() => new EchoProtocol());
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('ping\n');
    expect(Buffer.from(await reader.readLine()).toString()).toBe('ping\n');
    writer.close();
    await writer.waitClosed();
  });

  it('calls connectionLost(null) once when the protocol aborts, and once when the server shuts down', async () => {
    const aborted = new RecordingProtocol();
    const server = await serve(() =>
      Object.assign(new RecordingProtocol(), {
        dataReceived(this: RecordingProtocol) {
          this.transport.abort();
        },
      }),
    );
    const [t1] = await connect(() => aborted, portOf(server));
    t1.write('x');
    await aborted.lost.promise;
    expect(aborted.lostCount).toBe(1);

    const serverSide: RecordingProtocol[] = [];
    const server2 = await serve(() => {
      const p = new RecordingProtocol();
      serverSide.push(p);
      return p;
    });
    const [, c2] = await connect(() => new RecordingProtocol(), portOf(server2));
    await until(() => server2.connections === 1 && serverSide.length === 1);
    server2.close();
    server2.abortClients();
    await server2.waitClosed();
    expect(await serverSide[0]!.lost.promise).toBeNull();
    await c2.lost.promise;
    expect(serverSide[0]!.lostCount).toBe(1);
    expect(serverSide[0]!.events.at(-1)).toBe('lost');
  });

  it('passes a peer reset to connectionLost as the socket error', async () => {
    const serverSide = deferred<RecordingProtocol>();
    const server = await serve(() => {
      const p = new RecordingProtocol();
      serverSide.resolve(p);
      return p;
    });
    const [transport] = await connect(() => new RecordingProtocol(), portOf(server));
    const p = await serverSide.promise;
    await p.made.promise;
    (transport.getExtraInfo('socket') as import('node:net').Socket).resetAndDestroy();
    const err = await p.lost.promise;
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    expect(p.lostCount).toBe(1);
  });

  it('survives a throwing dataReceived: that connection is aborted, connectionLost and onError get the error', async () => {
    const errors: unknown[] = [];
    const boom = new Error('boom');
    const serverSide: RecordingProtocol[] = [];
    const server = await serve(
      () => {
        const p = new RecordingProtocol();
        serverSide.push(p);
        return Object.assign(p, {
          dataReceived(this: RecordingProtocol, data: Uint8Array) {
            if (Buffer.from(data).includes('boom')) throw boom;
            this.transport.write(data);
          },
        });
      },
      { onError: (err: unknown) => errors.push(err) },
    );
    const [t1, c1] = await connect(() => new RecordingProtocol(), portOf(server));
    t1.write('boom');
    expect(await serverSide[0]!.lost.promise).toBe(boom);
    await c1.lost.promise;
    expect(errors).toEqual([boom]);
    expect(serverSide[0]!.lostCount).toBe(1);
    // The server still serves.
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('still here');
    expect(Buffer.from(await reader.readExactly(10)).toString()).toBe('still here');
    writer.close();
  });

  it('survives a throwing protocol factory and throwing connectionMade', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const server = await serve(
      () => {
        n++;
        if (n === 1) throw new Error('factory failed');
        if (n === 2)
          return {
            connectionMade: () => {
              throw new Error('made failed');
            },
          };
        return new EchoProtocol();
      },
      { onError: (err: unknown) => errors.push(err) },
    );
    for (let i = 0; i < 2; i++) {
      const [reader, writer] = await openConnection(HOST, portOf(server));
      expect((await reader.read()).length).toBe(0);
      writer.close();
    }
    expect(errors.map((e) => (e as Error).message)).toEqual(['factory failed', 'made failed']);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('ok');
    expect(Buffer.from(await reader.readExactly(2)).toString()).toBe('ok');
    writer.close();
  });

  it('lets eofReceived return true to answer after the peer half-closes', async () => {
    const server = await serve(() => {
      let got = '';
      let transport!: Transport;
      return {
        connectionMade: (t: Transport) => {
          transport = t;
        },
        dataReceived: (d: Uint8Array) => {
          got += Buffer.from(d).toString();
        },
        eofReceived: () => {
          transport.write(`you said ${got.length} bytes: ${got}`);
          transport.close();
          return true;
        },
      };
    });
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('hello');
    writer.writeEof();
    expect(Buffer.from(await reader.read()).toString()).toBe('you said 5 bytes: hello');
    await writer.waitClosed();
  });

  it('closes the transport after EOF when eofReceived does not return true', async () => {
    const p = new RecordingProtocol();
    const server = await serve(() => p);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.writeEof();
    expect((await reader.read()).length).toBe(0);
    expect(await p.lost.promise).toBeNull();
    expect(p.events).toEqual(['made', 'eof', 'lost']);
  });

  it('delivers into a BufferedProtocol through getBuffer/bufferUpdated', async () => {
    const got: Buffer[] = [];
    const done = deferred();
    const server = await serve((): BufferedProtocol => {
      const buf = new Uint8Array(1000);
      return {
        getBuffer: (hint: number) => {
          expect(hint).toBeGreaterThan(0);
          return buf;
        },
        bufferUpdated: (n: number) => {
          got.push(Buffer.from(buf.subarray(0, n)));
        },
        connectionLost: () => done.resolve(),
      };
    });
    const payload = randomBytes(300_000);
    const [, writer] = await openConnection(HOST, portOf(server));
    writer.write(payload);
    writer.close();
    await done.promise;
    expect(Buffer.concat(got).equals(payload)).toBe(true);
    expect(Math.max(...got.map((b) => b.length))).toBeLessThanOrEqual(1000);
  });

  it('switches protocols with setProtocol()', async () => {
    const second = new RecordingProtocol();
    class First implements Protocol {
      t!: Transport;
      connectionMade(t: Transport) {
        this.t = t;
      }
      dataReceived(d: Uint8Array) {
        this.t.write(`first:${Buffer.from(d).toString()}`);
        this.t.setProtocol(second);
        expect(this.t.getProtocol()).toBe(second);
      }
    }
    const server = await serve(() => new First());
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('a');
    expect(Buffer.from(await reader.readExactly(7)).toString()).toBe('first:a');
    writer.write('b');
    await until(() => second.received.toString() === 'b');
    writer.close();
    await second.lost.promise;
  });

  it('works over a Unix domain socket (options.path)', async () => {
    const path = tmpSocketPath();
    const server = await createServer(() => new EchoProtocol(), { path });
    servers.push(server);
    const [transport, client] = await createConnection(() => new RecordingProtocol(), { path });
    transports.push(transport);
    transport.write('unix');
    await until(() => client.received.toString() === 'unix');
    expect(server.address()).toBe(path);
    // The long form works too.
    const [t2, c2] = await createConnection(() => new RecordingProtocol(), undefined, undefined, { path });
    transports.push(t2);
    t2.write('again');
    await until(() => c2.received.toString() === 'again');
    await expect(createServer(() => new EchoProtocol(), undefined, undefined)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('works over TLS (options.tls), with TLS details in getExtraInfo', async () => {
    const { key, cert } = makeCert();
    const server = await serve(() => new EchoProtocol(), { tls: { key, cert } });
    const [transport, client] = await connect(() => new RecordingProtocol(), portOf(server), {
      tls: { ca: cert },
    });
    expect(transport.canWriteEof()).toBe(false);
    expect(transport.getExtraInfo('cipher')).toBeTruthy();
    transport.write('secret');
    await until(() => client.received.toString() === 'secret');
    transport.close();
    expect(await client.lost.promise).toBeNull();
  });

  it('upgrades a plain connection in place with transport.startTls() (STARTTLS)', async () => {
    const { key, cert } = makeCert();
    const server = await serve((): Protocol => {
      let t!: Transport;
      let upgraded = false;
      return {
        connectionMade: (tr) => {
          t = tr;
        },
        dataReceived: (d) => {
          if (!upgraded) {
            expect(Buffer.from(d).toString()).toBe('STARTTLS\n');
            upgraded = true;
            t.write('OK\n');
            void t.startTls({ key, cert });
            return;
          }
          t.write(`tls echo: ${Buffer.from(d).toString()}`);
        },
      };
    });
    const client = new RecordingProtocol();
    const [transport] = await connect(() => client, portOf(server));
    transport.write('STARTTLS\n');
    await until(() => client.received.toString() === 'OK\n');
    await transport.startTls({ ca: cert, servername: 'localhost' });
    expect(transport.getExtraInfo('cipher')).toBeTruthy();
    transport.write('hi');
    await until(() => client.received.toString() === 'OK\ntls echo: hi');
  });

  it('rejects a connection to a closed port with ECONNREFUSED, without calling the factory', async () => {
    const server = await serve(() => new EchoProtocol());
    const port = portOf(server);
    await server[Symbol.asyncDispose]();
    let called = false;
    await expect(
      createConnection(
        () => {
          called = true;
          return new RecordingProtocol();
        },
        HOST,
        port,
      ),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(called).toBe(false);
  });
});
