// Peers that reset (RST) instead of closing cleanly (FIN), while we read a body or send one.
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Running, readRequests, rejectionOf, startRaw, useAgents } from './__fixtures__/servers.js';
import { HttpError, request } from './index.js';

let server: Running | null = null;
let tlsFront: NetServer | null = null;
const fronted = new Set<Socket>();
afterEach(async () => {
  await server?.close();
  server = null;
  if (tlsFront !== null) {
    for (const s of fronted) s.destroy();
    fronted.clear();
    const f = tlsFront;
    tlsFront = null;
    await new Promise((r) => f.close(r));
  }
});
const newAgent = useAgents();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;
let cert = '';
let key = '';
beforeAll(() => {
  ({ cert, key } = makeCert());
});

/** The error of a body read, or of the request itself when it fails first. */
async function failureOf(p: Promise<{ body: { text(): Promise<string> } }>): Promise<HttpError | Error> {
  try {
    const res = await p;
    await res.body.text();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

const causeCode = (err: Error) => (err as { code?: string }).code ?? '';
const codeOrCause = (err: Error) => `${causeCode(err)}/${causeCode((err.cause as Error) ?? err)}`;

describe('a close-delimited body cut by a reset', () => {
  const heads = [
    'HTTP/1.1 200 OK\r\n\r\n',
    'HTTP/1.0 200 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n',
  ];

  it.each(heads)(
    'fails with ERR_PREMATURE_CLOSE (cause ECONNRESET), never a short success: %j',
    async (head) => {
      server = await startRaw((socket) => {
        readRequests(socket, () => {
          socket.write(`${head}partial body`);
          setTimeout(() => socket.resetAndDestroy(), 30);
        });
      });
      const res = await request(server.origin, { agent: newAgent() });
      const err = await rejectionOf(res.body.text());
      expect(err.code).toBe('ERR_PREMATURE_CLOSE');
      expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
      expect(err.bytesReceived).toBeLessThanOrEqual('partial body'.length);
    },
  );

  it('only a clean FIN ends it, whatever the split points and wherever the reset falls', async () => {
    let plan = { wire: Buffer.alloc(0), cuts: [] as number[], reset: false, delivered: Promise.resolve() };
    server = await startRaw((socket) => {
      readRequests(socket, async () => {
        const { wire, cuts, reset, delivered } = plan;
        let prev = 0;
        for (const cut of [...cuts, wire.length]) {
          if (cut <= prev) continue;
          socket.write(wire.subarray(prev, cut));
          prev = cut;
          await sleep(1);
        }
        // libuv reports an RST that lands in the same poll wakeup as the last data as a clean EOF
        // (it ends a partial read at POLLHUP without reading the error), so the client could never
        // tell it from a FIN: reset only once the client has read every byte.
        if (reset) {
          await Promise.race([delivered, sleep(2000)]);
          await sleep(2);
          socket.resetAndDestroy();
        } else socket.end();
      });
    });
    const agent = newAgent();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.boolean(),
        async (body, points, reset) => {
          const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), body]);
          const cuts = [...new Set(points.map((p) => 1 + (p % (wire.length - 1))))].sort((a, b) => a - b);
          let allRead!: () => void;
          const delivered = new Promise<void>((r) => {
            allRead = r;
          });
          plan = { wire, cuts, reset, delivered };
          const onDownloadProgress = ({ loaded }: { loaded: number }) => {
            if (loaded >= body.length) allRead();
          };
          let got: Buffer | HttpError;
          try {
            got = await (await request(server!.origin, { agent, onDownloadProgress })).body.bytes();
          } catch (err) {
            got = err as HttpError;
          }
          if (reset) {
            expect(got).toBeInstanceOf(HttpError);
            expect((got as HttpError).code).toBe('ERR_PREMATURE_CLOSE');
          } else expect(Buffer.from(got as Buffer).equals(Buffer.from(body))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('fails a decoded close-delimited body cut by a reset too', async () => {
    const { gzipSync } = await import('node:zlib');
    const gz = gzipSync(Buffer.alloc(100_000, 'a'));
    server = await startRaw((socket) => {
      readRequests(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n');
        socket.write(gz);
        setTimeout(() => socket.resetAndDestroy(), 30);
      });
    });
    const res = await request(server.origin, { agent: newAgent(), decompress: true });
    expect((await rejectionOf(res.body.text())).code).toBe('ERR_PREMATURE_CLOSE');
  });
});

/** A ready-made 4 GiB body: every chunk is there at once, so nothing in it ever waits. */
function hugeBody() {
  const state = { pulled: 0, finished: false, iterations: 0 };
  async function* gen() {
    state.iterations++;
    const chunk = Buffer.alloc(64 * 1024, 120);
    try {
      while (state.pulled < 4 * 1024 * MiB) {
        state.pulled += chunk.length;
        yield chunk;
      }
    } finally {
      state.finished = true;
    }
  }
  return { state, body: gen() };
}

/** Longest gap between ticks of a 5 ms interval while `p` runs: how starved the event loop was. */
async function maxLagDuring<T>(p: Promise<T>): Promise<[T, number]> {
  let last = performance.now();
  let max = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 5);
  try {
    return [await p, max];
  } finally {
    clearInterval(iv);
  }
}

type Peer = 'tcp' | 'tls';

/** A server (plain or TLS) that reads the request and resets once it received `after` bytes. */
async function resettingPeer(
  peer: Peer,
  mode: 'reset' | 'answer-then-reset' | 'never-read',
  after = MiB,
): Promise<string> {
  const onSocket = (socket: Socket | TLSSocket, raw: Socket) => {
    socket.on('error', () => {});
    if (mode === 'never-read') {
      socket.pause();
      setTimeout(() => raw.resetAndDestroy(), 150);
      return;
    }
    let n = 0;
    socket.on('data', (d: Buffer) => {
      n += d.length;
      if (n < after || raw.destroyed) return;
      if (mode === 'answer-then-reset') {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome');
        socket.pause();
        setTimeout(() => raw.resetAndDestroy(), 30);
      } else raw.resetAndDestroy();
    });
  };
  if (peer === 'tcp') {
    server = await startRaw((socket) => onSocket(socket, socket));
    return server.origin;
  }
  // The TLS socket wraps the accepted TCP socket (its _parent): the reset goes on the TCP one.
  const tls = createTlsServer({ cert, key }, (socket) =>
    onSocket(socket, (socket as unknown as { _parent: Socket })._parent),
  );
  tlsFront = createNetServer((s) => {
    fronted.add(s);
    s.on('close', () => fronted.delete(s));
    s.on('error', () => {});
    tls.emit('connection', s);
  });
  await new Promise<void>((r) => tlsFront!.listen(0, '127.0.0.1', r));
  return `https://127.0.0.1:${(tlsFront.address() as { port: number }).port}`;
}

describe('a streamed upload to a peer that resets', () => {
  const cases: [Peer, 'reset' | 'answer-then-reset' | 'never-read'][] = [
    ['tcp', 'reset'],
    ['tcp', 'never-read'],
    ['tcp', 'answer-then-reset'],
    ['tls', 'reset'],
    ['tls', 'never-read'],
    ['tls', 'answer-then-reset'],
  ];
  it.each(cases)(
    '%s, %s: stops pulling the body at once and rejects with the connection error',
    async (peer, mode) => {
      const origin = await resettingPeer(peer, mode);
      const { state, body } = hugeBody();
      const t0 = performance.now();
      const [err, lag] = await maxLagDuring(
        failureOf(request(origin, { agent: newAgent(), method: 'POST', body, tls: { ca: cert } })),
      );
      // The connection's own error (ECONNRESET / EPIPE), or ERR_PREMATURE_CLOSE with it as cause.
      expect(codeOrCause(err)).toMatch(/ECONNRESET|EPIPE|ERR_PREMATURE_CLOSE\/(ECONNRESET|EPIPE)/);
      expect(performance.now() - t0).toBeLessThan(2000);
      // A few MiB were in flight when the reset came, never the 4 GiB.
      expect(state.pulled).toBeLessThan(64 * MiB);
      expect(lag).toBeLessThan(400);
      await sleep(20);
      expect(state.finished).toBe(true);
      const pulled = state.pulled;
      await sleep(100);
      expect(state.pulled).toBe(pulled);
    },
  );

  it('is never retried, even on a reused connection', async () => {
    const perConn: number[] = [];
    server = await startRaw((socket, i) => {
      perConn[i] = 0;
      let streaming = false;
      socket.on('data', (d: Buffer) => {
        if (streaming) return;
        if (d.toString('latin1').startsWith('GET')) {
          perConn[i]!++;
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        } else {
          perConn[i]!++;
          streaming = true;
          setTimeout(() => socket.resetAndDestroy(), 20);
        }
      });
    });
    const agent = newAgent();
    expect(await (await request(server.origin, { agent })).body.text()).toBe('ok');
    const { state, body } = hugeBody();
    const err = await failureOf(request(server.origin, { agent, method: 'PUT', body }));
    expect(codeOrCause(err)).toMatch(/ECONNRESET|EPIPE/);
    await sleep(50);
    expect(state.iterations).toBe(1);
    expect(perConn).toEqual([2]);
    expect(server.accepted()).toBe(1);
  });

  it('cancels a ReadableStream body when the peer resets', async () => {
    const origin = await resettingPeer('tcp', 'reset', 256 * 1024);
    let cancelled = false;
    let pulls = 0;
    const chunk = Buffer.alloc(64 * 1024, 121);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 4 GiB, as above: bounded, so a client that drains it into the void still ends.
        if (++pulls * chunk.length > 4 * 1024 * MiB) controller.close();
        else controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    const err = await failureOf(request(origin, { agent: newAgent(), method: 'POST', body }));
    expect(codeOrCause(err)).toMatch(/ECONNRESET|EPIPE/);
    for (let i = 0; i < 50 && !cancelled; i++) await sleep(10);
    expect(cancelled).toBe(true);
    expect(pulls).toBeLessThan(1024);
  });
});
