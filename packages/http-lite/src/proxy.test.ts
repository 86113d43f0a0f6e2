import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createNetServer,
  type Server as NetServer,
  connect as netConnect,
  type Socket,
} from 'node:net';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent, get, HttpError, post } from './index.js';

let cert = '';
let key = '';
const closers: (() => Promise<void>)[] = [];
const agents: Agent[] = [];

beforeAll(() => {
  ({ cert, key } = makeCert());
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  for (const c of closers.splice(0)) await c();
});

function track<T extends Server | NetServer>(server: T, sockets: Set<Socket>): T {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return server;
}

async function listen(server: Server | NetServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** Origins that answer `scheme METHOD URL host`. */
async function origins(): Promise<{ http: number; https: number }> {
  const answer = (scheme: string) => (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () =>
      res.end(`${scheme} ${req.method} ${req.url} ${req.headers.host} ${Buffer.concat(parts)}`),
    );
  };
  const h = track(createServer(answer('http')), new Set());
  const s = track(createHttpsServer({ cert, key }, answer('https')) as unknown as Server, new Set());
  return { http: await listen(h), https: await listen(s) };
}

interface ProxyLog {
  connects: string[];
  forwards: string[];
  auth: (string | undefined)[];
  port: number;
}

/** A forward proxy (absolute-form requests) with CONNECT tunnels; every host goes to 127.0.0.1. */
async function startProxy(requireAuth: string | null = null): Promise<ProxyLog> {
  const log: ProxyLog = { connects: [], forwards: [], auth: [], port: 0 };
  const server = track(createServer(), new Set());
  const denied = (auth: string | undefined) => requireAuth !== null && auth !== requireAuth;
  server.on('request', (req, res) => {
    log.forwards.push(`${req.method} ${req.url}`);
    log.auth.push(req.headers['proxy-authorization']);
    if (denied(req.headers['proxy-authorization'])) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic' }).end();
      return;
    }
    const u = new URL(req.url!);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = httpRequest(
      { host: '127.0.0.1', port: u.port, method: req.method, path: u.pathname + u.search, headers },
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    log.connects.push(req.url!);
    log.auth.push(req.headers['proxy-authorization']);
    if (denied(req.headers['proxy-authorization'])) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const port = Number(req.url!.slice(req.url!.lastIndexOf(':') + 1));
    const up = netConnect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  log.port = await listen(server);
  return log;
}

/** A raw TCP "proxy" whose behaviour the test writes. */
async function rawProxy(onSocket: (s: Socket) => void): Promise<number> {
  const server = track(createNetServer(onSocket), new Set());
  return listen(server);
}

function agentFor(proxy: string, options: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  const a = new Agent({ ...options, proxy });
  agents.push(a);
  return a;
}

describe('proxy', () => {
  it('sends http:// requests in absolute-form with Proxy-Authorization, sharing connections across origins', async () => {
    const o = await origins();
    const p = await startProxy('Basic dXNlcjpwIHc=');
    const agent = agentFor(`http://user:p%20w@127.0.0.1:${p.port}`);
    const res = await get(`http://127.0.0.1:${o.http}/a?b=1`, { agent });
    expect(await res.body.text()).toBe(`http GET /a?b=1 127.0.0.1:${o.http} `);
    const res2 = await post(`http://localhost:${o.http}/p`, 'body', { agent });
    expect(await res2.body.text()).toBe(`http POST /p localhost:${o.http} body`);
    expect(p.forwards).toEqual([`GET http://127.0.0.1:${o.http}/a?b=1`, `POST http://localhost:${o.http}/p`]);
    expect(p.auth).toEqual(['Basic dXNlcjpwIHc=', 'Basic dXNlcjpwIHc=']);
    expect([...agent.stats().keys()]).toEqual([`proxy http://127.0.0.1:${p.port}`]);
  });

  it('tunnels https:// through CONNECT, verifies the origin certificate, and pools: 100 requests reuse connections', async () => {
    const o = await origins();
    const p = await startProxy('Basic dTpw');
    const agent = agentFor(`http://u:p@127.0.0.1:${p.port}`, { connections: 4 });
    const all = await Promise.all(
      Array.from({ length: 100 }, async (_, i) =>
        (await get(`https://localhost:${o.https}/${i}`, { agent, tls: { ca: cert } })).body.text(),
      ),
    );
    expect(all[7]).toBe(`https GET /7 localhost:${o.https} `);
    expect(p.connects.length).toBeGreaterThanOrEqual(1);
    expect(p.connects.length).toBeLessThanOrEqual(4);
    expect(new Set(p.connects)).toEqual(new Set([`localhost:${o.https}`]));
    expect(p.auth.every((a) => a === 'Basic dTpw')).toBe(true);
  });

  it('checks the certificate against the origin name, not the proxy', async () => {
    const o = await origins();
    const p = await startProxy();
    const agent = agentFor(`http://127.0.0.1:${p.port}`);
    // The proxy sends every host to 127.0.0.1, whose certificate names localhost and 127.0.0.1 only.
    const err = await get(`https://wrong.test:${o.https}/`, { agent, tls: { ca: cert } }).catch(
      (e: unknown) => e,
    );
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(p.connects).toEqual([`wrong.test:${o.https}`]);
    // IP literal origins are checked against the IP SAN.
    expect(
      await (await get(`https://127.0.0.1:${o.https}/ip`, { agent, tls: { ca: cert } })).body.text(),
    ).toBe(`https GET /ip 127.0.0.1:${o.https} `);
  });

  it('fails a 407 CONNECT reply with ERR_PROXY_AUTH_REQUIRED and status, never showing credentials', async () => {
    const o = await origins();
    const p = await startProxy('Basic c29tZXRoaW5nOmVsc2U=');
    const agent = agentFor(`http://alice:s3cr3t@127.0.0.1:${p.port}`);
    const err = (await get(`https://localhost:${o.https}/`, { agent, tls: { ca: cert } }).catch(
      (e: unknown) => e,
    )) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.code).toBe('ERR_PROXY_AUTH_REQUIRED');
    expect(err.statusCode).toBe(407);
    const shown = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
    expect(shown).not.toContain('s3cr3t');
    expect(shown).not.toContain('alice');
    // http:// through a forward proxy: the 407 is the response.
    const res = await get(`http://127.0.0.1:${o.http}/`, { agent });
    expect(res.status).toBe(407);
    await res.body.dump();
  });

  it('fails a non-2xx CONNECT reply with ERR_PROXY_CONNECT carrying the status', async () => {
    const port = await rawProxy((s) => {
      s.once('data', () => s.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad'));
    });
    const agent = agentFor(`http://127.0.0.1:${port}`);
    const err = (await get('https://localhost:1/', { agent }).catch((e: unknown) => e)) as HttpError;
    expect(err.code).toBe('ERR_PROXY_CONNECT');
    expect(err.statusCode).toBe(502);
    expect(err.message).toContain('502');
    expect(agent.stats().size).toBe(0);
  });

  it('survives hostile proxies: close mid-CONNECT, garbage, extra bytes, 200 then reset', async () => {
    const cases: [string, (s: Socket) => void, RegExp][] = [
      [
        'close mid-CONNECT',
        (s) => s.once('data', () => s.end('HTTP/1.1 200 Conn')),
        /closed the connection during CONNECT/,
      ],
      [
        'reset mid-CONNECT',
        (s) => s.once('data', () => s.resetAndDestroy()),
        /connection lost during CONNECT|closed/,
      ],
      [
        'garbage',
        (s) => s.once('data', () => s.write('SSH-2.0-OpenSSH_9.0\r\n\r\n')),
        /invalid reply to CONNECT/,
      ],
      [
        'bytes after 200',
        (s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\n\r\nHELLO')),
        /sent 5 bytes after its 200 reply/,
      ],
    ];
    for (const [name, behave, message] of cases) {
      const port = await rawProxy(behave);
      const agent = agentFor(`http://u:topsecret@127.0.0.1:${port}`);
      const err = (await get('https://localhost:9/', { agent }).catch((e: unknown) => e)) as HttpError;
      expect(err.code, name).toBe('ERR_PROXY_CONNECT');
      expect(err.message, name).toMatch(message);
      expect(`${err.message}${err.stack}`, name).not.toContain('topsecret');
      expect(agent.stats().size, name).toBe(0);
    }
    // 200, then a reset during the TLS handshake: a connection error, not a hang.
    const port = await rawProxy((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\n\r\n');
        s.once('data', () => s.resetAndDestroy());
      }),
    );
    const agent = agentFor(`http://127.0.0.1:${port}`);
    await expect(get('https://localhost:9/', { agent, tls: { ca: cert } })).rejects.toThrow();
    expect(agent.stats().size).toBe(0);
  });

  it('tunnels whatever the split point of the CONNECT reply, and fails a reply cut at any point', async () => {
    const o = await origins();
    const reply = 'HTTP/1.1 200 Connection Established\r\n\r\n';
    let split = 0;
    let cut = false;
    const port = await rawProxy((s) => {
      s.setNoDelay(true);
      s.once('data', () => {
        const at = split;
        s.write(reply.slice(0, at));
        setTimeout(() => {
          if (cut) {
            s.resetAndDestroy();
            return;
          }
          const up = netConnect(o.https, '127.0.0.1', () => {
            s.write(reply.slice(at));
            up.pipe(s);
            s.pipe(up);
          });
          up.on('error', () => s.destroy());
          s.on('error', () => up.destroy());
        }, 2);
      });
    });
    for (split = 1; split < reply.length; split++) {
      cut = false;
      const agent = agentFor(`http://127.0.0.1:${port}`);
      const res = await get(`https://localhost:${o.https}/${split}`, { agent, tls: { ca: cert } });
      expect(await res.body.text(), `split at ${split}`).toBe(`https GET /${split} localhost:${o.https} `);
      cut = true;
      const err = (await get(`https://localhost:${o.https}/`, {
        agent: agentFor(`http://127.0.0.1:${port}`),
      }).catch((e: unknown) => e)) as HttpError;
      expect(err.code, `reset after ${split} bytes`).toBe('ERR_PROXY_CONNECT');
      expect(err.message, `reset after ${split} bytes`).toMatch(/during CONNECT/);
    }
  });

  it('times a proxy that never answers CONNECT out as ERR_CONNECT_TIMEOUT', async () => {
    const port = await rawProxy(() => {});
    const agent = agentFor(`http://127.0.0.1:${port}`);
    const err = (await get('https://localhost:9/', { agent, timeouts: { connect: 150 } }).catch(
      (e: unknown) => e,
    )) as HttpError;
    expect(err.code).toBe('ERR_CONNECT_TIMEOUT');
    expect(err.message).toContain(`via proxy http://127.0.0.1:${port}`);
  });

  it('rejects bad proxy URLs without echoing credentials', () => {
    // https:// proxies are supported (https-proxy.test.ts); other schemes are refused without the password.
    expect(() => new Agent({ proxy: 'socks5://u:hunter2@127.0.0.1:1' })).toThrow(
      /unsupported proxy protocol/,
    );
    expect(() => new Agent({ proxy: 'socks5://u:hunter2@127.0.0.1:1' })).not.toThrow(/hunter2/);
    try {
      new Agent({ proxy: 'http://u:hunter2@exa mple:1' });
      expect.unreachable();
    } catch (err) {
      expect((err as HttpError).code).toBe('ERR_INVALID_URL');
      expect(`${(err as Error).message}${JSON.stringify((err as Error).cause)}`).not.toContain('hunter2');
    }
  });
});

describe("proxy: 'env'", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('reads HTTP_PROXY/HTTPS_PROXY and goes direct for NO_PROXY hosts', async () => {
    const o = await origins();
    const p = await startProxy();
    process.env.HTTP_PROXY = `http://127.0.0.1:${p.port}`;
    process.env.https_proxy = `http://127.0.0.1:${p.port}`;
    process.env.NO_PROXY = `example.com, 127.0.0.1:${o.http}`;
    const agent = agentFor('env');
    await (await get(`http://localhost:${o.http}/via`, { agent })).body.dump();
    await (await get(`http://127.0.0.1:${o.http}/direct`, { agent })).body.dump();
    await (await get(`https://127.0.0.1:${o.https}/tunnel`, { agent, tls: { ca: cert } })).body.dump();
    expect(p.forwards).toEqual([`GET http://localhost:${o.http}/via`]);
    expect(p.connects).toEqual([`127.0.0.1:${o.https}`]);
  });

  it('goes direct with no variables set', async () => {
    const o = await origins();
    for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete process.env[k];
    const agent = agentFor('env');
    expect((await get(`http://127.0.0.1:${o.http}/`, { agent })).status).toBe(200);
  });
});
