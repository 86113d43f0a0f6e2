import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { brotliBomb, cpuDuring, gzipBomb, textOf } from './__fixtures__/bombs.js';
import { type Running, readRequests, rejectionOf, startRaw, useAgents } from './__fixtures__/servers.js';
import { request } from './index.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;
const brotli = (b: Buffer) =>
  zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });

async function closedSoon(closed: boolean[]): Promise<boolean[]> {
  for (let i = 0; i < 100 && !closed.every(Boolean); i++) await sleep(10);
  return closed;
}

/**
 * Answers every request with `body` under `Content-Encoding: encoding`, in pieces of `piece` bytes
 * (each its own write, `pauseMs` apart), and records whether the client closed each connection.
 */
async function serveEncoded(
  body: Buffer | ((n: number) => Buffer),
  encoding: string | string[],
  { piece = 64 * 1024, pauseMs = 0 }: { piece?: number; pauseMs?: number } = {},
): Promise<{ origin: string; closed: boolean[] }> {
  const closed: boolean[] = [];
  server = await startRaw((socket: Socket, i) => {
    closed[i] = false;
    // The server is half-open capable: the client's close shows as 'end' (FIN) or 'close' (reset).
    socket.on('end', () => (closed[i] = true));
    socket.on('close', () => (closed[i] = true));
    readRequests(socket, async (_head, n) => {
      const b = typeof body === 'function' ? body(n) : body;
      const enc = (Array.isArray(encoding) ? encoding : [encoding]).map((e) => `Content-Encoding: ${e}\r\n`);
      socket.write(`HTTP/1.1 200 OK\r\n${enc.join('')}Content-Length: ${b.length}\r\n\r\n`);
      for (let off = 0; off < b.length && !socket.destroyed; off += piece) {
        socket.write(b.subarray(off, off + piece));
        if (pauseMs > 0) await sleep(pauseMs);
      }
    });
  });
  return { origin: server.origin, closed };
}

const bomb = (enc: string) => (enc === 'gzip' ? Promise.resolve(gzipBomb(1024)) : brotliBomb(1024));

describe('decompression limits', () => {
  it.each(['gzip', 'br'])(
    'fails a 1 GiB %s bomb with ERR_RESPONSE_TOO_LARGE as soon as the decoded size passes maxResponseSize',
    async (enc) => {
      const s = await serveEncoded(await bomb(enc), enc);
      const agent = newAgent();
      const t0 = performance.now();
      const res = await request(s.origin, { agent, decompress: true, maxResponseSize: 20 * MB });
      const err = await rejectionOf(res.body.bytes());
      expect(err.code).toBe('ERR_RESPONSE_TOO_LARGE');
      expect(err.message).toMatch(/decoded to \d+ bytes/);
      // Inflating the whole GiB takes seconds; 20 MB takes tens of milliseconds.
      expect(performance.now() - t0).toBeLessThan(1500);
      // The decoder stopped: no CPU goes on inflating the rest.
      expect(await cpuDuring(300)).toBeLessThan(120);
      // The connection was closed, not returned to the pool.
      expect(await closedSoon(s.closed)).toEqual([true]);
      expect(agent.stats().size).toBe(0);
    },
  );

  it.each([
    ['at once', 0],
    ['slowly (the limit passes while the wire body is still arriving)', 2],
  ])('fails 33 MB of gzipped text sent %s, with maxResponseSize 20 MB', async (_n, pauseMs) => {
    const text = zlib.gzipSync(textOf(33 * 1000 * 1000), { level: 6 });
    expect(text.length).toBeLessThan(4 * MB);
    const s = await serveEncoded(text, 'gzip', { piece: 16 * 1024, pauseMs });
    const res = await request(s.origin, {
      agent: newAgent(),
      decompress: true,
      maxResponseSize: 20 * 1000 * 1000,
    });
    if (pauseMs === 0) await sleep(100); // the whole wire body is in before anything is read
    const err = await rejectionOf(res.body.text());
    expect(err.code).toBe('ERR_RESPONSE_TOO_LARGE');
    expect(await closedSoon(s.closed)).toEqual([true]);
  });

  it('applies the limit to the output of stacked codings too', async () => {
    const inner = gzipBomb(256);
    const s = await serveEncoded(zlib.gzipSync(inner), 'gzip, gzip');
    const res = await request(s.origin, { agent: newAgent(), decompress: true, maxResponseSize: 10 * MB });
    expect((await rejectionOf(res.body.bytes())).code).toBe('ERR_RESPONSE_TOO_LARGE');
  });

  it('still delivers a body of exactly maxResponseSize decoded bytes', async () => {
    const plain = textOf(3 * MB);
    const s = await serveEncoded(brotli(plain), 'br');
    const res = await request(s.origin, {
      agent: newAgent(),
      decompress: true,
      maxResponseSize: plain.length,
    });
    expect((await res.body.bytes()).equals(plain)).toBe(true);
  });
});

/** Reads decoded chunks for `ms` (the wire body, ~1 MB, is all in by then), then leaves the iterator open. */
async function readFor(it: AsyncIterator<Uint8Array>, ms: number): Promise<number> {
  const until = performance.now() + ms;
  let n = 0;
  while (performance.now() < until) {
    const r = await it.next();
    if (r.done) break;
    n += r.value.byteLength;
  }
  return n;
}

describe('discarding a decoded body', () => {
  it.each(['gzip', 'br'])('stops inflating a %s bomb at once when for-await breaks', async (enc) => {
    const s = await serveEncoded(await bomb(enc), enc);
    const res = await request(s.origin, { agent: newAgent(), decompress: true });
    const it = res.body[Symbol.asyncIterator]();
    expect(await readFor(it, 150)).toBeLessThan(1024 * MB);
    await it.return!(); // what `break` does
    expect(await cpuDuring(300)).toBeLessThan(120);
  });

  it.each(['gzip', 'br'])(
    'dump() of a %s bomb drains only the wire bytes and keeps the connection',
    async (enc) => {
      const s = await serveEncoded(await bomb(enc), enc);
      const agent = newAgent();
      const res = await request(s.origin, { agent, decompress: true });
      const t0 = performance.now();
      await res.body.dump();
      expect(performance.now() - t0).toBeLessThan(800);
      expect(await cpuDuring(300)).toBeLessThan(120);
      // The wire body was read to its end, so the connection is reused.
      const again = await request(s.origin, { agent, decompress: true });
      await again.body.dump();
      expect(s.closed).toEqual([false]);
    },
  );

  it.each([
    ['unread', 0],
    ['partly read', 150],
  ])('disposing an %s decoded body stops the decoder', async (_n, ms) => {
    const s = await serveEncoded(gzipBomb(1024), 'gzip');
    {
      await using res = await request(s.origin, { agent: newAgent(), decompress: true });
      if (ms > 0) await readFor(res.body[Symbol.asyncIterator](), ms);
      else await sleep(50);
    }
    expect(await cpuDuring(300)).toBeLessThan(120);
  });
});

describe('timeouts and aborts while a decoder is producing', () => {
  it('keeps applying the total timeout after the last wire byte', async () => {
    const s = await serveEncoded(gzipBomb(1024), 'gzip');
    const t0 = performance.now();
    const res = await request(s.origin, { agent: newAgent(), decompress: true, timeouts: { total: 300 } });
    let n = 0;
    const err = await rejectionOf(
      (async () => {
        for await (const chunk of res.body) n += chunk.byteLength;
      })(),
    );
    expect(err.code).toBe('ERR_TOTAL_TIMEOUT');
    expect(n).toBeLessThan(1024 * MB);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await cpuDuring(200)).toBeLessThan(100);
  });

  it('keeps honouring the signal after the last wire byte', async () => {
    const s = await serveEncoded(await brotliBomb(1024), 'br');
    const ac = new AbortController();
    const res = await request(s.origin, { agent: newAgent(), decompress: true, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('enough')), 150);
    let n = 0;
    const err = await rejectionOf(
      (async () => {
        for await (const chunk of res.body) n += chunk.byteLength;
      })(),
    );
    expect(err.code).toBe('ERR_ABORTED');
    expect(n).toBeLessThan(1024 * MB);
  });
});

const zlibWrapped = (b: Buffer) => zlib.deflateSync(b);
const raw = (b: Buffer) => zlib.deflateRawSync(b);

describe('deflate', () => {
  it.each([
    ['zlib-wrapped', zlibWrapped],
    ['raw', raw],
  ] as const)(
    'decodes a 300 KB %s deflate body that arrives in many pieces, every time',
    async (_n, deflate) => {
      // Random bytes barely compress, so the wire body is ~300 KB and arrives in many reads.
      const plain = randomBytes(300 * 1024);
      const s = await serveEncoded(deflate(plain), 'deflate', { piece: 1460, pauseMs: 0 });
      const agent = newAgent();
      for (let i = 0; i < 10; i++) {
        const res = await request(s.origin, { agent, decompress: true });
        expect((await res.body.bytes()).equals(plain)).toBe(true);
      }
    },
  );

  it('sniffs zlib vs raw exactly once, on the first two bytes, whatever the split points', async () => {
    let current = Buffer.alloc(0);
    let cuts: number[] = [];
    server = await startRaw((socket) => {
      readRequests(socket, async () => {
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: ${current.length}\r\n\r\n`,
        );
        let prev = 0;
        for (const cut of [...cuts, current.length]) {
          if (cut <= prev) continue;
          socket.write(current.subarray(prev, cut));
          prev = cut;
          await new Promise((r) => setImmediate(r)); // separate reads, faster than zlib answers
        }
      });
    });
    const agent = newAgent({ connections: 1 });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 20_000 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (bytes, wrapped, points) => {
          const plain = Buffer.from(bytes);
          current = wrapped ? zlibWrapped(plain) : raw(plain);
          // Cut after the first and second byte often: that is where a sniff on a later chunk broke.
          cuts = [...new Set([1, 2, ...points.map((p) => p % current.length)])].sort((a, b) => a - b);
          const res = await request(server!.origin, { agent, decompress: true });
          expect((await res.body.bytes()).equals(plain)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('stacked content-codings', () => {
  const plain = textOf(200 * 1024);
  const cases: [string, string | string[], Buffer][] = [
    ['gzip, gzip', 'gzip, gzip', zlib.gzipSync(zlib.gzipSync(plain))],
    ['two gzip field lines', ['gzip', 'gzip'], zlib.gzipSync(zlib.gzipSync(plain))],
    ['identity, gzip', 'identity, gzip', zlib.gzipSync(plain)],
    ['deflate, gzip', 'deflate, gzip', zlib.gzipSync(zlib.deflateSync(plain))],
    ['raw deflate under br', 'deflate, br', brotli(zlib.deflateRawSync(plain))],
    ['br, deflate', 'br,deflate', zlib.deflateSync(brotli(plain))],
    ['case and OWS', ' GZIP ,\tX-Gzip ', zlib.gzipSync(zlib.gzipSync(plain))],
    ['empty members', 'gzip,, ,', zlib.gzipSync(plain)],
  ];
  it.each(cases)('decodes %s in order (last applied first)', async (_name, enc, wire) => {
    const s = await serveEncoded(wire, enc, { piece: 4096 });
    const res = await request(s.origin, { agent: newAgent(), decompress: true });
    expect((await res.body.bytes()).equals(plain)).toBe(true);
  });

  it('holds every stage back while the body is not read (bounded memory through the chain)', async () => {
    const s = await serveEncoded(zlib.gzipSync(gzipBomb(256)), 'gzip, gzip');
    const res = await request(s.origin, { agent: newAgent(), decompress: true });
    const it = res.body[Symbol.asyncIterator]();
    let n = (await it.next()).value!.byteLength;
    const base = process.memoryUsage().arrayBuffers;
    await sleep(300);
    expect(process.memoryUsage().arrayBuffers - base).toBeLessThan(24 * MB);
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      n += r.value.byteLength;
    }
    expect(n).toBe(256 * MB);
  }, 30_000);

  const refused: [string, string][] = [
    ['an unknown coding', 'zstd'],
    ['an unknown coding under a known one', 'zstd, gzip'],
    ['an unknown coding over a known one', 'gzip, compress'],
    ['more than five codings', 'gzip, gzip, gzip, gzip, gzip, gzip'],
  ];
  it.each(refused)(
    'refuses %s with ERR_UNSUPPORTED_CONTENT_ENCODING, never the encoded bytes',
    async (_n, enc) => {
      const s = await serveEncoded(zlib.gzipSync(plain), enc);
      const agent = newAgent();
      const err = await rejectionOf(request(s.origin, { agent, decompress: true }));
      expect(err.code).toBe('ERR_UNSUPPORTED_CONTENT_ENCODING');
      // Without decompress the bytes are handed out as they are, with the header that says so.
      const res = await request(s.origin, { agent });
      expect(res.headers.get('content-encoding')).toBe(enc);
      expect((await res.body.bytes()).equals(zlib.gzipSync(plain))).toBe(true);
    },
  );
});
