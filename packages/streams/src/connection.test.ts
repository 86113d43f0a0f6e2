import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lineEcho } from './__fixtures__/servers.js';
import { openConnection, openUnixConnection } from './connection.js';
import { TimeoutError } from './errors.js';
import { type Server, startServer, startUnixServer } from './server.js';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function echoServer(): Promise<Server> {
  const server = await startServer(lineEcho, '127.0.0.1', 0);
  cleanup.push(async () => {
    server.close();
    server.abortClients();
    await server.waitClosed();
  });
  return server;
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

async function rawServer(onSocket: (s: Socket) => void): Promise<NetServer> {
  const server = createServer({ allowHalfOpen: true }, onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return server;
}

describe('openConnection', () => {
  it('talks to an echo server line by line', async () => {
    const server = await echoServer();
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.write('hello\n');
    expect((await reader.readLine()).toString()).toBe('hello\n');
    writer.writeLines(['a\n', Buffer.from('b\n')]);
    expect((await reader.readExactly(4)).toString()).toBe('a\nb\n');
    writer.close();
    await writer.waitClosed();
    expect(writer.isClosing()).toBe(true);
  });

  it('connects over IPv6 loopback', async () => {
    const server = await startServer((_r, w) => w.close(), '::1', 0).catch(() => null);
    if (server === null) return; // no IPv6 on this host
    cleanup.push(() => server.close());
    const [reader] = await openConnection('::1', portOf(server), { family: 6 });
    expect((await reader.read()).byteLength).toBe(0);
  });

  it('half-close: writeEof sends FIN and the peer can still answer', async () => {
    const server = await startServer(
      async (reader, writer) => {
        const all = await reader.read();
        writer.write(`got ${all.byteLength} bytes\n`);
        writer.close();
      },
      '127.0.0.1',
      0,
    );
    cleanup.push(() => server.close());
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    expect(writer.canWriteEof()).toBe(true);
    writer.write('abc');
    writer.writeEof();
    expect((await reader.readLine()).toString()).toBe('got 3 bytes\n');
    expect(() => writer.write('x')).toThrow(expect.objectContaining({ code: 'ERR_WRITE_AFTER_CLOSE' }));
    await writer.waitClosed();
  });

  it('keeps Node error codes: ECONNREFUSED', async () => {
    const server = await rawServer(() => {});
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    await expect(openConnection('127.0.0.1', port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('connect timeout rejects with TimeoutError (a TLS server that never answers the handshake)', async () => {
    const server = await rawServer(() => {});
    const port = (server.address() as { port: number }).port;
    const err = await openConnection('127.0.0.1', port, { tls: true, timeout: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toContain('100 ms');
  });

  it('a signal cancels the connect', async () => {
    const server = await rawServer(() => {});
    const port = (server.address() as { port: number }).port;
    const ac = new AbortController();
    const p = openConnection('127.0.0.1', port, { tls: true, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(openConnection('127.0.0.1', port, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });

  it('reports ECONNRESET to a pending read when the peer resets', async () => {
    const server = await rawServer((s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    const [reader, writer] = await openConnection('127.0.0.1', (server.address() as { port: number }).port);
    writer.write('x');
    const err = await reader.readLine().catch((e) => e);
    expect(err.code ?? err.cause?.code).toBe('ECONNRESET');
    await expect(writer.drain()).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
      cause: { code: 'ECONNRESET' },
    });
  });

  it('getExtraInfo gives peername, sockname and the socket', async () => {
    const server = await echoServer();
    const [, writer] = await openConnection('127.0.0.1', portOf(server));
    expect(writer.getExtraInfo('peername')).toMatchObject({ address: '127.0.0.1', port: portOf(server) });
    expect(writer.getExtraInfo('sockname')).toMatchObject({ address: '127.0.0.1' });
    expect(writer.getExtraInfo('socket')).toBeDefined();
    expect(writer.getExtraInfo('peercert', 'none')).toBe('none');
    writer.close();
  });

  it('coalesces many small writes in one tick into one send', async () => {
    const chunks: number[] = [];
    let total = 0;
    const done = new Promise<void>((resolve) => {
      void rawServer((s) => {
        s.on('data', (c) => {
          chunks.push(c.byteLength);
          total += c.byteLength;
          if (total === 10_000) resolve();
        });
      }).then((server) => {
        void openConnection('127.0.0.1', (server.address() as { port: number }).port).then(([, writer]) => {
          for (let i = 0; i < 1000; i++) writer.write('0123456789');
          cleanup.push(() => writer.close());
        });
      });
    });
    await done;
    expect(chunks.length).toBeLessThanOrEqual(2);
  });
});

describe('flow control', () => {
  it('a reader that does not read holds back a flooding peer (about 2 x limit buffered)', async () => {
    let serverReader!: StreamReader;
    const ready = new Promise<void>((resolve) => {
      void startServer(
        (reader) => {
          serverReader = reader;
          resolve();
        },
        '127.0.0.1',
        0,
        { limit: 16_384 },
      ).then((server) => {
        cleanup.push(() => {
          server.close();
          server.abortClients();
        });
        void openConnection('127.0.0.1', portOf(server)).then(async ([, writer]) => {
          const chunk = Buffer.alloc(65_536, 1);
          // Write until our own buffer reports back-pressure for good: the peer stopped reading.
          for (let i = 0; i < 200; i++) {
            writer.write(chunk);
            const drained = await Promise.race([
              writer.drain().then(() => true),
              sleep(200).then(() => false),
            ]);
            if (!drained) break;
          }
          sent = true;
        });
      });
    });
    let sent = false;
    await ready;
    while (!sent) await sleep(20);
    // Bounded by 2 x limit plus at most one socket read (64 KiB).
    expect(serverReader.bufferedSize).toBeLessThanOrEqual(2 * 16_384 + 65_536);
    expect(serverReader.bufferedSize).toBeGreaterThan(0);
  });

  it('drain() waits above the high-water mark; many callers may await it at once', async () => {
    let release!: () => void;
    const server = await startServer(
      async (reader) => {
        await new Promise<void>((r) => {
          release = r;
        });
        await reader.read();
      },
      '127.0.0.1',
      0,
    );
    cleanup.push(() => {
      server.close();
      server.abortClients();
    });
    const [, writer] = await openConnection('127.0.0.1', portOf(server), {
      highWaterMark: 1024,
      lowWaterMark: 256,
    });
    let resolved = 0;
    // Fill the kernel buffers so our own buffer stays above the mark.
    for (let i = 0; i < 128; i++) writer.write(Buffer.alloc(65_536));
    const waits = [writer.drain(), writer.drain(), writer.drain()].map((p) => p.then(() => resolved++));
    await sleep(100);
    expect(resolved).toBe(0);
    expect(writer.transport.getWriteBufferSize()).toBeGreaterThan(1024);
    release();
    await Promise.all(waits);
    expect(resolved).toBe(3);
    expect(writer.transport.getWriteBufferSize()).toBeLessThanOrEqual(256);
    writer.close();
  });

  it('drain() rejects with the connection error once the connection failed', async () => {
    const server = await startServer((_reader, writer) => writer.transport.abort(), '127.0.0.1', 0);
    cleanup.push(() => server.close());
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    await reader.read().catch(() => {});
    const lost = {
      code: 'ERR_CONNECTION_CLOSED',
      cause: { code: expect.stringMatching(/ECONNRESET|EPIPE/) },
    };
    for (let i = 0; i < 64; i++) writer.write(Buffer.alloc(65_536));
    await expect(writer.drain()).rejects.toMatchObject(lost);
    expect(writer.isClosing()).toBe(true);
    let thrown: unknown;
    try {
      writer.write('more');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject(lost);
    await expect(writer.drain()).rejects.toMatchObject(lost);
  });
});

describe('unix sockets', () => {
  it('openUnixConnection talks to startUnixServer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asyncnet-unix-'));
    const path = join(dir, 's.sock');
    const server = await startUnixServer(async (reader: StreamReader, writer: StreamWriter) => {
      writer.write((await reader.readLine()).toString().toUpperCase());
      writer.close();
    }, path);
    cleanup.push(() => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    expect(server.address()).toBe(path);
    const [reader, writer] = await openUnixConnection(path);
    writer.write('shout\n');
    expect((await reader.read()).toString()).toBe('SHOUT\n');
  });
});

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
