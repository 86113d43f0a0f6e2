import { createServer, type Server } from 'node:https';
import { rootCertificates } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent, get, HttpError, post } from './index.js';

let cert = '';
let key = '';
let server: Server | null = null;
let accepted = 0;
const agents: Agent[] = [];

beforeAll(() => {
  // A throwaway self-signed certificate for localhost / 127.0.0.1, made by openssl at test time.
  ({ cert, key } = makeCert());
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = null;
  }
});

async function start(): Promise<number> {
  accepted = 0;
  server = createServer({ cert, key }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () =>
      res.end(`${req.method} ${req.url} ${Buffer.concat(parts).toString()} ${req.headers.host}`),
    );
  });
  server.on('secureConnection', () => accepted++);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

describe('https', () => {
  it('verifies the server with a custom CA and reuses the TLS connection', async () => {
    const port = await start();
    const agent = new Agent();
    agents.push(agent);
    for (let i = 0; i < 3; i++) {
      const res = await get(`https://127.0.0.1:${port}/p${i}`, { agent, tls: { ca: cert } });
      expect(await res.body.text()).toBe(`GET /p${i}  127.0.0.1:${port}`);
    }
    const res = await post(`https://127.0.0.1:${port}/post`, 'body', { agent, tls: { ca: cert } });
    expect(await res.body.text()).toBe(`POST /post body 127.0.0.1:${port}`);
    expect(accepted).toBe(1);
  });

  it('uses servername for SNI and the certificate check', async () => {
    const port = await start();
    const agent = new Agent();
    agents.push(agent);
    const res = await get(`https://127.0.0.1:${port}/`, {
      agent,
      tls: { ca: cert, servername: 'localhost' },
    });
    expect(res.status).toBe(200);
    await res.body.dump();
    await expect(
      get(`https://127.0.0.1:${port}/`, { agent, tls: { ca: cert, servername: 'example.com' } }),
    ).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('rejects an untrusted certificate unless rejectUnauthorized is false', async () => {
    const port = await start();
    const agent = new Agent();
    agents.push(agent);
    const err = await get(`https://127.0.0.1:${port}/`, { agent }).catch((e: Error) => e);
    expect(err).not.toBeInstanceOf(HttpError);
    expect((err as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    const res = await get(`https://127.0.0.1:${port}/`, { agent, tls: { rejectUnauthorized: false } });
    expect(res.status).toBe(200);
    await res.body.dump();
  });

  it('never reuses a connection made with other TLS settings, however many were seen', async () => {
    const port = await start();
    const agent = new Agent();
    agents.push(agent);
    const url = `https://127.0.0.1:${port}/`;
    const res = await get(url, { agent, tls: { ca: Buffer.from(cert) } });
    await res.body.dump();
    // Many distinct CA objects (these fail before any connect: the header is invalid) ...
    for (let i = 0; i < 1000; i++) {
      await expect(
        get(url, { agent, tls: { ca: Buffer.from(cert) }, headers: { 'bad header': 'x' } }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_HEADER' });
    }
    // ... then a CA that did not sign the server's certificate must be checked on a new connection.
    const err = await get(url, { agent, tls: { ca: Buffer.from(rootCertificates[0]!) } }).catch(
      (e: Error) => e,
    );
    expect((err as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(accepted).toBe(1);
  });
});
