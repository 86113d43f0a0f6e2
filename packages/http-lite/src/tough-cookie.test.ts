import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCert } from '@asyncnet-internal/test-support';
import { CookieJar } from 'tough-cookie';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useAgents } from './__fixtures__/servers.js';
import { get, type RequestOptions } from './index.js';

// A real tough-cookie jar against node:http servers. The servers listen on Unix sockets so that any host
// name (www.example.com, api.example.com, example.org) reaches them: the URL still gives Host and the jar's URL,
// which is what Domain, Path and Secure are matched against.

let dir = '';
let cert = '';
let key = '';
const servers: Server[] = [];

beforeAll(() => {
  ({ cert, key } = makeCert());
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'http-lite-cookies-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});
const newAgent = useAgents();

interface Seen {
  host: string | undefined;
  url: string | undefined;
  cookie: string | undefined;
}

/** Listens on a fresh Unix socket; every request's Host, path and Cookie land in `seen`. */
async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  secure = false,
): Promise<{ path: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = secure ? createHttpsServer({ cert, key }) : createServer();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ host: req.headers.host, url: req.url, cookie: req.headers.cookie });
    handler(req, res);
  });
  const path = join(dir, `${servers.length}.sock`);
  await new Promise<void>((r) => server.listen(path, r));
  servers.push(server);
  return { path, seen };
}

/** The body of a GET through `socketPath` with `jar`. */
async function text(url: string, socketPath: string, jar: CookieJar, options: RequestOptions = {}) {
  const res = await get(url, { agent: newAgent(), socketPath, cookieJar: jar, ...options });
  return res.body.text();
}

describe('cookieJar with tough-cookie', () => {
  it('keeps Set-Cookie across a redirect chain that changes host, by Domain and host-only rules', async () => {
    const { path, seen } = await listen((req, res) => {
      const at = `${req.headers.host}${req.url}`;
      if (at === 'www.example.com/login')
        res
          .writeHead(302, {
            location: 'http://api.example.com/start',
            'set-cookie': ['sid=1; Domain=example.com', 'host=www', 'evil=1; Domain=example.org'],
          })
          .end();
      else if (at === 'api.example.com/start')
        res.writeHead(303, { location: '/done', 'set-cookie': 'api=2; Path=/' }).end();
      else res.end('done');
    });
    const jar = new CookieJar();
    const agent = newAgent();
    const res = await get('http://www.example.com/login', {
      agent,
      socketPath: path,
      cookieJar: jar,
      maxRedirects: 5,
      headers: { cookie: 'mine=1' },
    });
    expect(await res.body.text()).toBe('done');
    expect(res.url).toBe('http://api.example.com/done');
    expect(seen).toEqual([
      { host: 'www.example.com', url: '/login', cookie: 'mine=1' },
      // Another origin: the caller's own Cookie is dropped, the jar's Domain=example.com cookie is sent.
      { host: 'api.example.com', url: '/start', cookie: 'sid=1' },
      { host: 'api.example.com', url: '/done', cookie: 'sid=1; api=2' },
    ]);
    // The host-only cookie stays with www; Domain=example.org from www.example.com was refused.
    expect(await jar.getCookieString('http://www.example.com/')).toBe('sid=1; host=www');
    expect(await jar.getCookieString('http://example.org/')).toBe('');
  });

  it('sends a Path cookie only under its path', async () => {
    const { path, seen } = await listen((req, res) => {
      if (req.url === '/app/login') res.writeHead(200, { 'set-cookie': 'p=1; Path=/app' }).end('ok');
      else res.end('ok');
    });
    const jar = new CookieJar();
    for (const p of ['/app/login', '/app/x', '/application', '/other'])
      await text(`http://www.example.com${p}`, path, jar);
    expect(seen.map((s) => [s.url, s.cookie])).toEqual([
      ['/app/login', undefined],
      ['/app/x', 'p=1'],
      ['/application', undefined],
      ['/other', undefined],
    ]);
  });

  it('sends a Secure cookie over https only, and refuses one set over http', async () => {
    const tls = await listen((req, res) => {
      if (req.url === '/set') res.writeHead(200, { 'set-cookie': 's=1; Secure' }).end('ok');
      else res.end('ok');
    }, true);
    const plain = await listen((req, res) => {
      if (req.url === '/set') res.writeHead(200, { 'set-cookie': 'p=1; Secure' }).end('ok');
      else res.end('ok');
    });
    const jar = new CookieJar();
    const tlsOptions: RequestOptions = { tls: { ca: cert, servername: 'localhost' } };
    await text('https://www.example.com/set', tls.path, jar, tlsOptions);
    await text('https://www.example.com/read', tls.path, jar, tlsOptions);
    await text('http://www.example.com/set', plain.path, jar);
    await text('http://www.example.com/read', plain.path, jar);
    expect(tls.seen.map((s) => s.cookie)).toEqual([undefined, 's=1']);
    expect(plain.seen.map((s) => s.cookie)).toEqual([undefined, undefined]);
    expect(await jar.getCookieString('https://www.example.com/')).toBe('s=1');
  });

  it('forgets cookies that expire (Max-Age=0, an Expires in the past) and keeps the others', async () => {
    let step = 0;
    const { path, seen } = await listen((_req, res) => {
      step++;
      if (step === 1)
        res.writeHead(200, { 'set-cookie': ['keep=1; Max-Age=3600', 'a=1', 'b=1', 'never=1; Max-Age=0'] });
      else if (step === 2)
        res.writeHead(200, { 'set-cookie': ['a=; Max-Age=0', 'b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT'] });
      res.end('ok');
    });
    const jar = new CookieJar();
    for (let i = 0; i < 3; i++) await text('http://www.example.com/', path, jar);
    expect(seen.map((s) => s.cookie)).toEqual([undefined, 'keep=1; a=1; b=1', 'keep=1']);
  });

  it('stores the cookies of 307 and 308 hops and sends them on the next hop', async () => {
    const { path, seen } = await listen((req, res) => {
      if (req.url === '/a') res.writeHead(307, { location: '/b', 'set-cookie': 'one=1' }).end();
      else if (req.url === '/b') res.writeHead(308, { location: '/c', 'set-cookie': 'two=2' }).end();
      else res.end(String(req.headers.cookie));
    });
    const jar = new CookieJar();
    const res = await get('http://www.example.com/a', {
      agent: newAgent({ socketPath: path }),
      cookieJar: jar,
      maxRedirects: 5,
    });
    expect(await res.body.text()).toBe('one=1; two=2');
    expect(seen.map((s) => s.cookie)).toEqual([undefined, 'one=1', 'one=1; two=2']);
  });
});
