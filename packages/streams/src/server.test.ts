import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { portOf, sleep, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { startServer } from './server.js';
import type { StreamWriter } from './stream-writer.js';

const { start } = useServers();

describe('startServer', () => {
  it('listens on port 0 and reports the real address', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    expect(server.isServing()).toBe(true);
    expect(portOf(server)).toBeGreaterThan(0);
    expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
  });

  it('a handler that throws or rejects closes its own connection only', async () => {
    const errors: unknown[] = [];
    const server = await start(
      async (reader, writer) => {
        const line = (await reader.readLine()).toString();
        if (line === 'throw\n') throw new Error('boom');
        writer.write(`ok ${line}`);
        await writer.drain();
      },
      '127.0.0.1',
      0,
      { onError: (err, info) => errors.push([err, info.peername?.address]) },
    );
    const [r1, w1] = await openConnection('127.0.0.1', portOf(server));
    const [r2, w2] = await openConnection('127.0.0.1', portOf(server));
    w1.write('throw\n');
    expect((await r1.read()).byteLength).toBe(0); // closed by the server
    w2.write('fine\n');
    expect((await r2.readLine()).toString()).toBe('ok fine\n');
    expect(errors).toHaveLength(1);
    expect((errors[0] as [Error, string])[0].message).toBe('boom');
    expect((errors[0] as [Error, string])[1]).toBe('127.0.0.1');
    expect(server.isServing()).toBe(true);
    w1.close();
    w2.close();
  });

  it('a synchronous throw is handled the same way', async () => {
    const errors: unknown[] = [];
    const server = await start(
      () => {
        throw new Error('sync');
      },
      '127.0.0.1',
      0,
      { onError: (err) => errors.push(err) },
    );
    const [reader] = await openConnection('127.0.0.1', portOf(server));
    expect((await reader.read()).byteLength).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it('counts connections live and waitClosed resolves after closeClients', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    const ends = await Promise.all([1, 2, 3].map(() => openConnection('127.0.0.1', portOf(server))));
    while (server.connections < 3) await sleep(5);
    expect(server.connections).toBe(3);
    server.close();
    expect(server.isServing()).toBe(false);
    server.closeClients();
    await server.waitClosed();
    expect(server.connections).toBe(0);
    for (const [reader] of ends) expect((await reader.read()).byteLength).toBe(0);
  });

  it('closeClients flushes queued bytes before closing', async () => {
    let writer!: StreamWriter;
    const server = await start(
      (_r, w) => {
        writer = w;
      },
      '127.0.0.1',
      0,
    );
    const [reader] = await openConnection('127.0.0.1', portOf(server));
    while (writer === undefined) await sleep(5);
    const payload = Buffer.alloc(1 << 20, 7);
    writer.write(payload);
    server.close();
    server.closeClients();
    const got = await reader.read();
    expect(got.byteLength).toBe(payload.byteLength);
    await server.waitClosed();
  });

  it('waitClosed cannot hang after closeClients when a client never reads (timeout aborts it)', async () => {
    const server = await start(
      (_r, w) => {
        for (let i = 0; i < 256; i++) w.write(Buffer.alloc(65_536));
      },
      '127.0.0.1',
      0,
    );
    const [, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.transport.pauseReading();
    while (server.connections < 1) await sleep(5);
    server.close();
    server.closeClients({ timeout: 100 });
    await server.waitClosed();
    expect(server.connections).toBe(0);
  });

  it('abortClients destroys connections at once', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    const [reader] = await openConnection('127.0.0.1', portOf(server));
    while (server.connections < 1) await sleep(5);
    server.abortClients();
    const result = await reader.read().then(
      (b) => b.byteLength,
      (e) => e.code,
    );
    expect([0, 'ECONNRESET']).toContain(result);
    server.close();
    await server.waitClosed();
  });

  it('serveForever resolves when the server is closed', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    let done = false;
    const p = server.serveForever().then(() => {
      done = true;
    });
    await sleep(20);
    expect(done).toBe(false);
    server.close();
    await p;
    expect(done).toBe(true);
  });

  it('await using closes everything', async () => {
    let port = 0;
    {
      await using server = await startServer(() => {}, '127.0.0.1', 0);
      port = portOf(server);
      await openConnection('127.0.0.1', port);
    }
    await expect(openConnection('127.0.0.1', port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a signal closes the server', async () => {
    const ac = new AbortController();
    const server = await start(() => {}, '127.0.0.1', 0, { signal: ac.signal });
    ac.abort();
    await server.waitClosed();
    expect(server.isServing()).toBe(false);
  });

  it('reports EADDRINUSE', async () => {
    const server = await start(() => {}, '127.0.0.1', 0);
    await expect(startServer(() => {}, '127.0.0.1', portOf(server))).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  it('survives 1,000 clients that connect and reset at once, and keeps serving', async () => {
    const errors: unknown[] = [];
    const server = await start(
      async (reader, writer) => {
        for await (const line of reader) writer.write(line);
        writer.close();
      },
      '127.0.0.1',
      0,
      { onError: (e) => errors.push(e), backlog: 2048 },
    );
    const port = portOf(server);
    await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<void>((resolve) => {
            const s: Socket = connect({ host: '127.0.0.1', port }, () => {
              s.write('partial line without newline');
              s.resetAndDestroy();
            });
            s.on('error', () => {});
            s.on('close', () => resolve());
          }),
      ),
    );
    const deadline = Date.now() + 10_000;
    while (server.connections > 0 && Date.now() < deadline) await sleep(20);
    expect(server.connections).toBe(0);
    // Resets surface in handlers as ECONNRESET read errors, never as anything else.
    for (const e of errors) expect((e as { code?: string }).code).toBe('ECONNRESET');
    const [reader, writer] = await openConnection('127.0.0.1', port);
    writer.write('still here\n');
    expect((await reader.readLine()).toString()).toBe('still here\n');
    writer.close();
    server.close();
    server.closeClients({ timeout: 2000 });
    await server.waitClosed();
    expect(server.connections).toBe(0);
  });
});
