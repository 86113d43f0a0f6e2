import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { makeCert } from '@asyncnet-internal/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { portOf, sleep, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { ReadPendingError } from './errors.js';
import { createStreamPair } from './memory-transport.js';
import { startServer } from './server.js';
import { StreamReader } from './stream-reader.js';

let cert: { key: string; cert: string };
beforeAll(() => {
  cert = makeCert();
});

const { servers, start } = useServers();
/** A server whose handler starts the server side of TLS after `STARTTLS\n`, and a raw client that never handshakes. */
async function stuckHandshake() {
  let upgrade!: Promise<unknown>;
  const server = await start(
    async (reader, writer) => {
      await reader.readLine();
      upgrade = writer.startTls({ key: cert.key, cert: cert.cert }).then(
        () => 'ok',
        (e) => e,
      );
      await upgrade;
    },
    '127.0.0.1',
    0,
    { onError: () => {} },
  );
  const raw = connect({ host: '127.0.0.1', port: portOf(server) });
  raw.on('error', () => {});
  await once(raw, 'connect');
  raw.write('STARTTLS\n');
  while (upgrade === undefined) await sleep(5);
  return { server, raw, upgrade: () => upgrade };
}

describe('TLS upgrade edge cases', () => {
  for (const how of ['abortClients', 'closeClients', 'peer FIN'] as const) {
    it(`a connection mid-handshake still closes (${how}) and waitClosed resolves`, async () => {
      const { server, raw, upgrade } = await stuckHandshake();
      if (how === 'peer FIN') raw.end();
      else server[how]();
      const result = await upgrade();
      expect(result).toMatchObject({ code: expect.stringMatching(/ERR_CONNECTION_CLOSED|ERR_TLS_UPGRADE/) });
      server.close();
      await server.waitClosed();
      expect(server.connections).toBe(0);
      raw.destroy();
    });
  }

  it('startTls honours handshakeTimeout and a signal', async () => {
    const server = await start(
      async (reader, writer) => {
        await reader.readLine();
        const err = await writer
          .startTls({ key: cert.key, cert: cert.cert, handshakeTimeout: 50 })
          .catch((e) => e);
        results.push(err.code);
      },
      '127.0.0.1',
      0,
    );
    const results: string[] = [];
    const raw = connect({ host: '127.0.0.1', port: portOf(server) });
    raw.on('error', () => {});
    raw.write('STARTTLS\n');
    while (results.length === 0) await sleep(10);
    expect(results).toEqual(['ERR_TIMEOUT']);
    const [, writer] = await openConnection('127.0.0.1', portOf(server));
    await expect(writer.startTls({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    raw.destroy();
  });

  it('bytes written while startTls is pending leave encrypted, after the handshake', async () => {
    const server = await start(
      async (reader, writer) => {
        await reader.readLine();
        writer.write('GO\n');
        await writer.startTls({ key: cert.key, cert: cert.cert });
        writer.write(`got:${(await reader.readLine()).toString()}`);
        await writer.drain();
      },
      '127.0.0.1',
      0,
    );
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.write('STARTTLS\n');
    expect((await reader.readLine()).toString()).toBe('GO\n');
    const upgrading = writer.startTls({ ca: cert.cert, servername: 'localhost' });
    writer.write('SECRET\n');
    await upgrading;
    expect((await reader.readLine()).toString()).toBe('got:SECRET\n');
    writer.close();
  });

  it('startTls waits for a small unflushed tail before handing the socket over', async () => {
    const server = await start(
      async (reader, writer) => {
        await reader.readLine();
        writer.write(Buffer.alloc(4096, 0x61));
        writer.write('\n');
        await writer.startTls({ key: cert.key, cert: cert.cert });
        writer.write('secure\n');
      },
      '127.0.0.1',
      0,
    );
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.write('STARTTLS\n');
    expect((await reader.readLine()).byteLength).toBe(4097);
    await writer.startTls({ ca: cert.cert, servername: 'localhost', signal: AbortSignal.timeout(5000) });
    expect((await reader.readLine()).toString()).toBe('secure\n');
    writer.close();
  });
});

describe('writer', () => {
  it('copies small writes: a buffer reused right after write() is sent as it was', async () => {
    const chunks: Buffer[] = [];
    const raw = createServer((s) => s.on('data', (c) => chunks.push(c)));
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const [, writer] = await openConnection('127.0.0.1', (raw.address() as { port: number }).port);
    const header = Buffer.alloc(4);
    for (const body of ['aa', 'bbbb', 'cccccc']) {
      header.writeUInt32BE(body.length);
      writer.write(header);
      writer.write(body);
    }
    writer.close();
    await writer.waitClosed();
    await sleep(50);
    expect(Buffer.concat(chunks).toString('hex')).toBe(
      Buffer.concat([
        Buffer.from([0, 0, 0, 2]),
        Buffer.from('aa'),
        Buffer.from([0, 0, 0, 4]),
        Buffer.from('bbbb'),
        Buffer.from([0, 0, 0, 6]),
        Buffer.from('cccccc'),
      ]).toString('hex'),
    );
    raw.close();
  });

  it('drain() resolves with a small high-water mark once the peer reads', async () => {
    let startReading!: () => void;
    const go = new Promise<void>((r) => {
      startReading = r;
    });
    const server = await start(
      async (reader) => {
        await go; // not reading until the client is stuck
        while ((await reader.read(65_536)).byteLength > 0) {}
      },
      '127.0.0.1',
      0,
    );
    const [, writer] = await openConnection('127.0.0.1', portOf(server), {
      highWaterMark: 4096,
      lowWaterMark: 1024,
    });
    const chunk = Buffer.alloc(8192, 0x78);
    let stuck = false;
    for (let i = 0; i < 5000 && !stuck; i++) {
      writer.write(chunk);
      stuck = !(await Promise.race([writer.drain().then(() => true), sleep(100).then(() => false)]));
    }
    expect(stuck).toBe(true);
    startReading();
    await writer.drain({ signal: AbortSignal.timeout(5000) });
    expect(writer.transport.getWriteBufferSize()).toBeLessThanOrEqual(1024);
    writer.close();
  });

  it('drain() takes a signal', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    const [, writer] = await openConnection('127.0.0.1', portOf(server), {
      highWaterMark: 1024,
      lowWaterMark: 256,
    });
    for (let i = 0; i < 200; i++) writer.write(Buffer.alloc(65_536));
    await expect(writer.drain({ signal: AbortSignal.timeout(30) })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    writer.transport.abort();
  });

  it('invalid options reject before any socket is opened', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    await expect(
      openConnection('127.0.0.1', portOf(server), { highWaterMark: 10, lowWaterMark: 20 }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(openConnection('127.0.0.1', portOf(server), { limit: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(startServer(() => {}, '127.0.0.1', 0, { limit: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await sleep(20);
    expect(server.connections).toBe(0);
  });
});

describe('reader', () => {
  it('refuses a read started while a woken read has not yet resumed', async () => {
    const r = new StreamReader();
    const first = r.readExactly(8);
    r.feedData(Buffer.from('abc\n'));
    // The first read is woken but has not run yet: a second read must not steal its bytes.
    await expect(r.readLine()).rejects.toBeInstanceOf(ReadPendingError);
    r.feedData(Buffer.from('defg'));
    expect((await first).toString()).toBe('abc\ndefg');
  });

  it('read(n) needs an integer', async () => {
    const r = new StreamReader();
    r.feedData(Buffer.from('abcdef'));
    await expect(r.read(1.5)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(r.bufferedSize).toBe(6);
  });

  it('a multi-byte separator at the limit gives the same result however it is split', async () => {
    for (const chunks of [['abcd\r\n'], ['abcd\r', '\n'], ['abcd', '\r', '\n']]) {
      const r = new StreamReader({ limit: 4 });
      const p = r.readUntil('\r\n');
      for (const c of chunks) {
        r.feedData(Buffer.from(c));
        await sleep(0);
      }
      expect((await p).toString()).toBe('abcd\r\n');
    }
    const r = new StreamReader({ limit: 4 });
    r.feedData(Buffer.from('abcde\r'));
    await expect(r.readUntil('\r\n')).rejects.toMatchObject({ code: 'ERR_LIMIT_OVERRUN', consumed: 5 });
  });
});

describe('server lifecycle', () => {
  it('serveForever resolves on close() even with connections open', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    await openConnection('127.0.0.1', portOf(server));
    while (server.connections < 1) await sleep(5);
    const serving = server.serveForever();
    server.close();
    await serving;
    expect(server.connections).toBe(1);
  });

  it('a handler that returned without closing: the connection closes when the peer sends EOF', async () => {
    const server = await start(
      async (reader, writer) => {
        writer.write(await reader.readLine());
      },
      '127.0.0.1',
      0,
    );
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.write('once\n');
    expect((await reader.readLine()).toString()).toBe('once\n');
    writer.writeEof();
    expect((await reader.read()).byteLength).toBe(0);
    const deadline = Date.now() + 5000;
    while (server.connections > 0 && Date.now() < deadline) await sleep(10);
    expect(server.connections).toBe(0);
  });

  it('a signal that fires while binding still stops the server', async () => {
    const ac = new AbortController();
    const p = startServer(() => {}, '127.0.0.1', 0, { signal: ac.signal });
    ac.abort();
    const server = await p;
    servers.push(server);
    expect(server.isServing()).toBe(false);
  });
});

describe('in-memory close', () => {
  it('close() is a full close, as over TCP: waitClosed resolves alone and later peer writes reset the peer', async () => {
    const [[, wa], [rb, wb]] = createStreamPair();
    wa.write('bye');
    wa.close();
    await wa.waitClosed();
    expect((await rb.read()).toString()).toBe('bye');
    wb.write('too late');
    await wb.waitClosed();
    expect(wb.transport.error).toMatchObject({ code: 'ECONNRESET' });
  });

  it('abort() discards queued bytes and the peer sees EOF', async () => {
    const [[, wa], [rb]] = createStreamPair();
    wa.write('lost');
    wa.transport.abort();
    expect((await rb.read()).byteLength).toBe(0);
  });
});

describe('cancellation and listener failures', () => {
  it('a read started right after an abort is accepted and sees every byte', async () => {
    const r = new StreamReader();
    r.feedData(Buffer.from('ab'));
    const ac = new AbortController();
    const first = r.readExactly(4, { signal: ac.signal });
    ac.abort();
    const second = r.readExactly(4);
    r.feedData(Buffer.from('cd'));
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect((await second).toString()).toBe('abcd');
  });

  it('a transport listener that throws fails its own connection, not the process', async () => {
    const { startTransportServer } = await import('./server.js');
    const closed: (Error | null)[] = [];
    const server = await startTransportServer(
      (t) =>
        t.setListener({
          data() {
            throw new Error('listener bug');
          },
          eof: () => false,
          closed: (e) => closed.push(e),
        }),
      '127.0.0.1',
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.write('boom');
    await reader.read().catch(() => {});
    while (closed.length === 0) await sleep(5);
    expect(closed[0]?.message).toBe('listener bug');
  });
});

describe('adapter-author details', () => {
  it('memory setWriteBufferLimits validates and signals crossings', async () => {
    const { createTransportPair } = await import('./memory-transport.js');
    const [a] = createTransportPair();
    const events: string[] = [];
    a.setListener({
      data() {},
      eof: () => true,
      writePaused: () => events.push('paused'),
      writeResumed: () => events.push('resumed'),
      closed() {},
    });
    expect(() => a.setWriteBufferLimits({ high: 1, low: 5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    a.write(Buffer.alloc(100));
    a.setWriteBufferLimits({ high: 50, low: 10 });
    expect(events).toEqual(['paused']);
  });

  it('a transport replays a paused write state to a listener set later', async () => {
    const { createTransportPair } = await import('./memory-transport.js');
    const [a] = createTransportPair({ highWaterMark: 10, lowWaterMark: 5 });
    a.write(Buffer.alloc(100));
    const events: string[] = [];
    a.setListener({ data() {}, eof: () => true, writePaused: () => events.push('paused'), closed() {} });
    expect(events).toEqual(['paused']);
  });

  it('a UDP error with no receive pending fails the next receive, once', async () => {
    const { openDatagramEndpoint } = await import('./datagram.js');
    const peer = await openDatagramEndpoint({ localAddress: '127.0.0.1' });
    const port = peer.address().port;
    await peer.close();
    const e = await openDatagramEndpoint({ remoteAddress: '127.0.0.1', remotePort: port });
    await e.send('anyone?');
    await sleep(100);
    await expect(e.receive({ signal: AbortSignal.timeout(1000) })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await expect(e.receive({ signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    await e.close();
  });
});

describe('early data', () => {
  it('a transport with no listener yet holds a bounded amount and loses nothing', async () => {
    const { startTransportServer } = await import('./server.js');
    const { streamsFromTransport } = await import('./connection.js');
    let held!: import('./transport.js').SocketTransport;
    const server = await startTransportServer(
      (t) => {
        held = t;
      },
      '127.0.0.1',
      0,
    );
    servers.push(server);
    const [, writer] = await openConnection('127.0.0.1', portOf(server));
    const total = 8 * 1024 * 1024;
    writer.write(Buffer.alloc(total, 0x41));
    const sent = writer.drain({ signal: AbortSignal.timeout(300) }).then(
      () => true,
      () => false,
    );
    // With nobody listening the peer must be held back by TCP, not by our memory.
    expect(await sent).toBe(false);
    const [reader] = streamsFromTransport(held);
    writer.close();
    expect((await reader.read()).byteLength).toBe(total);
  });
});
