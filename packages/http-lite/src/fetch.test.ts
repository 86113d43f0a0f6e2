import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startHttp } from './__fixtures__/servers.js';
import { Agent, fetch } from './index.js';

// WPT-style cases (after fetch/api/redirect, fetch/api/headers, fetch/api/body, fetch/api/abort), against a
// node:http server on loopback. `/echo` answers JSON describing the request it got.
let server: Running;
let base = '';
const agent = new Agent();

function route(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const u = new URL(req.url!, 'http://x');
  const p = u.pathname;
  const status = Number(u.searchParams.get('status') ?? 302);
  if (p === '/echo') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString('latin1') }));
  } else if (p === '/redirect')
    res.writeHead(status, { location: u.searchParams.get('to') ?? '/echo' }).end('moved');
  else if (p === '/loop') res.writeHead(302, { location: '/loop' }).end();
  else if (p === '/cookies') {
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.setHeader('x-dup', ['1', '2']);
    res.end('c');
  } else if (p === '/empty') res.writeHead(204).end();
  else if (p === '/gzip') res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('decoded text'));
  else if (p === '/slow-head') setTimeout(() => res.end('late'), 2000);
  else if (p === '/slow-body') {
    res.write('first');
    setTimeout(() => res.end('rest'), 2000);
  } else res.end('ok');
}

beforeAll(async () => {
  server = await startHttp((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => route(req, res, Buffer.concat(parts)));
  });
  base = server.origin;
});
afterAll(async () => {
  agent.destroy();
  await server.close();
});

interface Echo {
  method: string;
  headers: Record<string, string>;
  body: string;
}
const echo = async (res: Response) => (await res.json()) as Echo;

describe('fetch: redirect modes', () => {
  const cases: [string, number, string, string, string, boolean][] = [
    // [name, status, request method, expected method, expected body, body kept]
    ['301 POST becomes GET', 301, 'POST', 'GET', '', false],
    ['302 POST becomes GET', 302, 'POST', 'GET', '', false],
    ['303 PUT becomes GET', 303, 'PUT', 'GET', '', false],
    ['307 keeps POST and body', 307, 'POST', 'POST', 'data', true],
    ['308 keeps PUT and body', 308, 'PUT', 'PUT', 'data', true],
  ];
  it.each(cases)('follow: %s', async (_n, status, method, expMethod, expBody) => {
    const res = await fetch(`${base}/redirect?status=${status}`, { method, body: 'data', agent });
    expect(res.redirected).toBe(true);
    expect(res.url).toBe(`${base}/echo`);
    const e = await echo(res);
    expect(e.method).toBe(expMethod);
    expect(e.body).toBe(expBody);
  });

  it('manual: returns the 3xx itself with its Location', async () => {
    const res = await fetch(`${base}/redirect?status=302`, { redirect: 'manual', agent });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/echo');
    expect(res.redirected).toBe(false);
    expect(await res.text()).toBe('moved');
  });

  it('error: rejects with a TypeError on a redirect', async () => {
    await expect(fetch(`${base}/redirect?status=301`, { redirect: 'error', agent })).rejects.toThrow(
      TypeError,
    );
  });

  it('follow: more than 20 redirects is a network error', async () => {
    const err = await fetch(`${base}/loop`, { agent }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(((err as TypeError).cause as { code: string }).code).toBe('ERR_TOO_MANY_REDIRECTS');
  });
});

describe('fetch: headers', () => {
  const bodies: [string, () => RequestInit['body'], string | undefined][] = [
    ['string', () => 'x', 'text/plain;charset=UTF-8'],
    [
      'URLSearchParams',
      () => new URLSearchParams({ a: '1', b: 'two words' }),
      'application/x-www-form-urlencoded;charset=UTF-8',
    ],
    ['Blob with a type', () => new Blob(['<p/>'], { type: 'text/html' }), 'text/html'],
    ['Uint8Array', () => new Uint8Array([1, 2]), undefined],
    ['ArrayBuffer', () => new Uint8Array([1, 2]).buffer, undefined],
  ];
  it.each(bodies)('sets the default Content-Type of a %s body', async (_n, make, type) => {
    const e = await echo(await fetch(`${base}/echo`, { method: 'POST', body: make(), agent }));
    expect(e.headers['content-type']).toBe(type);
  });

  it('keeps an explicit Content-Type, sends Accept */* and the caller fields', async () => {
    const e = await echo(
      await fetch(`${base}/echo`, {
        method: 'POST',
        body: 'x',
        headers: { 'content-type': 'text/x', 'x-a': 'b' },
        agent,
      }),
    );
    expect(e.headers['content-type']).toBe('text/x');
    expect(e.headers.accept).toBe('*/*');
    expect(e.headers['x-a']).toBe('b');
    expect(e.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('serializes FormData as multipart with its boundary', async () => {
    const fd = new FormData();
    fd.set('field', 'value');
    const e = await echo(await fetch(`${base}/echo`, { method: 'POST', body: fd, agent }));
    expect(e.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(e.body).toContain('name="field"');
  });

  it('exposes repeated fields: Set-Cookie apart, others joined', async () => {
    const res = await fetch(`${base}/cookies`, { agent });
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.headers.get('x-dup')).toBe('1, 2');
    await res.text();
  });

  it('takes method, headers and body from a Request', async () => {
    const r = new Request(`${base}/echo`, { method: 'PUT', headers: { 'x-r': '1' }, body: 'from request' });
    const e = await echo(await fetch(r, { agent }));
    expect(e).toMatchObject({ method: 'PUT', body: 'from request' });
    expect(e.headers['x-r']).toBe('1');
  });

  it('rejects GET with a body and a stream body without duplex', async () => {
    await expect(fetch(`${base}/echo`, { body: 'x', agent })).rejects.toThrow(TypeError);
    const stream = new ReadableStream({ start: (c) => c.close() });
    await expect(fetch(`${base}/echo`, { method: 'POST', body: stream, agent })).rejects.toThrow(/duplex/);
  });
});

describe('fetch: body mixins', () => {
  it('text, json, arrayBuffer, blob; a body is used once', async () => {
    expect(await (await fetch(`${base}/`, { agent })).text()).toBe('ok');
    expect((await (await fetch(`${base}/echo`, { agent })).json()) as Echo).toMatchObject({ method: 'GET' });
    expect(new Uint8Array(await (await fetch(`${base}/`, { agent })).arrayBuffer())).toEqual(
      new Uint8Array([111, 107]),
    );
    expect(await (await (await fetch(`${base}/`, { agent })).blob()).text()).toBe('ok');
    const res = await fetch(`${base}/`, { agent });
    await res.text();
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  it('streams the body through a reader', async () => {
    const reader = (await fetch(`${base}/`, { agent })).body!.getReader();
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(Buffer.concat(chunks).toString()).toBe('ok');
  });

  it('has a null body for HEAD and 204', async () => {
    expect((await fetch(`${base}/`, { method: 'HEAD', agent })).body).toBeNull();
    const res = await fetch(`${base}/empty`, { agent });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });

  it('decodes gzip as browsers do, keeping Content-Encoding', async () => {
    const res = await fetch(`${base}/gzip`, { agent });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(await res.text()).toBe('decoded text');
  });

  it("sends a stream body with duplex: 'half'", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('stre'));
        c.enqueue(new TextEncoder().encode('amed'));
        c.close();
      },
    });
    const e = await echo(
      await fetch(`${base}/echo`, { method: 'POST', body: stream, duplex: 'half', agent }),
    );
    expect(e.body).toBe('streamed');
    expect(e.headers['transfer-encoding']).toBe('chunked');
  });
});

describe('fetch: abort', () => {
  it('rejects at once with the reason of an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await fetch(`${base}/`, { signal: ac.signal, agent }).catch((e: unknown) => e);
    expect((err as DOMException).name).toBe('AbortError');
  });

  it('rejects with the reason while waiting for the head', async () => {
    const ac = new AbortController();
    const reason = new Error('custom reason');
    setTimeout(() => ac.abort(reason), 50);
    await expect(fetch(`${base}/slow-head`, { signal: ac.signal, agent })).rejects.toBe(reason);
  });

  it('errors the body stream with the reason while reading it', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base}/slow-body`, { signal: ac.signal, agent });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first');
    ac.abort();
    const err = await reader.read().catch((e: unknown) => e);
    expect((err as DOMException).name).toBe('AbortError');
  });

  it('is a TypeError with the socket error as cause when the connection fails', async () => {
    const err = await fetch('http://127.0.0.1:1/', { agent }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toBe('fetch failed');
    expect(((err as TypeError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
