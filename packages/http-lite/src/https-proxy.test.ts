import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf, useAgents } from './__fixtures__/servers.js';
import { get, post } from './index.js';

// An https:// proxy: TLS to the proxy (its certificate checked against the proxy's host, trusting
// `proxyTls.ca`), then absolute-form requests or a CONNECT tunnel carrying the origin's own TLS.
// Proxy and origin have different self-signed certificates, so trusting one never trusts the other.

let origin = { cert: '', key: '' };
let proxy = { cert: '', key: '' };
/** A certificate for proxy.test only (not localhost, not 127.0.0.1). */
let elsewhere = { cert: '', key: '' };
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  origin = makeCert();
  proxy = makeCert();
  elsewhere = certFor('proxy.test');
});
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});
const newAgent = useAgents();

function certFor(name: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'http-lite-cert-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
        .concat(['-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`])
        .concat(['-addext', `subjectAltName=DNS:${name}`]),
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function listen<T extends Server>(server: T): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as { port: number }).port;
}

/** Origins that answer `scheme METHOD URL host body`. */
async function origins(): Promise<{ http: number; https: number }> {
  const answer = (scheme: string) => (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () =>
      res.end(`${scheme} ${req.method} ${req.url} ${req.headers.host} ${Buffer.concat(parts)}`),
    );
  };
  return {
    http: await listen(createServer(answer('http'))),
    https: await listen(createHttpsServer(origin, answer('https'))),
  };
}

interface ProxyLog {
  port: number;
  /** TLS connections the proxy accepted. */
  secure: number;
  connects: string[];
  forwards: string[];
  auth: (string | undefined)[];
}

/** An https:// forward proxy with CONNECT tunnels; every host goes to 127.0.0.1. */
async function startTlsProxy(
  pair: { cert: string; key: string },
  requireAuth: string | null = null,
): Promise<ProxyLog> {
  const log: ProxyLog = { port: 0, secure: 0, connects: [], forwards: [], auth: [] };
  const server: HttpsServer = createHttpsServer(pair);
  server.on('secureConnection', () => log.secure++);
  const denied = (auth: string | undefined) => requireAuth !== null && auth !== requireAuth;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
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
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const up = netConnect(Number(req.url!.slice(req.url!.lastIndexOf(':') + 1)), '127.0.0.1', () => {
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

type Caught = { code?: string; statusCode?: number; cause?: { code?: string } };

describe('https:// proxy', () => {
  it('tunnels https:// origins with TLS inside the proxy TLS, both checked, pooled', async () => {
    const o = await origins();
    const p = await startTlsProxy(proxy, 'Basic dTpw');
    const agent = newAgent({ proxy: `https://u:p@localhost:${p.port}`, proxyTls: { ca: proxy.cert } });
    for (let i = 0; i < 20; i++) {
      const res = await get(`https://localhost:${o.https}/${i}`, { agent, tls: { ca: origin.cert } });
      expect(await res.body.text()).toBe(`https GET /${i} localhost:${o.https} `);
    }
    const res = await post(`https://127.0.0.1:${o.https}/p`, 'body', { agent, tls: { ca: origin.cert } });
    expect(await res.body.text()).toBe(`https POST /p 127.0.0.1:${o.https} body`);
    expect(p.connects).toEqual([`localhost:${o.https}`, `127.0.0.1:${o.https}`]);
    expect(p.secure).toBe(2);
    expect(p.auth).toEqual(['Basic dTpw', 'Basic dTpw']);
  });

  it('sends http:// requests in absolute-form over TLS to the proxy, sharing its connection', async () => {
    const o = await origins();
    const p = await startTlsProxy(proxy, 'Basic dTpw');
    const agent = newAgent({ proxy: `https://u:p@127.0.0.1:${p.port}`, proxyTls: { ca: proxy.cert } });
    expect(await (await get(`http://127.0.0.1:${o.http}/a?b=1`, { agent })).body.text()).toBe(
      `http GET /a?b=1 127.0.0.1:${o.http} `,
    );
    expect(await (await post(`http://localhost:${o.http}/b`, 'x', { agent })).body.text()).toBe(
      `http POST /b localhost:${o.http} x`,
    );
    expect(p.forwards).toEqual([`GET http://127.0.0.1:${o.http}/a?b=1`, `POST http://localhost:${o.http}/b`]);
    expect(p.auth).toEqual(['Basic dTpw', 'Basic dTpw']);
    expect(p.secure).toBe(1);
    expect([...agent.stats().keys()]).toEqual([`proxy https://127.0.0.1:${p.port}`]);
  });

  it("checks the proxy's certificate against the proxy host (or proxyTls.servername) with proxyTls.ca", async () => {
    const o = await origins();
    const p = await startTlsProxy(elsewhere);
    const url = `https://127.0.0.1:${o.https}/`;
    const wrongName = newAgent({ proxy: `https://127.0.0.1:${p.port}`, proxyTls: { ca: elsewhere.cert } });
    const err = (await rejectionOf(get(url, { agent: wrongName, tls: { ca: origin.cert } }))) as Caught;
    expect(err.code).toBe('ERR_PROXY_CONNECT');
    expect(err.cause?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // The origin's CA does not vouch for the proxy: without proxyTls.ca, Node's roots are used.
    const untrusted = newAgent({ proxy: `https://127.0.0.1:${p.port}` });
    const err2 = (await rejectionOf(get(url, { agent: untrusted, tls: { ca: elsewhere.cert } }))) as Caught;
    expect(err2.code).toBe('ERR_PROXY_CONNECT');
    expect(err2.cause?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(p.connects).toEqual([]);
    const named = newAgent({
      proxy: `https://127.0.0.1:${p.port}`,
      proxyTls: { ca: elsewhere.cert, servername: 'proxy.test' },
    });
    expect(await (await get(url, { agent: named, tls: { ca: origin.cert } })).body.text()).toBe(
      `https GET / 127.0.0.1:${o.https} `,
    );
  });

  it("checks the origin's certificate against the origin name inside the tunnel", async () => {
    const o = await origins();
    const p = await startTlsProxy(proxy);
    const agent = newAgent({ proxy: `https://localhost:${p.port}`, proxyTls: { ca: proxy.cert } });
    // The proxy's CA is not the origin's.
    // ERR_TLS_UPGRADE is the core's error, as for a tunnel through an http:// proxy.
    const err = (await get(`https://localhost:${o.https}/`, { agent, tls: { ca: proxy.cert } }).catch(
      (e: unknown) => e,
    )) as Caught;
    expect(err.code).toBe('ERR_TLS_UPGRADE');
    expect(err.cause?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    const err2 = (await get(`https://wrong.test:${o.https}/`, { agent, tls: { ca: origin.cert } }).catch(
      (e: unknown) => e,
    )) as Caught;
    expect(err2.cause?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(p.connects).toEqual([`localhost:${o.https}`, `wrong.test:${o.https}`]);
  });

  it('fails a 407 CONNECT reply with ERR_PROXY_AUTH_REQUIRED, never showing the credentials', async () => {
    const o = await origins();
    const p = await startTlsProxy(proxy, 'Basic b3RoZXI6b3RoZXI=');
    const agent = newAgent({
      proxy: `https://alice:s3cr3t@localhost:${p.port}`,
      proxyTls: { ca: proxy.cert },
    });
    const err = await rejectionOf(get(`https://localhost:${o.https}/`, { agent, tls: { ca: origin.cert } }));
    expect(err.code).toBe('ERR_PROXY_AUTH_REQUIRED');
    expect(err.statusCode).toBe(407);
    expect(`${err.message} ${err.stack}`).not.toMatch(/alice|s3cr3t/);
    expect(err.message).toContain(`https://localhost:${p.port}`);
  });

  it('fails with ERR_CONNECT_TIMEOUT when the proxy never finishes its TLS handshake, and frees the socket', async () => {
    let accepted = 0;
    const silent = new Set<Socket>();
    const port = await listen(
      createNetServer((s) => {
        accepted++;
        silent.add(s);
        // Read (and ignore) the ClientHello: a socket with unread bytes never reports the client's FIN.
        s.resume();
        s.on('close', () => silent.delete(s));
      }),
    );
    const agent = newAgent({ proxy: `https://localhost:${port}` });
    for (const url of ['https://localhost:1/', 'http://localhost:1/']) {
      const err = await rejectionOf(get(url, { agent, timeouts: { connect: 150 } }));
      expect(err.code).toBe('ERR_CONNECT_TIMEOUT');
    }
    expect(accepted).toBe(2);
    await expect.poll(() => silent.size).toBe(0);
  });

  it('fails with ERR_PROXY_CONNECT when the proxy closes, resets or answers garbage inside its TLS during CONNECT', async () => {
    const behaviours: ((s: TLSSocket) => void)[] = [
      (s) => s.end(),
      (s) => s.destroy(),
      (s) => s.end('SSH-2.0-OpenSSH\r\n'),
      (s) => s.write('HTTP/1.1 200 OK\r\n\r\nearly bytes'),
    ];
    const reasons: string[] = [];
    for (const behave of behaviours) {
      const server = createTlsServer(proxy, (s) => {
        s.on('error', () => {});
        s.once('data', () => behave(s));
      });
      const port = await listen(server);
      const agent = newAgent({ proxy: `https://localhost:${port}`, proxyTls: { ca: proxy.cert } });
      const err = await rejectionOf(get('https://localhost:1/', { agent, tls: { ca: origin.cert } }));
      expect(err.code).toBe('ERR_PROXY_CONNECT');
      reasons.push(err.message);
      expect(agent.stats().size).toBe(0);
    }
    expect(reasons[0]).toContain('closed the connection during CONNECT');
    expect(reasons[2]).toContain('invalid reply to CONNECT');
    expect(reasons[3]).toContain('bytes after its 200 reply');
  });

  it("reads an https:// https_proxy with proxy: 'env', using proxyTls for it", async () => {
    const o = await origins();
    const p = await startTlsProxy(proxy);
    const saved = { https_proxy: process.env.https_proxy, http_proxy: process.env.http_proxy };
    process.env.https_proxy = `https://localhost:${p.port}`;
    delete process.env.http_proxy;
    try {
      const agent = newAgent({ proxy: 'env', proxyTls: { ca: proxy.cert } });
      const res = await get(`https://127.0.0.1:${o.https}/env`, { agent, tls: { ca: origin.cert } });
      expect(await res.body.text()).toBe(`https GET /env 127.0.0.1:${o.https} `);
      // No http_proxy: http:// goes direct.
      expect((await get(`http://127.0.0.1:${o.http}/`, { agent })).status).toBe(200);
      expect(p.connects).toEqual([`127.0.0.1:${o.https}`]);
      expect(p.forwards).toEqual([]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('refuses proxy URLs of other schemes with ERR_UNSUPPORTED_PROTOCOL', () => {
    expect(() => newAgent({ proxy: 'socks5://127.0.0.1:1080' })).toThrow(/only http: and https: proxies/);
  });
});
