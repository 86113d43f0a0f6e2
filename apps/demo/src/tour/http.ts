import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, get, post } from '@asyncnet/http-lite';
import type { TourContext } from './context.js';
import { mbPerSecond, ms, perSecond } from './narrator.js';

function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/upload' && req.method === 'POST') {
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ bytes, transferEncoding: req.headers['transfer-encoding'] ?? null }));
    });
    return;
  }
  if (req.url === '/chunked') {
    res.setHeader('content-type', 'text/plain');
    let i = 0;
    const tick = () => {
      i++;
      res.write(`part ${i} of 5 at server time ${Date.now() % 100000}\n`);
      if (i < 5) setTimeout(tick, 30);
      else res.end();
    };
    tick();
    return;
  }
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from node:http, you asked for ${req.method} ${req.url}\n`);
}

/** Section 3: the HTTP/1.1 client against a local node:http server. */
export async function httpSection(ctx: TourContext): Promise<void> {
  const { n, cleanup } = ctx;
  n.step('a node:http server on 127.0.0.1 (started by the tour), an http-lite Agent as the client');
  let connections = 0;
  const server = createHttpServer({ keepAliveTimeout: 5000 }, handler);
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ keepAliveTimeout: 4000 });
  cleanup.add(() => agent.destroy());

  let res = await get(`${base}/hello`, { agent });
  n.sent('GET', `${base}/hello`);
  n.received(
    `${res.status} ${res.statusText}, content-type ${res.headers.get('content-type')}:`,
    await res.body.text(),
  );

  n.step('POST with a streamed body (an async generator: length unknown, so chunked transfer encoding)');
  const size = 64 * 1024;
  const pieces = 64;
  async function* body(): AsyncGenerator<Uint8Array> {
    const chunk = new Uint8Array(size).fill(0x62);
    for (let i = 0; i < pieces; i++) yield chunk;
  }
  let t0 = performance.now();
  res = await post(`${base}/upload`, body(), {
    agent,
    headers: { 'content-type': 'application/octet-stream' },
  });
  const reply = (await res.body.json()) as { bytes: number; transferEncoding: string | null };
  const upload = performance.now() - t0;
  n.sent('POST', `${base}/upload with ${pieces} chunks of ${size / 1024} KiB`);
  n.received(`${res.status}`, JSON.stringify(reply));
  n.say(`the server saw transfer-encoding: ${reply.transferEncoding} and ${reply.bytes} bytes`);
  n.measured(
    `uploaded ${(reply.bytes / 1048576).toFixed(0)} MiB in ${ms(upload)} = ${mbPerSecond(reply.bytes, upload)}`,
  );

  n.step('a chunked response, read as it arrives with for await (const chunk of res.body)');
  t0 = performance.now();
  res = await get(`${base}/chunked`, { agent });
  n.say(`${res.status}, transfer-encoding: ${res.headers.get('transfer-encoding')}`);
  const arrivals: string[] = [];
  for await (const chunk of res.body) {
    arrivals.push(
      `+${Math.round(performance.now() - t0)} ms: ${JSON.stringify(Buffer.from(chunk).toString().trim())}`,
    );
  }
  for (const a of arrivals) n.say(`${n.style.green('←')} ${a}`);

  n.step(
    'keep-alive: 200 sequential GETs through one Agent, counting the TCP connections the server accepted',
  );
  const before = connections;
  t0 = performance.now();
  for (let i = 0; i < 200; i++) {
    const r = await get(`${base}/item/${i}`, { agent });
    await r.body.dump();
  }
  const took = performance.now() - t0;
  const stats = agent.stats().get(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  n.say(
    `new connections for 200 requests: ${connections - before} (total since start: ${connections}); pool now ${stats ? `${stats.open} open, ${stats.idle} idle` : 'empty'}`,
  );
  n.measured(`200 keep-alive requests in ${ms(took)} = ${perSecond(200, took)} sequential`);

  n.step('HTTPS to a local node:https server with the tour certificate (tls: { ca })');
  const cert = ctx.cert();
  const secure = createHttpsServer({ key: cert.key, cert: cert.cert }, handler);
  secure.listen(0, '127.0.0.1');
  await once(secure, 'listening');
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        secure.close(() => resolve());
        secure.closeAllConnections();
      }),
  );
  const url = `https://127.0.0.1:${(secure.address() as AddressInfo).port}/secure`;
  t0 = performance.now();
  res = await get(url, { agent, tls: { ca: cert.cert } });
  const text = await res.body.text();
  n.sent('GET', url);
  n.received(`${res.status} over TLS:`, text);
  n.measured(`first HTTPS request (connect + handshake + exchange) in ${ms(performance.now() - t0)}`);
  await agent.close();
}
