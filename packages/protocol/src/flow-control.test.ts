import { createHash, randomBytes } from 'node:crypto';
import { openConnection } from '@asyncnet/streams';
import { describe, expect, it } from 'vitest';
import { deferred, HOST, portOf, RecordingProtocol, until, useLoopback } from './__fixtures__/helpers.js';
import { createConnection } from './create-connection.js';
import { createServer } from './create-server.js';
import type { BufferedProtocol, Protocol, Transport } from './protocol.js';

const { servers, transports } = useLoopback();

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('flow control', () => {
  it('calls pauseWriting above high and resumeWriting at low, only after the peer reads again', async () => {
    const total = 32 * 1024 * 1024;
    const payload = randomBytes(total);
    const events: string[] = [];
    const sender = deferred<Transport>();
    const server = await createServer(
      () => ({
        connectionMade: (t: Transport) => {
          t.setWriteBufferLimits({ high: 64 * 1024, low: 8 * 1024 });
          sender.resolve(t);
        },
        pauseWriting: () => events.push('pause'),
        resumeWriting: () => events.push('resume'),
      }),
      HOST,
      0,
    );
    servers.push(server);
    const client = new RecordingProtocol();
    const [ct] = await createConnection(() => client, HOST, portOf(server));
    transports.push(ct);
    ct.pauseReading();
    expect(ct.isReading()).toBe(false);
    const t = await sender.promise;
    expect(t.getWriteBufferLimits()).toEqual({ high: 64 * 1024, low: 8 * 1024 });
    // Write everything in 64 KiB pieces; the paused client lets the buffer grow past `high`.
    for (let off = 0; off < total; off += 65536) t.write(payload.subarray(off, off + 65536));
    expect(events).toEqual(['pause']);
    await new Promise((r) => setTimeout(r, 50));
    // Far more than the kernel buffers: it cannot drain while the client is paused.
    expect(t.getWriteBufferSize()).toBeGreaterThan(1024 * 1024);
    expect(events).toEqual(['pause']);
    events.push('client resumes');
    ct.resumeReading();
    await until(() => events.includes('resume'));
    expect(events).toEqual(['pause', 'client resumes', 'resume']);
    expect(t.getWriteBufferSize()).toBeLessThanOrEqual(8 * 1024);
    await until(() => client.chunks.reduce((n, c) => n + c.length, 0) >= total);
    expect(sha(client.received)).toBe(sha(payload));
  });

  it('calls pauseWriting for writes made inside connectionMade (an asyncio producer writes until paused)', async () => {
    const events: string[] = [];
    let written = 0;
    const done = deferred();
    const server = await createServer(
      () => {
        let paused = false;
        let transport: Transport;
        return {
          connectionMade: (t: Transport) => {
            transport = t;
            // Bounded so that a missing pauseWriting fails the test instead of hanging it.
            while (!paused && written < 256) {
              t.write(Buffer.alloc(16384, 1));
              written++;
            }
            events.push(`made ${paused ? 'paused' : 'not paused'}`);
          },
          pauseWriting: () => {
            paused = true;
            events.push('pause');
          },
          resumeWriting: () => {
            events.push('resume');
            transport.close();
          },
          connectionLost: () => done.resolve(),
        };
      },
      HOST,
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    const all = await reader.read(-1);
    writer.close();
    await done.promise;
    expect(events).toEqual(['pause', 'made paused', 'resume']);
    // 64 KiB high-water mark: the fifth 16 KiB write crosses it.
    expect(written).toBe(5);
    expect(all.byteLength).toBe(written * 16384);
  });

  it('stops dataReceived while reading is paused and loses nothing', async () => {
    const received: Buffer[] = [];
    const serverT = deferred<Transport>();
    let whilePaused = 0;
    let paused = false;
    const server = await createServer(
      (): Protocol => ({
        connectionMade: (t) => serverT.resolve(t),
        dataReceived: (d) => {
          if (paused) whilePaused++;
          received.push(Buffer.from(d));
        },
      }),
      HOST,
      0,
    );
    servers.push(server);
    const [, writer] = await openConnection(HOST, portOf(server));
    const st = await serverT.promise;
    writer.write('first');
    await until(() => received.length > 0);
    st.pauseReading();
    paused = true;
    expect(st.isReading()).toBe(false);
    const payload = randomBytes(4 * 1024 * 1024);
    writer.write(payload);
    await new Promise((r) => setTimeout(r, 100));
    expect(whilePaused).toBe(0);
    paused = false;
    st.resumeReading();
    writer.close();
    await until(() => received.reduce((n, c) => n + c.length, 0) >= payload.length + 5);
    expect(sha(Buffer.concat(received))).toBe(sha(Buffer.concat([Buffer.from('first'), payload])));
  });

  it('holds data and EOF that arrive during a pause, delivering them in order after resume', async () => {
    const events: string[] = [];
    const serverT = deferred<Transport>();
    const lost = deferred<Error | null>();
    const server = await createServer(
      (): Protocol => ({
        connectionMade: (t) => {
          t.pauseReading();
          serverT.resolve(t);
        },
        dataReceived: (d) => {
          events.push(Buffer.from(d).toString());
        },
        eofReceived: () => {
          events.push('eof');
          return true;
        },
        connectionLost: (e) => lost.resolve(e),
      }),
      HOST,
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    const st = await serverT.promise;
    writer.write('abc');
    writer.writeEof();
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([]);
    st.resumeReading();
    expect(events).toEqual([]); // never synchronously from inside resumeReading()
    await until(() => events.includes('eof'));
    expect(events.join('')).toBe('abceof');
    // eofReceived returned true: the server can still write.
    st.write('bye');
    st.close();
    expect(Buffer.from(await reader.read()).toString()).toBe('bye');
    expect(await lost.promise).toBeNull();
  });

  it('holds the rest of a chunk when a BufferedProtocol pauses mid-chunk, then EOF after it', async () => {
    const got: string[] = [];
    const events: string[] = [];
    const serverT = deferred<Transport>();
    const lost = deferred<Error | null>();
    const server = await createServer(
      (): BufferedProtocol => {
        const buf = new Uint8Array(10);
        let t!: Transport;
        return {
          connectionMade: (tr) => {
            t = tr;
            serverT.resolve(tr);
          },
          getBuffer: () => buf,
          bufferUpdated: (n) => {
            got.push(Buffer.from(buf.subarray(0, n)).toString());
            if (got.length === 1) t.pauseReading();
          },
          eofReceived: () => {
            events.push(`eof after ${got.join('').length}`);
          },
          connectionLost: (e) => lost.resolve(e),
        };
      },
      HOST,
      0,
    );
    servers.push(server);
    const [, writer] = await openConnection(HOST, portOf(server));
    const payload = 'abcdefghij'.repeat(10);
    writer.write(payload);
    writer.writeEof();
    const st = await serverT.promise;
    await until(() => got.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['abcdefghij']);
    expect(events).toEqual([]);
    st.resumeReading();
    await lost.promise;
    expect(got.join('')).toBe(payload);
    expect(events).toEqual(['eof after 100']);
  });
});
