import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { portOf, sleep, useServers } from './__fixtures__/servers.js';
import { fromDuplex } from './duplex-transport.js';

const { start } = useServers();
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

let cert: { key: string; cert: string };
beforeAll(() => {
  cert = makeCert();
});

async function tcpSocket(port: number): Promise<Socket> {
  const socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  cleanup.push(() => socket.destroy());
  return socket;
}

/** A Duplex whose writes complete only when the test says so, with a small writable buffer. */
function heldDuplex(writableHighWaterMark: number) {
  const held: (() => void)[] = [];
  const writevCalls: number[] = [];
  const d = new Duplex({
    writableHighWaterMark,
    read() {},
    write(_chunk: Buffer, _enc, cb) {
      writevCalls.push(1);
      held.push(() => cb());
    },
    writev(chunks, cb) {
      writevCalls.push(chunks.length);
      held.push(() => cb());
    },
  });
  const release = () => {
    for (const f of held.splice(0)) f();
  };
  return { d, release, writevCalls };
}

describe('fromDuplex', () => {
  it('pauses a flooding socket past 2 x limit and resumes it at limit', async () => {
    const limit = 16_384;
    const server = await start(
      async (_reader, writer) => {
        for (let i = 0; i < 256; i++) {
          writer.write(Buffer.alloc(65_536, i));
          await writer.drain();
        }
        writer.close();
      },
      '127.0.0.1',
      0,
      { onError: () => {} },
    );
    const socket = await tcpSocket(portOf(server));
    const [reader] = fromDuplex(socket, { limit });
    await sleep(200);
    expect(socket.isPaused()).toBe(true);
    expect(reader.bufferedSize).toBeGreaterThan(2 * limit);
    expect(reader.bufferedSize).toBeLessThanOrEqual(2 * limit + 65_536);
    while (reader.bufferedSize > limit) await reader.read(4096);
    expect(socket.isPaused()).toBe(false);
    let total = reader.bufferedSize;
    for (;;) {
      const chunk = await reader.read(65_536);
      if (chunk.byteLength === 0) break;
      total += chunk.byteLength;
    }
    expect(total).toBeGreaterThanOrEqual(255 * 65_536);
  });

  it("drain() waits while the Duplex's write() returned false, until its 'drain'", async () => {
    const { d, release } = heldDuplex(1024);
    const [, writer] = fromDuplex(d);
    writer.write(Buffer.alloc(2000));
    await sleep(0); // the write leaves on the next tick
    expect(d.writableNeedDrain).toBe(true);
    let drained = false;
    const pending = writer.drain().then(() => {
      drained = true;
    });
    await sleep(10);
    expect(drained).toBe(false);
    expect(writer.transport.getWriteBufferSize()).toBe(2000);
    release();
    await pending;
    expect(writer.transport.getWriteBufferSize()).toBe(0);
  });

  it('pauses above its own high-water mark as well, and resumes at the low mark', async () => {
    const { d, release } = heldDuplex(1 << 20);
    const [, writer] = fromDuplex(d, { highWaterMark: 8192, lowWaterMark: 1024 });
    writer.write(Buffer.alloc(9000));
    let drained = false;
    const pending = writer.drain().then(() => {
      drained = true;
    });
    await sleep(10);
    expect(d.writableNeedDrain).toBe(false);
    expect(drained).toBe(false);
    release();
    await pending;
  });

  it('coalesces the writes of one tick into one corked writev', async () => {
    const { d, release, writevCalls } = heldDuplex(1 << 20);
    const [, writer] = fromDuplex(d);
    for (let i = 0; i < 100; i++) writer.write(`line ${i}\n`);
    await sleep(0);
    expect(writevCalls).toEqual([100]);
    release();
  });

  it('copies small writes, so a buffer may be reused at once', async () => {
    const got: Buffer[] = [];
    const d = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        got.push(chunk);
        cb();
      },
    });
    const [, writer] = fromDuplex(d);
    const buf = Buffer.from('aaaa');
    writer.write(buf);
    buf.fill('b');
    await sleep(0);
    expect(Buffer.concat(got).toString()).toBe('aaaa');
  });

  it("an 'error' makes the connection lost at once: reads reject with it, drain() with ConnectionClosedError", async () => {
    const { d } = heldDuplex(16);
    const [reader, writer] = fromDuplex(d);
    writer.write(Buffer.alloc(100_000));
    const drain = writer.drain();
    const read = reader.read();
    const boom = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    d.destroy(boom);
    await expect(read).rejects.toBe(boom);
    await expect(drain).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED', cause: boom });
    expect(writer.isClosing()).toBe(true);
    expect(() => writer.write('more')).toThrow(expect.objectContaining({ code: 'ERR_CONNECTION_CLOSED' }));
    await writer.waitClosed();
  });

  it('EOF from the Duplex leaves the write side open (half-close), then close() ends and destroys it', async () => {
    const got: string[] = [];
    const d = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        got.push(chunk.toString());
        cb();
      },
    });
    const [reader, writer] = fromDuplex(d);
    d.push('request');
    d.push(null);
    expect((await reader.read()).toString()).toBe('request');
    expect(reader.atEof()).toBe(true);
    writer.write('answer after EOF');
    writer.close();
    await writer.waitClosed();
    expect(got.join('')).toBe('answer after EOF');
    expect(d.destroyed).toBe(true);
  });

  it('writeEof() ends the writable side only', async () => {
    const d = new Duplex({
      read() {},
      write(_chunk, _enc, cb) {
        cb();
      },
    });
    const [reader, writer] = fromDuplex(d);
    writer.write('x');
    writer.writeEof();
    await once(d, 'finish');
    d.push('still reading');
    expect((await reader.read(100)).toString()).toBe('still reading');
    expect(() => writer.write('y')).toThrow(expect.objectContaining({ code: 'ERR_WRITE_AFTER_CLOSE' }));
    d.push(null);
    await writer.waitClosed();
  });

  it('reports peername and sockname of a socket', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    const socket = await tcpSocket(portOf(server));
    const [, writer] = fromDuplex(socket);
    expect(writer.getExtraInfo('peername')).toMatchObject({ address: '127.0.0.1', port: portOf(server) });
    expect(writer.getExtraInfo('sockname')).toMatchObject({ address: '127.0.0.1', port: socket.localPort });
    expect(writer.getExtraInfo('socket')).toBe(socket);
    expect(writer.getExtraInfo('duplex')).toBe(socket);
    await expect(writer.startTls({})).rejects.toMatchObject({ code: 'ERR_TLS_UPGRADE' });
  });

  it('runs over the sockets of an HTTP upgrade on both sides (node:http server and client)', async () => {
    const http = createHttpServer();
    http.on('upgrade', async (_req, socket: Socket) => {
      const [reader, writer] = fromDuplex(socket);
      writer.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: lines\r\nConnection: Upgrade\r\n\r\n');
      for await (const line of reader) {
        writer.write(`> ${line}`);
        await writer.drain();
      }
      writer.close();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanup.push(() => http.close());
    const req = httpRequest({
      port: (http.address() as { port: number }).port,
      host: '127.0.0.1',
      headers: { Connection: 'Upgrade', Upgrade: 'lines' },
    });
    req.end();
    const [, socket, head] = (await once(req, 'upgrade')) as [unknown, Socket, Buffer];
    expect(head.byteLength).toBe(0);
    const [reader, writer] = fromDuplex(socket);
    writer.write('one\ntwo\n');
    expect((await reader.readLine()).toString()).toBe('> one\n');
    expect((await reader.readLine()).toString()).toBe('> two\n');
    writer.writeEof();
    expect((await reader.read()).byteLength).toBe(0);
    await writer.waitClosed();
  });

  it('runs over a tls.TLSSocket; writeEof() sends close_notify and reading goes on', async () => {
    const server = await start(
      async (reader, writer) => {
        for await (const line of reader) writer.write(`> ${line}`);
      },
      '127.0.0.1',
      0,
      { tls: cert },
    );
    const secure = tlsConnect({
      port: portOf(server),
      host: '127.0.0.1',
      ca: cert.cert,
      servername: 'localhost',
    });
    await once(secure, 'secureConnect');
    const [reader, writer] = fromDuplex(secure);
    expect(writer.canWriteEof()).toBe(true);
    expect(writer.getExtraInfo('tls')).toBe(true);
    expect(writer.getExtraInfo('cipher')).toMatchObject({ name: expect.any(String) });
    writer.write('secure line\n');
    expect((await reader.readLine()).toString()).toBe('> secure line\n');
    writer.writeEof();
    // asyncnet's TLS server closes at the client's close_notify; this side reads that EOF.
    expect((await reader.read()).byteLength).toBe(0);
    await writer.waitClosed();
  });
});
