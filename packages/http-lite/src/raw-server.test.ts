import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Running,
  readRequests,
  rejectionOf,
  startRaw,
  useAgents,
  writeSplit,
} from './__fixtures__/servers.js';
import { get, post, request } from './index.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();
const b = (s: string) => Buffer.from(s, 'latin1');

/** A server that answers every request on every connection with `reply(index)`, written in pieces. */
async function serve(reply: (n: number) => string, mode: 'random' | 'bytes' = 'random', closeAfter = false) {
  server = await startRaw((socket) => {
    readRequests(socket, async (_head, n) => {
      await writeSplit(socket, b(reply(n)), mode, mode === 'bytes' ? 0 : 1, n + 7);
      if (closeAfter) socket.end();
    });
  });
  return server;
}

const framings: [string, string, string][] = [
  ['content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world', 'hello world'],
  [
    'chunked with extensions, hex case and trailers',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\nA\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\nX-T: 1\r\n\r\n',
    'hello0123456789abcdefghij',
  ],
  [
    '1xx skipped',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    'ok',
  ],
];

describe('framing over a raw socket, split at random points and byte by byte', () => {
  for (const mode of ['random', 'bytes'] as const) {
    it.each(framings)(`reads %s (${mode})`, async (_name, wire, body) => {
      const s = await serve(() => wire, mode);
      const agent = newAgent();
      for (let i = 0; i < 2; i++) {
        const res = await get(s.origin, { agent });
        expect(await res.body.text()).toBe(body);
      }
      expect(s.accepted()).toBe(1);
    });
  }

  it('reads a close-delimited body until FIN and does not reuse the connection', async () => {
    const s = await serve(() => 'HTTP/1.1 200 OK\r\n\r\nuntil the end', 'random', true);
    const agent = newAgent();
    expect(await (await get(s.origin, { agent })).body.text()).toBe('until the end');
    expect(await (await get(s.origin, { agent })).body.text()).toBe('until the end');
    expect(s.accepted()).toBe(2);
  });

  it('ignores the body headers of a HEAD response', async () => {
    const s = await serve(() => 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 'bytes');
    const agent = newAgent();
    const res = await request(s.origin, { agent, method: 'HEAD' });
    expect(res.headers.get('content-length')).toBe('100');
    expect((await res.body.bytes()).length).toBe(0);
    await (await request(s.origin, { agent, method: 'HEAD' })).body.dump();
    expect(s.accepted()).toBe(1);
  });

  const bad: [string, string][] = [
    [
      'content-length with transfer-encoding',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'differing content-length values',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    ],
    ['invalid content-length', 'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n'],
    ['whitespace before colon', 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n'],
    ['nul in field value', 'HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n'],
    ['invalid status code', 'HTTP/1.1 20x OK\r\n\r\n'],
    ['invalid status line', 'SPAM\r\n\r\n'],
    // U+00A0 is not whitespace: String#trim would have turned these into valid framing.
    ['invalid content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\xa0\r\n\r\nhello'],
    [
      'invalid transfer-encoding',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\xa0\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ],
    ['invalid chunk extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nhi\r\n0\r\n\r\n'],
    [
      'invalid chunk extension',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;;=;"\r\nhi\r\n0\r\n\r\n',
    ],
    [
      'invalid chunk extension',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a="b\r\nhi\r\n0\r\n\r\n',
    ],
  ];
  it.each(bad)('rejects %s with ERR_HTTP_PARSE', async (reason, wire) => {
    const s = await serve(() => wire, 'bytes');
    const err = await rejectionOf(get(s.origin, { agent: newAgent() }));
    expect(err.code).toBe('ERR_HTTP_PARSE');
    expect(err.reason).toBe(reason);
  });

  it('rejects a bad chunk size that arrives after the head, on the body', async () => {
    const s = await serve(
      () => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n',
      'random',
    );
    const res = await get(s.origin, { agent: newAgent() });
    const err = await rejectionOf(res.body.text());
    expect(err.reason).toBe('invalid chunk size');
  });

  it('reports a close inside the body as ERR_PREMATURE_CLOSE with the partial bytes', async () => {
    const s = await serve(() => 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this', 'random', true);
    const res = await get(s.origin, { agent: newAgent() });
    const err = await rejectionOf(res.body.text());
    expect(err.code).toBe('ERR_PREMATURE_CLOSE');
    expect(err.bytesReceived).toBe(9);
    expect(Buffer.from(err.partial!).toString()).toBe('only this');
    const s2 = await serve(
      () => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
      'random',
      true,
    );
    const err2 = await rejectionOf((await get(s2.origin, { agent: newAgent() })).body.bytes());
    expect(err2.code).toBe('ERR_PREMATURE_CLOSE');
  });

  it('reads an HTTP/1.2 response as HTTP/1.1 and keeps the connection', async () => {
    const s = await serve(
      () => 'HTTP/1.2 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      'bytes',
    );
    const agent = newAgent();
    for (let i = 0; i < 2; i++) {
      const res = await get(s.origin, { agent });
      expect(res.httpVersion).toBe('1.1');
      expect(await res.body.text()).toBe('ok');
    }
    expect(s.accepted()).toBe(1);
  });

  it('reports a close inside the head as ERR_PREMATURE_CLOSE', async () => {
    const s = await serve(() => 'HTTP/1.1 200 OK\r\nContent-Le', 'bytes', true);
    expect((await rejectionOf(get(s.origin, { agent: newAgent() }))).code).toBe('ERR_PREMATURE_CLOSE');
  });

  it('survives a server that sends random garbage (only HttpError, never a hang)', async () => {
    const s = await serve((n) => `\x16\x03\x01garbage ${n} \0\r\n\n\r`, 'random', true);
    const agent = newAgent();
    for (let i = 0; i < 5; i++)
      expect((await rejectionOf(get(s.origin, { agent }))).code).toBe('ERR_HTTP_PARSE');
  });
});

describe('connection reuse', () => {
  it('never hands out an idle connection the server closed (FIN)', async () => {
    const perConn: number[] = [];
    server = await startRaw((socket, i) => {
      perConn[i] = 0;
      readRequests(socket, () => {
        perConn[i]!++;
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'); // keep-alive response, then FIN
      });
    });
    const agent = newAgent();
    for (let i = 0; i < 3; i++) {
      expect(await (await get(server.origin, { agent })).body.text()).toBe('ok');
      await new Promise((r) => setTimeout(r, 30)); // let the FIN arrive while idle
    }
    expect(perConn).toEqual([1, 1, 1]);
  });

  it('closes an idle connection that receives stray bytes', async () => {
    server = await startRaw((socket) => {
      readRequests(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray'), 10);
      });
    });
    const agent = newAgent();
    expect(await (await get(server.origin, { agent })).body.text()).toBe('ok');
    await new Promise((r) => setTimeout(r, 50));
    expect(agent.stats().size).toBe(0);
    expect(await (await get(server.origin, { agent })).body.text()).toBe('ok');
    expect(server.accepted()).toBe(2);
  });

  it('does not reuse a connection after a response followed by extra bytes in the same packet', async () => {
    server = await startRaw((socket) => {
      readRequests(socket, () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'));
    });
    const agent = newAgent();
    expect(await (await get(server.origin, { agent })).body.text()).toBe('ok');
    expect(await (await get(server.origin, { agent })).body.text()).toBe('ok');
    expect(server.accepted()).toBe(2);
  });

  it('gives a response followed by extra bytes one outcome at every split point: delivered, then closed', async () => {
    let plan = { wire: Buffer.alloc(0), cuts: [] as number[], written: () => {} };
    server = await startRaw((socket) => {
      readRequests(socket, async () => {
        let prev = 0;
        const p = plan;
        for (const cut of [...p.cuts, p.wire.length]) {
          if (cut <= prev) continue;
          socket.write(p.wire.subarray(prev, cut));
          prev = cut;
          await new Promise((r) => setTimeout(r, 1));
        }
        p.written();
      });
    });
    const agent = newAgent();
    const response = b('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 30 }), fc.nat(), async (extra, at) => {
        const wire = Buffer.concat([response, extra]);
        // One cut anywhere, the one right after the response included.
        let count = 0;
        let wake = () => {};
        const writes = (n: number) =>
          new Promise<void>((r) => {
            wake = () => count >= n && r();
            wake();
          });
        plan = {
          wire,
          cuts: [1 + (at % (wire.length - 1))],
          written: () => {
            count++;
            wake();
          },
        };
        const before = server!.accepted();
        expect(await (await get(server!.origin, { agent })).body.text()).toBe('ok');
        // Only once the extra bytes are on the wire (a loaded machine can hold the server's 1 ms timer long).
        await writes(1);
        await new Promise((r) => setTimeout(r, 20));
        // The connection that carried extra bytes is never handed out again.
        expect(await (await get(server!.origin, { agent })).body.text()).toBe('ok');
        expect(server!.accepted()).toBe(before + 2);
        // The next run must not reuse this connection before its own extra bytes arrived.
        await writes(2);
        await new Promise((r) => setTimeout(r, 20));
      }),
      { numRuns: 30 },
    );
  });

  /** First request on each connection is answered; later ones see the connection dropped unanswered. */
  async function dropsReused() {
    const perConn: number[] = [];
    server = await startRaw((socket, i) => {
      perConn[i] = 0;
      readRequests(socket, (_h, n) => {
        perConn[i]!++;
        if (n === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else socket.destroy();
      });
    });
    return perConn;
  }

  it('retries an idempotent request once on a new connection when a reused one dies before any byte', async () => {
    const perConn = await dropsReused();
    const agent = newAgent();
    expect(await (await get(server!.origin, { agent })).body.text()).toBe('ok');
    expect(await (await get(server!.origin, { agent })).body.text()).toBe('ok');
    expect(
      await (await request(server!.origin, { agent, method: 'PUT', body: 'replayable' })).body.text(),
    ).toBe('ok');
    expect(perConn).toEqual([2, 2, 1]);
  });

  it('never retries a POST, a streamed body, or a request on a fresh connection', async () => {
    const perConn = await dropsReused();
    const agent = newAgent();
    await (await get(server!.origin, { agent })).body.text();
    expect((await rejectionOf(post(server!.origin, 'x', { agent }))).code).toBe('ERR_PREMATURE_CLOSE');
    await (await get(server!.origin, { agent })).body.text();
    async function* body() {
      yield Buffer.from('s');
    }
    expect((await rejectionOf(request(server!.origin, { agent, method: 'PUT', body: body() }))).code).toBe(
      'ERR_PREMATURE_CLOSE',
    );
    expect(perConn).toEqual([2, 2]);
  });

  it('retries at most once', async () => {
    // Every connection answers its first request only after a second one was queued... simpler:
    // connection 0 answers once then drops; every later connection drops immediately.
    const perConn: number[] = [];
    server = await startRaw((socket, i) => {
      perConn[i] = 0;
      readRequests(socket, (_h, n) => {
        perConn[i]!++;
        if (i === 0 && n === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else socket.destroy();
      });
    });
    const agent = newAgent();
    await (await get(server.origin, { agent })).body.text();
    expect((await rejectionOf(get(server.origin, { agent }))).code).toBe('ERR_PREMATURE_CLOSE');
    expect(perConn).toEqual([2, 1]);
  });
});
