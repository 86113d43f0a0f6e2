import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { makeCert } from '@asyncnet-internal/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { portOf, sleep, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { TimeoutError } from './errors.js';
import { createStreamPair } from './memory-transport.js';
import { timeout, withTimeout } from './timeout.js';

const { start } = useServers();

let cert: { key: string; cert: string };
beforeAll(() => {
  cert = makeCert();
});

/** A TCP server that accepts and never answers (a TLS client waits forever for ServerHello). */
async function silentServer() {
  const sockets: Socket[] = [];
  const closed: Promise<unknown>[] = [];
  const server = createServer((s) => {
    s.on('error', () => {});
    s.resume(); // read (and ignore) the ClientHello, so the client's FIN is seen
    sockets.push(s);
    closed.push(once(s, 'close'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    sockets,
    closed,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('withTimeout(ms, (signal) => operation)', () => {
  it('resolves with the value in time and clears its timer', async () => {
    await expect(withTimeout(100, async () => 42)).resolves.toBe(42);
    await expect(withTimeout(100, () => 7)).resolves.toBe(7);
  });

  it('passes the operation’s own error through', async () => {
    await expect(withTimeout(100, () => Promise.reject(new Error('inner')))).rejects.toThrow('inner');
  });

  it('cancels a timed-out readLine: the reader is free and the next line is not swallowed', async () => {
    const [[reader], [, writer]] = createStreamPair();
    const err = await withTimeout(30, (signal) => reader.readLine({ signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT' });
    writer.write('hello\n');
    expect((await reader.readLine()).toString()).toBe('hello\n');
  });

  it('keeps a partial line that arrived before the deadline', async () => {
    const [[reader], [, writer]] = createStreamPair();
    writer.write('hel');
    await expect(withTimeout(30, (signal) => reader.readLine({ signal }))).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    writer.write('lo\n');
    expect((await reader.readLine()).toString()).toBe('hello\n');
  });

  it('cancels a timed-out TLS connect: no socket is left and the process can exit', async () => {
    const silent = await silentServer();
    try {
      const err = await withTimeout(80, (signal) =>
        openConnection('127.0.0.1', silent.port, { tls: { rejectUnauthorized: false }, signal }),
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_TIMEOUT' });
      // The server side sees the client's socket go away: the connect was cancelled, not orphaned.
      await Promise.race([
        Promise.all(silent.closed),
        sleep(2000).then(() => {
          throw new Error('the client socket stayed open after the timeout');
        }),
      ]);
      expect(silent.sockets.length).toBe(1);
    } finally {
      silent.close();
    }
  });

  it('returns a value that arrives as the deadline passes instead of losing it', async () => {
    const value = await withTimeout(10, async (signal) => {
      await sleep(40);
      // A cooperative operation that finished its work anyway: the result is not thrown away.
      expect(signal.aborted).toBe(true);
      return 'done';
    });
    expect(value).toBe('done');
  });

  it('reports an error thrown after the deadline as a TimeoutError with that cause', async () => {
    const err = await withTimeout(10, async () => {
      await sleep(30);
      throw new Error('late failure');
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT', cause: { message: 'late failure' } });
  });

  it('is cancelled by an outer signal too, with that signal’s reason', async () => {
    const outer = new AbortController();
    const [[reader]] = createStreamPair();
    const p = withTimeout(5000, (signal) => reader.readLine({ signal }), { signal: outer.signal });
    outer.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('refuses the removed withTimeout(promise, ms) form with a typed error', async () => {
    const [[reader]] = createStreamPair();
    const call = withTimeout as unknown as (p: unknown, ms: unknown) => Promise<unknown>;
    await expect(call(Promise.resolve(1), 100)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('withTimeout(promise, ms) form was removed'),
    });
    await expect(withTimeout(-1, () => 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // The reader was never touched.
    expect(reader.atEof()).toBe(false);
  });
});

describe('timeout(ms) scope', () => {
  it('cancels every call that got its signal, and leaves the connection usable for the next scope', async () => {
    const server = await start(
      async (reader, writer) => {
        const line = await reader.readLine();
        await sleep(100);
        writer.write(line);
      },
      '127.0.0.1',
      0,
    );
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    {
      using t = timeout(30);
      writer.write('ping\n');
      await expect(reader.readLine({ signal: t.signal })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
      expect(t.expired()).toBe(true);
    }
    {
      using t = timeout(2000);
      expect((await reader.readLine({ signal: t.signal })).toString()).toBe('ping\n');
      expect(t.expired()).toBe(false);
    }
    writer.close();
  });

  it('reschedules and reports its deadline', async () => {
    using t = timeout(20);
    const first = t.when();
    expect(first).not.toBeNull();
    t.reschedule(5000);
    expect(t.when()!).toBeGreaterThan(first!);
    await sleep(40);
    expect(t.signal.aborted).toBe(false);
    t.reschedule(null);
    expect(t.when()).toBeNull();
    t.reschedule(10);
    await sleep(30);
    expect(t.expired()).toBe(true);
    expect(t.signal.reason).toBeInstanceOf(TimeoutError);
    expect(() => t.reschedule(100)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('clears its timer on dispose (the signal never fires)', async () => {
    let signal: AbortSignal;
    {
      using t = timeout(20);
      signal = t.signal;
    }
    await sleep(40);
    expect(signal.aborted).toBe(false);
  });

  it('starts aborted under an aborted outer signal', () => {
    using t = timeout(1000, { signal: AbortSignal.abort('stop') });
    expect(t.signal.aborted).toBe(true);
    expect(t.signal.reason).toBe('stop');
    expect(t.expired()).toBe(false);
  });
});

describe('the timeout in a TLS handshake', () => {
  it('a scope covers connect and the first read together', async () => {
    const server = await start(
      async (_reader, writer) => {
        await sleep(200);
        writer.write('late\n');
      },
      '127.0.0.1',
      0,
      { tls: { key: cert.key, cert: cert.cert } },
    );
    using t = timeout(80);
    const [reader] = await openConnection('127.0.0.1', portOf(server), {
      tls: { rejectUnauthorized: false },
      signal: t.signal,
    });
    await expect(reader.readLine({ signal: t.signal })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });
});

describe('a deadline bounds the server waits too', () => {
  it('Server.waitClosed({ signal }) and serveForever({ signal }) stop waiting, the server keeps its clients', async () => {
    const server = await start(async (reader) => void (await reader.read()), '127.0.0.1', 0);
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    await expect(withTimeout(30, (signal) => server.serveForever({ signal }))).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    server.close();
    // The client never closes: waiting for it is bounded, and the connection is still there.
    await expect(withTimeout(30, (signal) => server.waitClosed({ signal }))).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    expect(server.connections).toBe(1);
    server.abortClients();
    await server.waitClosed({ signal: AbortSignal.timeout(5000) });
    // The client sees its connection end once the server aborted it.
    expect((await reader.read(-1, { signal: AbortSignal.timeout(5000) })).byteLength).toBe(0);
    writer.close();
  });
});
