import { randomBytes } from 'node:crypto';
import {
  createStreamPair,
  openConnection,
  type Server,
  type StreamReader,
  startServer,
} from '@asyncnet/streams';
import { createTransportPair, streamsFromTransport } from '@asyncnet/streams/adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, EchoProtocol, portOf, RecordingProtocol, until } from './__fixtures__/helpers.js';
import { attachProtocol, connectProtocol, detachStreams } from './adapters.js';
import { createConnection } from './create-connection.js';
import { createServer } from './create-server.js';
import type { BufferedProtocol, Protocol, Transport } from './protocol.js';

const HOST = '127.0.0.1';
const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s[Symbol.asyncDispose]();
});

async function readAll(reader: StreamReader, n: number): Promise<Buffer> {
  return Buffer.from(await reader.readExactly(n));
}

describe('connectProtocol (a Protocol over a reader/writer pair)', () => {
  it('runs EchoProtocol over an in-memory pair with random chunking', async () => {
    const [[reader, writer], serverEnd] = createStreamPair({ chunking: 'random', seed: 7 });
    const echo = new RecordingProtocol();
    Object.assign(echo, {
      dataReceived(this: RecordingProtocol, d: Uint8Array) {
        RecordingProtocol.prototype.dataReceived.call(this, d);
        this.transport.write(d);
      },
    });
    const t = connectProtocol(serverEnd[0], serverEnd[1], echo);
    expect(echo.events).toEqual(['made']);
    const payload = randomBytes(5000);
    writer.write(payload);
    expect((await readAll(reader, payload.length)).equals(payload)).toBe(true);
    writer.close();
    expect(await echo.lost.promise).toBeNull();
    expect(echo.events).toEqual(['made', 'data', 'eof', 'lost']);
    await t.closed;
  });

  it('takes over a startServer connection after a streams-style greeting, and keeps buffered bytes', async () => {
    const server = await startServer(
      async (reader, writer) => {
        const hello = Buffer.from(await reader.readLine()).toString();
        writer.write(`welcome ${hello}`);
        await connectProtocol(reader, writer, new EchoProtocol()).closed;
      },
      HOST,
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('bob\nechoed right away');
    expect((await readAll(reader, 12)).toString()).toBe('welcome bob\n');
    expect((await readAll(reader, 17)).toString()).toBe('echoed right away');
    writer.close();
    await writer.waitClosed();
  });

  it('lets eofReceived return true to answer after a real half-close', async () => {
    const server = await startServer(
      async (reader, writer) => {
        let n = 0;
        let t!: Transport;
        // The handler awaits the protocol: a startServer handler that has returned gets its
        // connection closed at EOF by the core.
        const transport = connectProtocol(reader, writer, {
          connectionMade: (tr) => {
            t = tr;
          },
          dataReceived: (d) => {
            n += d.byteLength;
          },
          eofReceived: () => {
            t.write(`got ${n}`);
            t.close();
            return true;
          },
        });
        await transport.closed;
      },
      HOST,
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write(randomBytes(100_000));
    writer.writeEof();
    expect(Buffer.from(await reader.read()).toString()).toBe('got 100000');
  });

  it('reports a throwing dataReceived to onError and connectionLost, once', async () => {
    const [[, writer], [r2, w2]] = createStreamPair();
    const boom = new Error('boom');
    const errors: unknown[] = [];
    const p = new RecordingProtocol();
    p.dataReceived = () => {
      throw boom;
    };
    connectProtocol(r2, w2, p, { onError: (e) => errors.push(e) });
    writer.write('x');
    expect(await p.lost.promise).toBe(boom);
    expect(errors).toEqual([boom]);
    expect(p.lostCount).toBe(1);
  });

  it('passes a peer reset to connectionLost', async () => {
    const lost = deferred<Error | null>();
    const ready = deferred();
    const server = await startServer(
      (reader, writer) => {
        connectProtocol(reader, writer, { connectionLost: (e) => lost.resolve(e) });
        ready.resolve();
      },
      HOST,
      0,
    );
    servers.push(server);
    const [, writer] = await openConnection(HOST, portOf(server));
    await ready.promise;
    (writer.getExtraInfo('socket') as import('node:net').Socket).resetAndDestroy();
    expect(await lost.promise).toMatchObject({ code: 'ECONNRESET' });
  });

  it('drives pauseWriting/resumeWriting from the writer and pauseReading holds data back', async () => {
    const [[reader, writer], [r2, w2]] = createStreamPair({ highWaterMark: 1024, lowWaterMark: 256 });
    const p = new RecordingProtocol();
    const t = connectProtocol(r2, w2, p);
    t.write(Buffer.alloc(4096, 1));
    expect(p.events).toEqual(['made', 'pauseWriting']);
    await readAll(reader, 4096);
    await until(() => p.events.includes('resumeWriting'));

    t.pauseReading();
    expect(t.isReading()).toBe(false);
    writer.write('held');
    await new Promise((r) => setTimeout(r, 30));
    expect(p.received.length).toBe(0);
    t.resumeReading();
    await until(() => p.received.toString() === 'held');
    t.close();
    expect((await reader.read()).length).toBe(0);
    writer.close(); // an in-memory pair closes once both ends have
    expect(await p.lost.promise).toBeNull();
  });

  it('delivers nothing while paused, even when pauseReading() comes from a microtask', async () => {
    const [[, w1], [r2, w2]] = createStreamPair();
    const payload = randomBytes(200_000);
    w1.write(payload);
    w1.writeEof();
    await until(() => r2.bufferedSize > 65536);
    const events: string[] = [];
    const chunks: Buffer[] = [];
    const lost = deferred<Error | null>();
    const t = connectProtocol(r2, w2, {
      dataReceived: (d) => {
        events.push(t.isReading() ? 'data' : 'data while paused');
        chunks.push(Buffer.from(d));
        // Backpressure decided one microtask later (say, after a queue's promise settles).
        if (chunks.length === 1) queueMicrotask(() => t.pauseReading());
      },
      eofReceived: () => {
        events.push(t.isReading() ? 'eof' : 'eof while paused');
        return undefined;
      },
      connectionLost: (e) => lost.resolve(e),
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(events).toEqual(['data']);
    t.resumeReading();
    expect(await lost.promise).toBeNull();
    expect(events.filter((e) => e.includes('paused'))).toEqual([]);
    expect(events.at(-1)).toBe('eof');
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });

  it('loses and reorders nothing when detached after such a pause', async () => {
    const [[, w1], [r2, w2]] = createStreamPair();
    const payload = randomBytes(200_000);
    w1.write(payload);
    w1.writeEof();
    await until(() => r2.bufferedSize > 65536);
    const chunks: Buffer[] = [];
    const t = connectProtocol(r2, w2, {
      dataReceived: (d) => {
        chunks.push(Buffer.from(d));
        if (chunks.length === 1) queueMicrotask(() => t.pauseReading());
      },
    });
    await new Promise((r) => setTimeout(r, 30));
    const [reader] = detachStreams(t);
    await new Promise((r) => setTimeout(r, 0));
    const rest = Buffer.from(await reader.read(-1));
    expect(Buffer.concat([...chunks, rest]).equals(payload)).toBe(true);
  });

  it('fills a BufferedProtocol without ever exceeding its buffer', async () => {
    const [[, writer], [r2, w2]] = createStreamPair({ chunking: 'random', maxChunk: 300 });
    const got: Buffer[] = [];
    const done = deferred();
    const buf = new Uint8Array(100);
    const p: BufferedProtocol = {
      getBuffer: () => buf,
      bufferUpdated: (n) => {
        got.push(Buffer.from(buf.subarray(0, n)));
      },
      connectionLost: () => done.resolve(),
    };
    connectProtocol(r2, w2, p);
    const payload = randomBytes(10_000);
    writer.write(payload);
    writer.close();
    await done.promise;
    expect(Buffer.concat(got).equals(payload)).toBe(true);
  });
});

describe('attachProtocol (a Protocol on a core transport)', () => {
  it('runs a protocol on one end of a transport pair', async () => {
    const [a, b] = createTransportPair({ chunking: 'random' });
    attachProtocol(a, new EchoProtocol());
    const [reader, writer] = streamsFromTransport(b);
    writer.write('round trip');
    expect((await readAll(reader, 10)).toString()).toBe('round trip');
  });
});

describe('attachProtocol on a transport that is already gone', () => {
  it('still calls connectionMade first, then connectionLost once with the error', () => {
    const [a, b] = createTransportPair();
    b.reset();
    const p = new RecordingProtocol();
    attachProtocol(a, p, { onError: () => {} });
    expect(p.events[0]).toBe('made');
    expect(p.lostCount).toBe(1);
    expect(p.events.at(-1)).toMatch(/^lost/);
  });

  it('never calls eofReceived after connectionLost for an EOF held during pauseReading', async () => {
    const [a, b] = createTransportPair();
    b.write('hi');
    b.writeEof();
    const p = new (class extends RecordingProtocol {
      override connectionMade(t: Transport): void {
        super.connectionMade(t);
        t.pauseReading(); // the data and EOF that already arrived are held
      }
    })();
    const t = attachProtocol(a, p, { onError: () => {} });
    a.reset(); // the connection fails while the protocol holds an EOF
    expect(p.events).toEqual(['made', 'lost']);
    t.resumeReading();
    await new Promise((r) => setTimeout(r, 20));
    expect(p.events).toEqual(['made', 'lost']);
  });
});

describe('detachStreams (a reader/writer pair from a protocol connection)', () => {
  it('switches a createServer connection to streams after an upgrade line, losing nothing', async () => {
    const server = await createServer(
      (): Protocol => {
        let t!: Transport;
        return {
          connectionMade: (tr) => {
            t = tr;
          },
          dataReceived: (d) => {
            expect(Buffer.from(d).toString().startsWith('UPGRADE\n')).toBe(true);
            t.pauseReading();
            const [reader, writer] = detachStreams(t);
            // The rest of this chunk is the streams side's to read: hand it back first.
            const rest = Buffer.from(d).subarray('UPGRADE\n'.length);
            void (async () => {
              let text = rest.toString();
              while (!text.includes('END')) text += Buffer.from(await reader.read(100)).toString();
              writer.write(`streams saw: ${text}`);
              writer.close();
            })();
          },
        };
      },
      HOST,
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('UPGRADE\n');
    writer.write('a');
    await new Promise((r) => setTimeout(r, 20));
    writer.write('b END');
    expect(Buffer.from(await reader.read()).toString()).toBe('streams saw: ab END');
  });

  it('gives the reader the rest of a chunk when a BufferedProtocol detaches mid-chunk', async () => {
    const detached = deferred<StreamReader>();
    let updates = 0;
    const server = await createServer(
      (): BufferedProtocol => {
        let t!: Transport;
        const buf = new Uint8Array(4); // the chunk takes many bufferUpdated() calls
        return {
          connectionMade: (tr) => {
            t = tr;
          },
          getBuffer: () => buf,
          bufferUpdated: () => {
            updates++;
            if (updates === 1) detached.resolve(detachStreams(t)[0]);
          },
        };
      },
      HOST,
      0,
      { onError: (e) => console.error(e) },
    );
    servers.push(server);
    const [, writer] = await openConnection(HOST, portOf(server));
    const payload = randomBytes(1000);
    writer.write(payload);
    writer.writeEof();
    const reader = await detached.promise;
    const rest = Buffer.from(await reader.read(-1));
    expect(updates).toBe(1);
    expect(rest.equals(payload.subarray(4))).toBe(true);
    writer.close();
  });

  it('gives the reader the bytes held during pauseReading', async () => {
    const held = deferred<Transport>();
    const server = await createServer(
      (): Protocol => ({
        connectionMade: (t) => {
          t.pauseReading();
          held.resolve(t);
        },
        dataReceived: () => {
          throw new Error('the protocol must not see data after detaching');
        },
      }),
      HOST,
      0,
      { onError: (e) => console.error(e) },
    );
    servers.push(server);
    const [, writer] = await openConnection(HOST, portOf(server));
    const t = await held.promise;
    writer.write('line one\nline two\n');
    writer.writeEof();
    await new Promise((r) => setTimeout(r, 30));
    const [reader, w2] = detachStreams(t);
    const lines: string[] = [];
    for await (const line of reader) lines.push(Buffer.from(line).toString());
    expect(lines).toEqual(['line one\n', 'line two\n']);
    w2.close();
  });

  it('returns the original pair from a connectProtocol transport, cancelling its pending read', async () => {
    const [[, writer], [r2, w2]] = createStreamPair();
    const p = new RecordingProtocol();
    const t = connectProtocol(r2, w2, p);
    await new Promise((r) => setTimeout(r, 5));
    const [reader, w] = detachStreams(t);
    expect(reader).toBe(r2);
    expect(w).toBe(w2);
    // The cancelled read settles after the current microtasks; then the reader is free.
    await new Promise((r) => setImmediate(r));
    writer.write('for the reader\n');
    expect(Buffer.from(await reader.readLine()).toString()).toBe('for the reader\n');
    expect(p.received.length).toBe(0);
  });

  it('refuses a transport it did not make', () => {
    expect(() => detachStreams({} as Transport)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('createConnection interop', () => {
  it('a protocol client talks to a streams server', async () => {
    const server = await startServer(
      async (reader, writer) => {
        writer.write(await reader.readLine());
        writer.close();
      },
      HOST,
      0,
    );
    servers.push(server);
    const [t, p] = await createConnection(() => new RecordingProtocol(), HOST, portOf(server));
    t.write('hi\n');
    expect(await p.lost.promise).toBeNull();
    expect(p.received.toString()).toBe('hi\n');
  });
});
