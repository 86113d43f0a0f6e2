import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, rejectionOf, startHttp, useAgents } from './__fixtures__/servers.js';
import { get, getGlobalAgent, post, request, setGlobalAgent } from './index.js';

let server: Running | null = null;
let other: Running | null = null;
afterEach(async () => {
  await server?.close();
  await other?.close();
  server = other = null;
});
const newAgent = useAgents();

const codeOf = async (p: Promise<unknown>) => (await rejectionOf(p)).code;

describe('request against node:http', () => {
  it('returns status, case-insensitive headers, raw headers and the body', async () => {
    server = await startHttp((req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('X-Echo-Host', String(req.headers.host));
      res.setHeader('X-Got', String(req.headers['x-test']));
      res.statusMessage = 'Fine';
      res.end('hello');
    });
    const agent = newAgent();
    const res = await get(`${server.origin}/p?q=1`, { agent, headers: { 'X-Test': 'yes' } });
    expect(res.status).toBe(200);
    expect(res.statusText).toBe('Fine');
    expect(res.httpVersion).toBe('1.1');
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-echo-host')).toBe(`127.0.0.1:${server.port}`);
    expect(res.headers.get('X-GOT')).toBe('yes');
    expect(res.headers.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(res.rawHeaders.some(([n]) => n === 'Set-Cookie')).toBe(true);
    expect(await res.body.text()).toBe('hello');
  });

  it('accepts Headers and pair-array request fields and reads bodies as ArrayBuffer', async () => {
    server = await startHttp((req, res) => res.end(`${req.headers['x-a']}|${req.headers['x-b']}`));
    const agent = newAgent();
    const a = await get(server.origin, { agent, headers: new Headers({ 'x-a': '1', 'x-b': '2' }) });
    expect(Buffer.from(await a.body.arrayBuffer()).toString()).toBe('1|2');
    const b = await get(server.origin, {
      agent,
      headers: [
        ['x-a', '3'],
        ['X-B', '4'],
      ],
    });
    expect(await b.body.text()).toBe('3|4');
  });

  it('reuses one connection for sequential requests, released in the same tick', async () => {
    server = await startHttp((_req, res) => res.end('x'));
    const agent = newAgent();
    for (let i = 0; i < 5; i++) {
      const res = await get(`${server.origin}/`, { agent });
      expect(await res.body.text()).toBe('x');
      expect(agent.stats().get(`http:${server.origin.slice(5)}`)).toEqual({ open: 1, idle: 1, queued: 0 });
    }
    expect(server.accepted()).toBe(1);
  });

  it('sends string, bytes, async-iterable, ReadableStream and empty bodies with the right framing', async () => {
    server = await startHttp((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () =>
        res.end(
          JSON.stringify({
            body: Buffer.concat(parts).toString(),
            cl: req.headers['content-length'] ?? null,
            te: req.headers['transfer-encoding'] ?? null,
          }),
        ),
      );
    });
    const agent = newAgent();
    const url = `${server.origin}/echo`;
    expect(await (await post(url, 'héllo', { agent })).body.json()).toEqual({
      body: 'héllo',
      cl: '6',
      te: null,
    });
    expect(await (await post(url, Buffer.from('bytes'), { agent })).body.json()).toEqual({
      body: 'bytes',
      cl: '5',
      te: null,
    });
    async function* gen() {
      yield Buffer.from('a');
      yield 'bc';
      yield new Uint8Array(0);
      yield Buffer.from('d');
    }
    expect(await (await post(url, gen(), { agent })).body.json()).toEqual({
      body: 'abcd',
      cl: null,
      te: 'chunked',
    });
    const rs = Readable.toWeb(
      Readable.from([Buffer.from('web'), Buffer.from('stream')]),
    ) as ReadableStream<Uint8Array>;
    expect(await (await post(url, rs, { agent })).body.json()).toEqual({
      body: 'webstream',
      cl: null,
      te: 'chunked',
    });
    const withLength = await request(url, {
      agent,
      method: 'PUT',
      body: gen(),
      headers: { 'content-length': '4' },
    });
    expect(await withLength.body.json()).toEqual({ body: 'abcd', cl: '4', te: null });
    expect(await (await post(url, null, { agent })).body.json()).toEqual({ body: '', cl: '0', te: null });
    expect(server.accepted()).toBe(1);
  });

  it('fails the request with the error thrown by a body stream', async () => {
    server = await startHttp((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    async function* broken() {
      yield Buffer.from('first');
      throw new Error('source failed');
    }
    await expect(post(server.origin, broken(), { agent: newAgent() })).rejects.toThrow('source failed');
  });

  it('streams a large request body with backpressure', async () => {
    server = await startHttp((req, res) => {
      let n = 0;
      req.on('data', (d) => (n += d.length));
      req.on('end', () => res.end(String(n)));
    });
    async function* big() {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, i);
    }
    const res = await post(`${server.origin}/`, big(), { agent: newAgent() });
    expect(await res.body.text()).toBe(String(64 * 64 * 1024));
  });

  it('has no body for HEAD, 204 and 304 and releases the connection at once', async () => {
    server = await startHttp((req, res) => {
      if (req.url === '/204') res.writeHead(204).end();
      else if (req.url === '/304') res.writeHead(304, { etag: 'x' }).end();
      else res.writeHead(200, { 'content-length': 5 }).end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const agent = newAgent();
    const key = `http:${server.origin.slice(5)}`;
    for (const [path, method] of [
      ['/', 'HEAD'],
      ['/204', 'GET'],
      ['/304', 'GET'],
    ] as const) {
      const res = await request(`${server.origin}${path}`, { agent, method });
      expect(agent.stats().get(key)?.idle).toBe(1);
      expect(res.body.ended).toBe(true);
      expect((await res.body.bytes()).length).toBe(0);
    }
    expect(server.accepted()).toBe(1);
  });

  it('exposes trailers once the body is read', async () => {
    server = await startHttp((_req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked', trailer: 'x-checksum' });
      res.write('part1');
      res.addTrailers({ 'X-Checksum': 'abc' });
      setTimeout(() => res.end('part2'), 20);
    });
    const res = await get(server.origin, { agent: newAgent() });
    expect(res.trailers.has('x-checksum')).toBe(false);
    expect(await res.body.text()).toBe('part1part2');
    expect(res.trailers.get('x-checksum')).toBe('abc');
  });

  it('iterates the body, and disposing an unread response keeps the connection', async () => {
    server = await startHttp((_req, res) => {
      res.write('a'.repeat(1000));
      setTimeout(() => res.end('b'.repeat(1000)), 5);
    });
    const agent = newAgent();
    const res = await get(server.origin, { agent });
    let n = 0;
    for await (const chunk of res.body) n += chunk.length;
    expect(n).toBe(2000);
    {
      await using r2 = await get(server.origin, { agent });
      expect(r2.status).toBe(200);
    }
    const r3 = await get(server.origin, { agent });
    await r3.body.dump();
    expect(server.accepted()).toBe(1);
    await expect(r3.body.text()).rejects.toThrow(/already used/);
  });

  it('applies backpressure to the server while the body is not read', async () => {
    const total = 64 * 1024 * 1024;
    let written = 0;
    server = await startHttp((_req, res) => {
      res.writeHead(200, { 'content-length': total });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const res = await get(server.origin, { agent: newAgent() });
    await new Promise((r) => setTimeout(r, 300));
    // Kernel buffers plus our 256 KiB high-water mark hold a few MiB at most, never the whole body.
    expect(written).toBeLessThan(total / 2);
    let n = 0;
    for await (const c of res.body) n += c.length;
    expect(n).toBe(total);
  });

  it('closes the connection when iteration stops early', async () => {
    server = await startHttp((_req, res) => {
      res.write('a'.repeat(100));
      setTimeout(() => res.end('b'), 20);
    });
    const agent = newAgent();
    const res = await get(server.origin, { agent });
    for await (const _ of res.body) break;
    const again = await get(server.origin, { agent });
    expect(await again.body.text()).toBe(`${'a'.repeat(100)}b`);
    expect(server.accepted()).toBe(2);
  });

  it('decompresses gzip, deflate (zlib and raw) and br only when asked', async () => {
    const text = 'compress me '.repeat(100);
    server = await startHttp((req, res) => {
      const enc = req.url!.slice(1);
      const body =
        enc === 'gzip'
          ? zlib.gzipSync(text)
          : enc === 'deflate'
            ? zlib.deflateSync(text)
            : enc === 'rawdeflate'
              ? zlib.deflateRawSync(text)
              : zlib.brotliCompressSync(text);
      res.writeHead(200, {
        'content-encoding': enc === 'rawdeflate' ? 'deflate' : enc,
        'x-accept': String(req.headers['accept-encoding']),
      });
      res.end(body);
    });
    const agent = newAgent();
    for (const enc of ['gzip', 'deflate', 'rawdeflate', 'br']) {
      const res = await get(`${server.origin}/${enc}`, { agent, decompress: true });
      expect(res.headers.get('x-accept')).toBe('gzip, deflate, br');
      expect(await res.body.text()).toBe(text);
    }
    const raw = await get(`${server.origin}/gzip`, { agent });
    expect(raw.headers.get('x-accept')).toBe('undefined');
    expect(zlib.gunzipSync(await raw.body.bytes()).toString()).toBe(text);
  });

  it('fails a corrupt compressed body with ERR_HTTP_PARSE', async () => {
    server = await startHttp((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end('not gzip at all');
    });
    const res = await get(server.origin, { agent: newAgent(), decompress: true });
    expect(await codeOf(res.body.text())).toBe('ERR_HTTP_PARSE');
  });

  it('rejects heads over maxHeaderSize and bodies over maxResponseSize', async () => {
    server = await startHttp((req, res) => {
      if (req.url === '/big-head') res.setHeader('x-big', 'a'.repeat(2000));
      if (req.url === '/chunked') {
        res.write('a'.repeat(600));
        res.end('b'.repeat(600));
      } else res.end('c'.repeat(1000));
    });
    const agent = newAgent();
    expect(await codeOf(get(`${server.origin}/big-head`, { agent, maxHeaderSize: 1024 }))).toBe(
      'ERR_HEADERS_OVERFLOW',
    );
    expect(await codeOf(get(`${server.origin}/`, { agent, maxResponseSize: 999 }))).toBe(
      'ERR_RESPONSE_TOO_LARGE',
    );
    const res = await get(`${server.origin}/chunked`, { agent, maxResponseSize: 1000 });
    expect(await codeOf(res.body.text())).toBe('ERR_RESPONSE_TOO_LARGE');
    expect(await (await get(`${server.origin}/`, { agent, maxResponseSize: 1000 })).body.text()).toHaveLength(
      1000,
    );
  });
});

describe('redirects', () => {
  it('returns 3xx as-is by default and follows 301/302/303/307/308 per RFC 9110', async () => {
    server = await startHttp((req, res) => {
      const m = /^\/(\d{3})$/.exec(req.url!);
      if (m) {
        res.writeHead(Number(m[1]), { location: '/target' }).end('moved');
        return;
      }
      const parts: Buffer[] = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () =>
        res.end(`${req.method} ${Buffer.concat(parts).toString()} ${req.headers['content-type'] ?? '-'}`),
      );
    });
    const agent = newAgent();
    const plain = await post(`${server.origin}/303`, 'x', { agent });
    expect(plain.status).toBe(303);
    await plain.body.dump();
    const opts = { agent, maxRedirects: 3, headers: { 'content-type': 'text/plain' } };
    const cases: [string, string][] = [
      ['303', 'GET  -'],
      ['301', 'GET  -'],
      ['302', 'GET  -'],
      ['307', 'POST body text/plain'],
      ['308', 'POST body text/plain'],
    ];
    for (const [code, expected] of cases) {
      const res = await post(`${server.origin}/${code}`, 'body', opts);
      expect(res.status).toBe(200);
      expect(res.redirected).toBe(true);
      expect(res.url).toBe(`${server.origin}/target`);
      expect(await res.body.text()).toBe(expected);
    }
    const put = await request(`${server.origin}/301`, { ...opts, method: 'PUT', body: 'p' });
    expect(await put.body.text()).toBe('PUT p text/plain');
    expect(server.accepted()).toBe(1);
  });

  it('drops Authorization and Cookie across origins and caps the count', async () => {
    other = await startHttp((req, res) =>
      res.end(`${req.headers.authorization ?? '-'} ${req.headers.cookie ?? '-'} ${req.headers['x-keep']}`),
    );
    server = await startHttp((req, res) => {
      if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else if (req.url === '/same') res.writeHead(302, { location: '/echo' }).end();
      else if (req.url === '/echo')
        res.end(`${req.headers.authorization ?? '-'} ${req.headers.cookie ?? '-'}`);
      else res.writeHead(302, { location: `${other!.origin}/x` }).end();
    });
    const agent = newAgent();
    const headers = { authorization: 'Bearer t', cookie: 'c=1', 'x-keep': 'k' };
    const cross = await get(`${server.origin}/away`, { agent, headers, maxRedirects: 2 });
    expect(await cross.body.text()).toBe('- - k');
    const same = await get(`${server.origin}/same`, { agent, headers, maxRedirects: 2 });
    expect(await same.body.text()).toBe('Bearer t c=1');
    expect(await codeOf(get(`${server.origin}/loop`, { agent, maxRedirects: 3 }))).toBe(
      'ERR_TOO_MANY_REDIRECTS',
    );
  });
});

describe('timeouts and cancellation', () => {
  it('times out waiting for the head, between body chunks, and in total', async () => {
    server = await startHttp((req, res) => {
      if (req.url === '/stall-head') return;
      res.writeHead(200, { 'content-length': 10 });
      res.write('abc');
      if (req.url === '/slow-drip') {
        const t = setInterval(() => res.write('d'), 30);
        res.on('close', () => clearInterval(t));
      }
    });
    const agent = newAgent();
    expect(await codeOf(get(`${server.origin}/stall-head`, { agent, timeouts: { headers: 150 } }))).toBe(
      'ERR_HEADERS_TIMEOUT',
    );
    const res = await get(`${server.origin}/stall-body`, { agent, timeouts: { body: 150 } });
    expect(await codeOf(res.body.text())).toBe('ERR_BODY_TIMEOUT');
    const drip = await get(`${server.origin}/slow-drip`, { agent, timeouts: { body: 1000, total: 120 } });
    expect(await codeOf(drip.body.text())).toBe('ERR_TOTAL_TIMEOUT');
  });

  it('times out a connect whose TLS handshake never completes', async () => {
    const sockets: Socket[] = [];
    const silent: NetServer = createNetServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      expect(
        await codeOf(get(`https://127.0.0.1:${port}/`, { agent: newAgent(), timeouts: { connect: 150 } })),
      ).toBe('ERR_CONNECT_TIMEOUT');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('aborts before sending, while waiting and while reading the body', async () => {
    server = await startHttp((req, res) => {
      if (req.url === '/stall') return;
      res.write('partial');
    });
    const agent = newAgent();
    expect(await codeOf(get(server.origin, { agent, signal: AbortSignal.abort() }))).toBe('ERR_ABORTED');
    const ac = new AbortController();
    const p = get(`${server.origin}/stall`, { agent, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 30);
    expect(await codeOf(p)).toBe('ERR_ABORTED');
    const ac2 = new AbortController();
    const res = await get(`${server.origin}/body`, { agent, signal: ac2.signal });
    const text = res.body.text();
    ac2.abort();
    expect(await codeOf(text)).toBe('ERR_ABORTED');
  });
});

describe('agents and arguments', () => {
  it('queues beyond the per-origin connection limit', async () => {
    let maxOpen = 0;
    let open = 0;
    server = await startHttp((_req, res) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      setTimeout(() => {
        open--;
        res.end('ok');
      }, 10);
    });
    const agent = newAgent({ connections: 2 });
    const all = await Promise.all(
      Array.from({ length: 8 }, () => get(server!.origin, { agent }).then((r) => r.body.text())),
    );
    expect(all).toEqual(Array(8).fill('ok'));
    expect(maxOpen).toBe(2);
    expect(server.accepted()).toBe(2);
  });

  it('completes 2,000 concurrent-ish requests while the server closes connections at random', async () => {
    let i = 0;
    server = await startHttp((req, res) => {
      i++;
      if (i % 7 === 0) res.setHeader('connection', 'close');
      if (i % 11 === 0) res.writeHead(200, { 'content-length': 3 }).end('abc');
      else res.end(req.url);
    });
    const agent = newAgent({ connections: 16 });
    const one = async (k: number) => {
      const res = await get(`${server!.origin}/${k}`, { agent });
      const text = await res.body.text();
      return text === `/${k}` || text === 'abc';
    };
    const results = await Promise.all(Array.from({ length: 2000 }, (_, k) => one(k)));
    expect(results.every(Boolean)).toBe(true);
    const s = agent.stats().get(`http:${server.origin.slice(5)}`)!;
    expect(s.open).toBeLessThanOrEqual(16);
    expect(s.queued).toBe(0);
  });

  it('honours the Keep-Alive timeout hint minus the margin', async () => {
    server = await startHttp((_req, res) => {
      res.setHeader('keep-alive', 'timeout=1');
      res.end('x');
    });
    const agent = newAgent({ keepAliveMargin: 1000 });
    await (await get(server.origin, { agent })).body.text();
    await (await get(server.origin, { agent })).body.text();
    expect(server.accepted()).toBe(2);
    const lenient = newAgent({ keepAliveMargin: 500 });
    await (await get(server.origin, { agent: lenient })).body.text();
    await (await get(server.origin, { agent: lenient })).body.text();
    expect(server.accepted()).toBe(3);
  });

  it('closes idle connections after keepAliveTimeout', async () => {
    server = await startHttp((_req, res) => res.end('x'));
    const agent = newAgent({ keepAliveTimeout: 50 });
    await (await get(server.origin, { agent })).body.text();
    expect(agent.stats().size).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(agent.stats().size).toBe(0);
  });

  it('uses the global agent and setGlobalAgent swaps it', async () => {
    server = await startHttp((_req, res) => res.end('x'));
    const before = getGlobalAgent();
    const mine = newAgent();
    setGlobalAgent(mine);
    try {
      await (await get(server.origin)).body.text();
      expect(mine.stats().size).toBe(1);
    } finally {
      setGlobalAgent(before);
    }
  });

  it('close() waits for in-flight responses; destroy() fails them', async () => {
    server = await startHttp((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('late'), 50);
      else res.write('open');
    });
    const agent = newAgent();
    const slow = get(`${server.origin}/slow`, { agent });
    await new Promise((r) => setTimeout(r, 10));
    const closed = agent.close();
    expect(await (await slow).body.text()).toBe('late');
    await closed;
    expect(await codeOf(get(server.origin, { agent }))).toBe('ERR_AGENT_CLOSED');
    const agent2 = newAgent();
    const res = await get(`${server.origin}/open`, { agent: agent2 });
    agent2.destroy();
    expect(await codeOf(res.body.text())).toBe('ERR_ABORTED');
  });

  it('destroy() fails requests that are still connecting', async () => {
    const sockets: Socket[] = [];
    const silent: NetServer = createNetServer((sk) => sockets.push(sk));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const agent = newAgent();
      // TLS never completes against a silent server, so the request stays in the connect phase.
      const p = get(`https://127.0.0.1:${port}/`, { agent, timeouts: { connect: 10_000 } });
      await new Promise((r) => setTimeout(r, 30));
      agent.destroy();
      expect(await codeOf(p)).toBe('ERR_ABORTED');
    } finally {
      for (const sk of sockets) sk.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('rejects bad URLs, protocols and header injection', async () => {
    expect(await codeOf(get('not a url'))).toBe('ERR_INVALID_URL');
    expect(await codeOf(get('ftp://127.0.0.1/'))).toBe('ERR_UNSUPPORTED_PROTOCOL');
    expect(await codeOf(get('http://127.0.0.1:1/', { headers: { 'x-a': 'v\r\nInjected: 1' } }))).toBe(
      'ERR_INVALID_HEADER',
    );
    expect(await codeOf(get('http://127.0.0.1:1/', { headers: [['bad name', 'v']] }))).toBe(
      'ERR_INVALID_HEADER',
    );
    await expect(request('http://127.0.0.1:1/', { method: 'GE T' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('passes socket errors through', async () => {
    const s = await startHttp(() => {});
    const port = s.port;
    await s.close();
    await expect(get(`http://127.0.0.1:${port}/`, { agent: newAgent() })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
