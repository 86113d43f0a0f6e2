import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuplexTransport, openTransport } from '@asyncnet/streams/adapter';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type ConnectTarget, fetch, get, HttpError, post, request } from './index.js';

let dir = '';
const servers: Server[] = [];
const agents: Agent[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'http-lite-unix-'));
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A node:http server on a Unix socket that answers `METHOD URL host body` and counts its connections. */
async function listenUnix(
  name: string,
  server: Server = createServer(),
): Promise<{ path: string; accepted: () => number }> {
  let accepted = 0;
  server.on('request', (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () =>
      res.end(`${name} ${req.method} ${req.url} ${req.headers.host} ${Buffer.concat(parts)}`),
    );
  });
  server.on('connection', () => accepted++);
  const path = join(dir, `${name}.sock`);
  await new Promise<void>((r) => server.listen(path, r));
  servers.push(server);
  return { path, accepted: () => accepted };
}

describe('unix sockets', () => {
  it('sends a request over the socketPath of the request, with the URL host in Host', async () => {
    const { path } = await listenUnix('a');
    const agent = new Agent();
    agents.push(agent);
    const res = await get('http://docker/v1/info?x=1', { agent, socketPath: path });
    expect(res.status).toBe(200);
    expect(await res.body.text()).toBe('a GET /v1/info?x=1 docker ');
  });

  it('pools per socket path: two paths never share a connection, one path reuses its own', async () => {
    const a = await listenUnix('a');
    const b = await listenUnix('b');
    const agent = new Agent();
    agents.push(agent);
    for (let i = 0; i < 3; i++) {
      expect(await (await get('http://localhost/', { agent, socketPath: a.path })).body.text()).toMatch(
        /^a /,
      );
      expect(await (await post('http://localhost/p', 'x', { agent, socketPath: b.path })).body.text()).toBe(
        'b POST /p localhost x',
      );
    }
    expect(a.accepted()).toBe(1);
    expect(b.accepted()).toBe(1);
    const keys = [...agent.stats().keys()];
    expect(keys).toContain(`http://localhost:80|unix:${a.path}`);
    expect(keys).toContain(`http://localhost:80|unix:${b.path}`);
  });

  it('uses the Agent socketPath for every request, and a request socketPath wins over it', async () => {
    const a = await listenUnix('a');
    const b = await listenUnix('b');
    const agent = new Agent({ socketPath: a.path });
    agents.push(agent);
    expect(await (await get('http://h1/', { agent })).body.text()).toBe('a GET / h1 ');
    expect(await (await get('http://h2:8080/', { agent })).body.text()).toBe('a GET / h2:8080 ');
    expect(await (await get('http://h1/', { agent, socketPath: b.path })).body.text()).toBe('b GET / h1 ');
  });

  it('speaks TLS over a Unix socket, checking the certificate against the URL host', async () => {
    const { cert, key } = makeCert();
    const { path } = await listenUnix('tls', createHttpsServer({ cert, key }) as unknown as Server);
    const agent = new Agent({ socketPath: path });
    agents.push(agent);
    const res = await get('https://localhost/', { agent, tls: { ca: cert } });
    expect(await res.body.text()).toBe('tls GET / localhost ');
    await expect(get('https://other.example/', { agent, tls: { ca: cert } })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('carries fetch() through an Agent with a socketPath', async () => {
    const { path } = await listenUnix('f');
    const agent = new Agent({ socketPath: path });
    agents.push(agent);
    const res = await fetch('http://docker/containers/json', { method: 'POST', body: 'q', agent });
    expect(await res.text()).toBe('f POST /containers/json docker q');
  });

  it('fails with the socket error when nothing listens at the path', async () => {
    const err = await get('http://localhost/', { socketPath: join(dir, 'none.sock') }).catch(
      (e: unknown) => e,
    );
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('rejects more than one of socketPath, connect and proxy', () => {
    expect(() => new Agent({ socketPath: '/x', proxy: 'http://127.0.0.1:1' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new Agent({ socketPath: '/x', connect: async () => openTransport('127.0.0.1', 1) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('connect option', () => {
  it('opens connections with the function, once per pooled connection, with the target and a signal', async () => {
    const { path } = await listenUnix('c');
    const seen: ConnectTarget[] = [];
    const agent = new Agent({
      connect: async (target, signal) => {
        seen.push(target);
        expect(signal).toBeInstanceOf(AbortSignal);
        // Any Duplex can carry the connection.
        return new DuplexTransport(netConnect(path));
      },
    });
    agents.push(agent);
    for (let i = 0; i < 3; i++)
      expect(await (await get('http://api.local:81/x', { agent })).body.text()).toBe(
        'c GET /x api.local:81 ',
      );
    expect(seen).toEqual([{ protocol: 'http:', hostname: 'api.local', port: 81, tls: null }]);
  });

  it('reports a connect function that never settles as ERR_CONNECT_TIMEOUT and frees the slot', async () => {
    const agent = new Agent({ connect: () => new Promise(() => {}), connections: 1 });
    agents.push(agent);
    const err = await request('http://x/', { agent, timeouts: { connect: 100 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).code).toBe('ERR_CONNECT_TIMEOUT');
    expect(agent.stats().size).toBe(0);
  });

  it('passes a rejection through and aborts a transport that arrives after an abort', async () => {
    const { path } = await listenUnix('d');
    const agent = new Agent({ connect: async () => Promise.reject(new Error('no route')) });
    agents.push(agent);
    await expect(get('http://x/', { agent })).rejects.toThrow('no route');
    let late: DuplexTransport | null = null;
    let arrive: () => void = () => {};
    const gate = new Promise<void>((r) => (arrive = r));
    const slow = new Agent({
      connect: async () => {
        await gate;
        late = new DuplexTransport(netConnect(path));
        return late;
      },
    });
    agents.push(slow);
    const ac = new AbortController();
    const p = get('http://x/', { agent: slow, signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    arrive();
    await new Promise((r) => setTimeout(r, 50));
    expect(late).not.toBeNull();
    expect(late!.isClosing()).toBe(true);
  });
});
