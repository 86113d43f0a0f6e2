// Regression tests for defects found in review; each failed before its fix.
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, rejectionOf, startHttp, useAgents } from './__fixtures__/servers.js';
import { request } from './index.js';

let server: Running | null = null;
let raw: NetServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
  if (raw !== null) {
    const r = raw;
    raw = null;
    await new Promise<void>((done) => r.close(() => done()));
  }
});
const newAgent = useAgents();

describe('review regressions', () => {
  it('dump() drains a body larger than the read-ahead buffer and keeps the connection', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 97);
    server = await startHttp((_req, res) => {
      res.setHeader('content-length', big.length);
      res.end(big);
    });
    const agent = newAgent();
    const res = await request(server.origin, { agent });
    await res.body.dump();
    // Disposing after dump() (as `await using` would) must not cut the drain short.
    const res2 = await request(server.origin, { agent });
    const dumping = res2.body.dump();
    await res2[Symbol.asyncDispose]();
    await dumping;
    const res3 = await request(server.origin, { agent });
    expect((await res3.body.bytes()).length).toBe(big.length);
    expect(server.accepted()).toBe(1);
  });
});

const codeOf = async (p: Promise<unknown>) => (await rejectionOf(p)).code;

/** A raw server that records every byte it receives and answers 200 once a body ending in `world` arrived. */
async function startRecorder(): Promise<{ origin: string; wire: () => string }> {
  let wire = '';
  raw = createNetServer((s) => {
    s.on('error', () => {});
    s.on('data', (d) => {
      wire += d.toString('latin1');
      if (wire.endsWith('world')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => raw!.listen(0, '127.0.0.1', r));
  const port = (raw.address() as { port: number }).port;
  return { origin: `http://127.0.0.1:${port}`, wire: () => wire };
}

describe('stream bodies with a caller Content-Length', () => {
  async function* chunks(...parts: string[]) {
    for (const p of parts) yield Buffer.from(p);
  }

  it('never sends more bytes than the declared content-length (no smuggled request)', async () => {
    const s = await startRecorder();
    const agent = newAgent();
    const smuggle = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\nworld';
    const code = await codeOf(
      request(s.origin, {
        agent,
        method: 'POST',
        headers: { 'content-length': '5' },
        body: chunks('hello', smuggle),
        timeouts: { headers: 2000 },
      }),
    );
    expect(code).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.wire()).not.toContain('/smuggled');
  });

  it('fails a stream that ends short of the declared content-length', async () => {
    const s = await startRecorder();
    const code = await codeOf(
      request(s.origin, {
        agent: newAgent(),
        method: 'PUT',
        headers: { 'content-length': '10' },
        body: chunks('hello'),
        timeouts: { headers: 2000 },
      }),
    );
    expect(code).toBe('ERR_CONTENT_LENGTH_MISMATCH');
  });

  it('rejects a non-numeric or conflicting content-length for a stream body', async () => {
    const s = await startRecorder();
    const agent = newAgent();
    for (const headers of [
      { 'content-length': 'abc' },
      { 'content-length': '-1' },
      [
        ['content-length', '5'],
        ['Content-Length', '6'],
      ] as [string, string][],
    ]) {
      expect(await codeOf(request(s.origin, { agent, method: 'POST', headers, body: chunks('hello') }))).toBe(
        'ERR_INVALID_HEADER',
      );
    }
    expect(s.wire()).toBe('');
    // An exact match still goes out raw.
    const res = await request(s.origin, {
      agent,
      method: 'POST',
      headers: { 'content-length': '10' },
      body: chunks('hello', 'world'),
    });
    expect(await res.body.text()).toBe('ok');
    expect(s.wire()).toMatch(/Content-Length: 10\r\n\r\nhelloworld$/);
  });
});

describe('decompression backpressure', () => {
  it.each(['br', 'gzip'])(
    'does not inflate a %s bomb into memory while the body is not read',
    async (enc) => {
      const size = 96 * 1024 * 1024;
      const zeros = Buffer.alloc(size);
      const comp =
        enc === 'br'
          ? zlib.brotliCompressSync(zeros, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })
          : zlib.gzipSync(zeros, { level: 1 });
      server = await startHttp((_req, res) => {
        res.writeHead(200, { 'content-encoding': enc, 'content-length': comp.length });
        res.end(comp);
      });
      const res = await request(server.origin, { agent: newAgent(), decompress: true });
      const it = res.body[Symbol.asyncIterator]();
      let n = (await it.next()).value!.byteLength;
      const base = process.memoryUsage().arrayBuffers;
      await new Promise((r) => setTimeout(r, 400));
      // Unread: at most the read-ahead window plus zlib's buffers, never the 96 MiB body.
      expect(process.memoryUsage().arrayBuffers - base).toBeLessThan(24 * 1024 * 1024);
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        n += r.value.byteLength;
      }
      expect(n).toBe(size);
    },
    30_000,
  );
});

describe('redirects with a one-shot body', () => {
  it('returns a 301/302 for a PUT stream body instead of re-sending the spent stream', async () => {
    const seen: string[] = [];
    server = await startHttp((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${JSON.stringify(body)}`);
        if (req.url === '/a') res.writeHead(301, { location: '/b' }).end();
        else if (req.url === '/c') res.writeHead(302, { location: '/b' }).end();
        else res.end('ok');
      });
    });
    const agent = newAgent();
    async function* parts() {
      yield Buffer.from('hello ');
      yield Buffer.from('world');
    }
    const r1 = await request(`${server.origin}/a`, { agent, method: 'PUT', body: parts(), maxRedirects: 3 });
    expect(r1.status).toBe(301);
    await r1.body.dump();
    const r2 = await request(`${server.origin}/c`, { agent, method: 'PUT', body: parts(), maxRedirects: 3 });
    expect(r2.status).toBe(302);
    await r2.body.dump();
    // Replayable bodies are still followed with method and body intact.
    const r3 = await request(`${server.origin}/a`, { agent, method: 'PUT', body: 'again', maxRedirects: 3 });
    expect(await r3.body.text()).toBe('ok');
    expect(seen).toEqual([
      'PUT /a "hello world"',
      'PUT /c "hello world"',
      'PUT /a "again"',
      'PUT /b "again"',
    ]);
  });
});

describe('maxResponseSize and bodiless responses', () => {
  it('ignores the Content-Length of HEAD and 304 responses, which carry no body', async () => {
    server = await startHttp((req, res) => {
      res.setHeader('content-length', 5_000_000);
      res.statusCode = req.url === '/304' ? 304 : 200;
      res.end();
    });
    const agent = newAgent();
    const head = await request(server.origin, { agent, method: 'HEAD', maxResponseSize: 1000 });
    expect(head.status).toBe(200);
    expect(head.body.ended).toBe(true);
    const notModified = await request(`${server.origin}/304`, { agent, maxResponseSize: 1000 });
    expect(notModified.status).toBe(304);
    expect(await codeOf(request(server.origin, { agent, maxResponseSize: 1000 }))).toBe(
      'ERR_RESPONSE_TOO_LARGE',
    );
  });
});

describe('headers timeout and stream uploads', () => {
  it('does not count a stream upload that keeps making progress, but still fails a stalled one', async () => {
    server = await startHttp((req, res) => {
      let n = 0;
      req.on('data', (d) => (n += d.length));
      req.on('end', () => res.end(`got ${n}`));
    });
    const agent = newAgent();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    async function* slow() {
      for (let i = 0; i < 12; i++) {
        await sleep(50);
        yield Buffer.from('x'.repeat(10));
      }
    }
    const res = await request(server.origin, {
      agent,
      method: 'POST',
      body: slow(),
      timeouts: { headers: 400 },
    });
    expect(await res.body.text()).toBe('got 120');
    async function* stalled() {
      yield Buffer.from('x');
      await new Promise(() => {});
    }
    const code = await codeOf(
      request(server.origin, { agent, method: 'POST', body: stalled(), timeouts: { headers: 200 } }),
    );
    expect(code).toBe('ERR_HEADERS_TIMEOUT');
  });
});

describe('abort between redirects', () => {
  it('does not follow a redirect once the signal fired while the 3xx body drained', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    server = await startHttp((req, res) => {
      seen.push(req.url!);
      if (req.url === '/a') {
        res.writeHead(302, { location: '/b', 'content-length': 10 });
        res.write('12345');
        setTimeout(() => ac.abort(new Error('stop')), 30);
        setTimeout(() => res.end('67890'), 150);
      } else res.end('followed');
    });
    const code = await codeOf(
      request(`${server.origin}/a`, { agent: newAgent(), signal: ac.signal, maxRedirects: 2 }),
    );
    expect(code).toBe('ERR_ABORTED');
    expect(seen).toEqual(['/a']);
  });
});

describe('idle expiry', () => {
  it('expires an idle connection by its own Keep-Alive hint even when an older one lives longer', async () => {
    let accepted = 0;
    raw = createNetServer((s) => {
      s.on('error', () => {});
      const index = accepted++;
      s.once('data', () => {
        const reply = (hint: string) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${hint}\r\nok`);
        if (index === 0) reply('');
        else setTimeout(() => reply('Keep-Alive: timeout=1\r\n'), 50);
      });
    });
    await new Promise<void>((r) => raw!.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(raw.address() as { port: number }).port}`;
    const agent = newAgent({ keepAliveTimeout: 60_000, keepAliveMargin: 500 });
    const [a, b] = await Promise.all([request(origin, { agent }), request(origin, { agent })]);
    await a.body.text();
    await b.body.text();
    expect([...agent.stats().values()][0]!.idle).toBe(2);
    // The second connection's deadline is 1000 - 500 ms; the first one's is a minute away.
    for (let i = 0; i < 100 && [...agent.stats().values()][0]!.idle !== 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([...agent.stats().values()][0]!.idle).toBe(1);
  });
});

describe('empty encoded bodies', () => {
  it('decodes an empty body with a content-encoding to an empty body, as fetch does', async () => {
    server = await startHttp((req, res) => {
      res.writeHead(200, { 'content-encoding': req.url!.slice(1), 'content-length': 0 });
      res.end();
    });
    const agent = newAgent();
    for (const enc of ['gzip', 'deflate', 'br']) {
      const res = await request(`${server.origin}/${enc}`, { agent, decompress: true });
      expect(await res.body.text()).toBe('');
    }
    // A truncated (non-empty) stream is still an error.
    const cut = zlib.gzipSync(Buffer.from('hello world')).subarray(0, 8);
    const s2 = await startHttp((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': cut.length });
      res.end(cut);
    });
    try {
      const res = await request(s2.origin, { agent, decompress: true });
      await expect(res.body.text()).rejects.toMatchObject({ code: 'ERR_HTTP_PARSE' });
    } finally {
      await s2.close();
    }
  });
});

describe('failed connects', () => {
  it('drops the pool of an origin whose connect failed, so close() resolves', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const agent = newAgent();
    await expect(request(`http://127.0.0.1:${port}/`, { agent })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    expect(agent.stats().size).toBe(0);
    let closed = false;
    const closing = agent.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true);
    await closing;
  });
});

describe('request body streams on early answers', () => {
  it('cancels a ReadableStream body when the server answers before reading it all', async () => {
    raw = createNetServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
    });
    await new Promise<void>((r) => raw!.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(raw.address() as { port: number }).port}`;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 10));
        controller.enqueue(Buffer.from('chunk'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const res = await request(origin, { agent: newAgent(), method: 'POST', body });
    expect(res.status).toBe(413);
    for (let i = 0; i < 100 && !cancelled; i++) await new Promise((r) => setTimeout(r, 20));
    expect(cancelled).toBe(true);
  });
});

describe('request field values', () => {
  it('rejects control characters other than tab, as node:http and undici do', async () => {
    server = await startHttp((req, res) => res.end(String(req.headers['x-a'])));
    const agent = newAgent();
    for (const v of ['a\x01b', 'a\x7fb', 'a\x1bb', 'a\x0bb']) {
      expect(await codeOf(request(server.origin, { agent, headers: { 'x-a': v } }))).toBe(
        'ERR_INVALID_HEADER',
      );
    }
    const ok = await request(server.origin, { agent, headers: { 'x-a': 'tab\there \xe9' } });
    expect(ok.status).toBe(200);
    // obs-text leaves as one latin1 byte (node:http reads it back as U+00E9), with or without a body.
    expect(await ok.body.text()).toBe('tab\there \xe9');
    const posted = await request(server.origin, {
      agent,
      method: 'POST',
      body: 'x',
      headers: { 'x-a': '\xe9' },
    });
    expect(await posted.body.text()).toBe('\xe9');
  });
});

describe('credentials in the url', () => {
  it('are sent as Basic auth, never override an explicit Authorization, and stay out of errors', async () => {
    const seen: (string | undefined)[] = [];
    const srv = await startHttp((req, res) => {
      seen.push(req.headers.authorization);
      res.end('ok');
    });
    server = srv;
    const base = `http://al%40ice:p%3Ass@127.0.0.1:${srv.port}/`;
    const agent = newAgent();
    expect(await (await request(base, { agent })).body.text()).toBe('ok');
    expect(seen[0]).toBe(`Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`);
    await (await request(base, { agent, headers: { Authorization: 'Bearer t' } })).body.dump();
    expect(seen[1]).toBe('Bearer t');
    const err = await request('ftp://bob:secret@127.0.0.1/').catch((e: Error) => e);
    expect((err as Error).message).not.toContain('secret');
  });
});
