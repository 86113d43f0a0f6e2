import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitPort } from './__fixtures__/ports.mjs';
import { Agent, get, HttpError } from './index.js';

const bin =
  ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy'].find((p) => existsSync(p)) ??
  null;
if (bin === null)
  console.warn('[http-lite] tinyproxy not found: skipping the tinyproxy tests (apt-get install tinyproxy)');

describe.skipIf(bin === null)('through tinyproxy (a real forward/CONNECT proxy)', () => {
  let dir = '';
  let child: ChildProcess;
  let proxyPort = 0;
  let cert = '';
  const servers: Server[] = [];
  const ports = { http: 0, https: 0 };
  let tunnels = 0;
  const agents: Agent[] = [];

  beforeAll(async () => {
    const pair = makeCert();
    cert = pair.cert;
    const answer =
      (scheme: string) =>
      (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) =>
        res.end(
          `${scheme} ${req.method} ${req.url} ${req.headers.host} ${req.headers['proxy-authorization'] ?? '-'}`,
        );
    const h = createServer(answer('http'));
    const s = createHttpsServer(pair, answer('https')) as unknown as Server;
    s.on('secureConnection', () => tunnels++);
    for (const [srv, k] of [
      [h, 'http'],
      [s, 'https'],
    ] as const) {
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      ports[k] = (srv.address() as { port: number }).port;
      servers.push(srv);
    }
    dir = mkdtempSync(join(tmpdir(), 'http-lite-tinyproxy-'));
    proxyPort = await freePort();
    const root = process.getuid?.() === 0;
    writeFileSync(
      join(dir, 'tinyproxy.conf'),
      [
        `Port ${proxyPort}`,
        'Listen 127.0.0.1',
        'Timeout 60',
        'MaxClients 100',
        'Allow 127.0.0.1',
        'LogLevel Critical',
        'BasicAuth alice s3cret',
        'DisableViaHeader Yes',
        ...(root ? ['User nobody', 'Group nogroup'] : []),
      ].join('\n'),
    );
    child = spawn(bin!, ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
    await waitPort(proxyPort, child, 'tinyproxy');
  });
  afterAll(async () => {
    for (const a of agents.splice(0)) a.destroy();
    child?.kill('SIGTERM');
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function agentWith(creds: string, connections = 4): Agent {
    const a = new Agent({ proxy: `http://${creds}@127.0.0.1:${proxyPort}`, connections });
    agents.push(a);
    return a;
  }

  it('forwards http:// in absolute-form with Proxy-Authorization (which it strips)', async () => {
    const res = await get(`http://127.0.0.1:${ports.http}/a?b=1`, { agent: agentWith('alice:s3cret') });
    expect(await res.body.text()).toBe(`http GET /a?b=1 127.0.0.1:${ports.http} -`);
  });

  it('tunnels https:// with CONNECT, verifying the origin, and pools the tunnels', async () => {
    tunnels = 0;
    const agent = agentWith('alice:s3cret', 4);
    const texts = await Promise.all(
      Array.from({ length: 40 }, async (_, i) =>
        (await get(`https://localhost:${ports.https}/${i}`, { agent, tls: { ca: cert } })).body.text(),
      ),
    );
    expect(texts[3]).toBe(`https GET /3 localhost:${ports.https} -`);
    expect(tunnels).toBeGreaterThanOrEqual(1);
    expect(tunnels).toBeLessThanOrEqual(4);
  });

  // tinyproxy answers a refused CONNECT with 401 (not 407): both are ERR_PROXY_AUTH_REQUIRED, the status kept.
  it('reports refused credentials as ERR_PROXY_AUTH_REQUIRED with its status, without the password', async () => {
    const err = (await get(`https://localhost:${ports.https}/`, {
      agent: agentWith('alice:wrong'),
      tls: { ca: cert },
    }).catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.code).toBe('ERR_PROXY_AUTH_REQUIRED');
    expect([401, 407]).toContain(err.statusCode);
    expect(`${err.message}${err.stack}`).not.toContain('wrong');
  });
});
