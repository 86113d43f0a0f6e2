import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, type LineClient, plainUser } from './__fixtures__/line-client.js';
import { WsClient, wsUser } from './__fixtures__/ws-client.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';
import type { WebOptions } from './web-options.js';

const servers: ChatServer[] = [];
const clients: Array<LineClient | WsClient> = [];

async function start(
  options: ChatServerOptions = {},
  web: WebOptions = {},
): Promise<{ server: ChatServer; port: number; irc: number; url: string; http: string }> {
  const server = createChatServer({
    log: () => {},
    floodControl: false,
    ...options,
    web: { client: false, ...web },
  });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  const w = server.webAddress()!;
  return {
    server,
    port: server.address()!.port,
    irc: server.ircAddress()!.port,
    url: `ws://127.0.0.1:${w.port}/`,
    http: `http://127.0.0.1:${w.port}`,
  };
}

function track<T extends LineClient | WsClient>(c: T): T {
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('web front end: IRC over WebSocket', () => {
  it('negotiates text.ircv3.net or binary.ircv3.net in the client order, and text when none is offered', async () => {
    const { url } = await start();
    const bin = track(await WsClient.open(url, ['binary.ircv3.net', 'text.ircv3.net']));
    const text = track(await WsClient.open(url, ['text.ircv3.net', 'binary.ircv3.net']));
    const none = track(await WsClient.open(url, []));
    expect([bin.ws.protocol, text.ws.protocol, none.ws.protocol]).toEqual([
      'binary.ircv3.net',
      'text.ircv3.net',
      '',
    ]);
    for (const c of [bin, text, none]) {
      c.send('PING :hi');
      await c.waitFor(/^:asyncnet\.chat PONG asyncnet\.chat :hi$/);
    }
    expect(bin.binary.every((b) => b)).toBe(true);
    expect(text.binary.some((b) => b)).toBe(false);
    expect(none.binary.some((b) => b)).toBe(false);
  });

  it('sends one IRC line per message without CRLF, tolerates a trailing CRLF and refuses a line break inside', async () => {
    const { url } = await start({ motd: ['one', 'two', 'three'] });
    const c = track(await WsClient.open(url));
    c.send('NICK webby\r\n');
    c.send('USER webby 0 * :Web By');
    await c.waitFor(/ 376 webby /);
    // The welcome burst is many lines written together: each arrives as its own message.
    for (const n of ['001', '002', '003', '004', '005', '375', '372', '376'])
      expect(c.lines.some((l) => l.startsWith(`:asyncnet.chat ${n} webby `))).toBe(true);
    expect(c.lines.every((l) => !/[\r\n]/.test(l))).toBe(true);
    c.send('JOIN #a\r\nJOIN #b');
    await c.waitFor(/NOTICE \* :a WebSocket message must hold exactly one IRC line/);
    c.send('JOIN #c');
    await c.waitFor(/^:webby!~webby@127\.0\.0\.1 JOIN #c$/);
    expect(c.lines.some((l) => / JOIN #[ab]$/.test(l))).toBe(false);
  });

  it('shares rooms with TCP IRC and plain clients in both directions', async () => {
    const { url, irc, port } = await start();
    const w = track(await wsUser(url, 'webby'));
    const i = track(await ircUser(irc, 'irky'));
    const p = track(await plainUser(port, 'plainy'));
    w.send('JOIN #lobby');
    i.send('JOIN #lobby');
    await i.waitFor(/ 366 irky #lobby /);
    await p.waitFor(/\* webby joined #lobby|you joined #lobby \(\d here: .*webby/);
    await w.waitFor(/^:irky!~irky@127\.0\.0\.1 JOIN #lobby$/);
    w.send('PRIVMSG #lobby :hello from the browser');
    await i.waitFor(/^:webby!~webby@127\.0\.0\.1 PRIVMSG #lobby :hello from the browser$/);
    await p.waitFor(/^<webby> hello from the browser$/);
    i.send('PRIVMSG #lobby :hi from irssi');
    p.send('hi from nc');
    await w.waitFor(/^:irky!~irky@127\.0\.0\.1 PRIVMSG #lobby :hi from irssi$/);
    await w.waitFor(/^:plainy!plain@127\.0\.0\.1 PRIVMSG #lobby :hi from nc$/);
    p.send('/msg webby psst');
    await w.waitFor(/^:plainy!plain@127\.0\.0\.1 PRIVMSG webby :psst$/);
  });

  it('answers 417 to an over-long line and closes with 1009 on a message over the IRC maximum', async () => {
    const { url, server } = await start();
    const c = track(await wsUser(url, 'big'));
    c.send(`PRIVMSG #x :${'a'.repeat(600)}`);
    await c.waitFor(/ 417 big :Input line was too long/);
    c.send('PING :still');
    await c.waitFor(/PONG asyncnet\.chat :still/);
    c.send(`PRIVMSG #x :${'a'.repeat(20_000)}`);
    await c.ended;
    expect(c.closeCode).toBe(1009);
    const other = track(await wsUser(url, 'other'));
    other.send('PING :ok');
    await other.waitFor(/PONG asyncnet\.chat :ok/);
    expect(server.stats().disconnects['connection error']).toBe(1);
  });

  it('refuses a foreign Origin with 403 before the upgrade; allows its own, listed ones and none', async () => {
    const { url, server } = await start({}, { origins: ['https://chat.example.com'] });
    const host = new URL(url).host;
    await expect(WsClient.open(url, undefined, { origin: 'http://evil.example' })).rejects.toMatchObject({
      statusCode: 403,
    });
    await expect(
      WsClient.open(url, undefined, { origin: `http://${host}.evil.example` }),
    ).rejects.toMatchObject({
      statusCode: 403,
    });
    track(await WsClient.open(url, undefined, { origin: `http://${host}` }));
    track(await WsClient.open(url, undefined, { origin: 'https://chat.example.com' }));
    track(await WsClient.open(url));
    expect(server.stats().disconnects['origin refused']).toBe(2);
  });

  it('counts WebSocket connections in the per-IP limit shared with TCP', async () => {
    const { url, irc, server } = await start({ maxConnectionsPerIp: 2 });
    track(await ircUser(irc, 'one'));
    track(await wsUser(url, 'two'));
    await expect(WsClient.open(url)).rejects.toMatchObject({ statusCode: 429 });
    expect(server.stats().disconnects['too many connections']).toBe(1);
  });

  it('delays a burst over flood control instead of dropping it', async () => {
    const { url, irc } = await start({ floodControl: { burst: 5, rate: 20 } });
    const i = track(await ircUser(irc, 'reader'));
    i.send('JOIN #f');
    await i.waitFor(/ 366 reader #f /);
    const w = track(await wsUser(url, 'paster'));
    w.send('JOIN #f');
    await w.waitFor(/ 366 paster #f /);
    const t0 = Date.now();
    for (let k = 0; k < 15; k++) w.send(`PRIVMSG #f :line ${k}`);
    await i.waitCount(/PRIVMSG #f :line \d+$/, 15);
    // 10 lines over the burst at 20/s: at least ~500 ms, and all of them, in order.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    const got = i.lines.filter((l) => / PRIVMSG #f :line /.test(l)).map((l) => Number(l.split(' ').pop()));
    expect(got).toEqual(Array.from({ length: 15 }, (_, k) => k));
  });

  it('pings with WebSocket frames and drops a peer that stops answering them', async () => {
    const { url, server } = await start({}, { keepAlive: 150 });
    const answering = track(await wsUser(url, 'alive'));
    let pings = 0;
    answering.ws.on('ping', () => pings++);
    const silent = track(await wsUser(url, 'silent', undefined, { autoPong: false }));
    for (const c of [answering, silent]) c.send('JOIN #k');
    await answering.waitFor(/^:silent!\S+ JOIN #k$/);
    await answering.waitFor(/^:silent!\S+ QUIT :Quit: ping timeout \(websocket\)$/);
    await silent.ended;
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(answering.closed).toBe(false);
    expect(server.stats().disconnects['ping timeout']).toBe(1);
  });

  it('sends IRC PINGs to an idle WebSocket client and drops it when it does not answer', async () => {
    const { url, server } = await start({ pingInterval: 100, pingTimeout: 200 }, { keepAlive: 0 });
    const c = track(await wsUser(url, 'idle'));
    await c.waitFor(/^PING :asyncnet\.chat$/);
    await c.waitFor(/^ERROR :Closing Link: 127\.0\.0\.1 \(ping timeout/);
    await c.ended;
    expect(server.stats().disconnects['ping timeout']).toBe(1);
  });

  it('a tab that stops reading is shed and disconnected while the others get every message', async () => {
    const soft = 64 * 1024;
    const { url, port, server } = await start({
      maxLineLength: 8192,
      maxConnectionsPerIp: 0,
      history: 0,
      sendQueue: { soft, hard: 1024 * 1024, stuckTimeout: 1_500 },
    });
    const sender = track(await plainUser(port, 'sender'));
    const healthy = track(await wsUser(url, 'healthy'));
    const stuck = track(await wsUser(url, 'stuck'));
    for (const c of [healthy, stuck]) c.send('JOIN #lobby');
    await sender.waitFor(/\* stuck joined #lobby/);
    // The stuck tab's socket stops reading: the server's writes back up into its send queue.
    (stuck.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const count = 2_000;
    const pad = 'x'.repeat(3_000);
    for (let k = 0; k < count; k += 100) {
      for (let j = k; j < k + 100; j++) {
        if (!sender.socket.write(`m${j} ${pad}\r\n`))
          await new Promise((r) => sender.socket.once('drain', r));
      }
      await healthy.waitCount(/PRIVMSG #lobby :m\d+ /, k + 100, 15_000);
    }
    const got = healthy.lines
      .filter((l) => / PRIVMSG #lobby :m\d+ /.test(l))
      .map((l) => Number(/:m(\d+) /.exec(l)![1]));
    expect(got).toEqual(Array.from({ length: count }, (_, k) => k));
    await sender.waitFor(/^\* stuck quit \(sendq (stuck|exceeded)\)$/, 15_000);
    const stats = server.stats();
    expect(stats.drops).toBeGreaterThan(0);
    expect(stats.peakQueue).toBeLessThanOrEqual(soft + 8_192);
  });

  it('serves /healthz, 404 and 405, and refuses a plain GET with an Upgrade header that is not websocket', async () => {
    const { http, server } = await start();
    const ok = await fetch(`${http}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });
    expect(ok.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${http}/nope`)).status).toBe(404);
    expect((await fetch(`${http}/healthz`, { method: 'POST' })).status).toBe(405);
    // With web.client false the page is not served.
    expect((await fetch(`${http}/`)).status).toBe(404);
    expect(server.webUrl()).toBe(`${http}/`);
  });

  it('serves HTTPS and WSS from certificate files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asyncnet-web-tls-'));
    try {
      const { cert, key } = makeCert();
      writeFileSync(join(dir, 'cert.pem'), cert);
      writeFileSync(join(dir, 'key.pem'), key);
      const { server } = await start(
        {},
        { tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } },
      );
      const port = server.webAddress()!.port;
      expect(server.webUrl()).toBe(`https://127.0.0.1:${port}/`);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/healthz', ca: cert }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      const c = track(await wsUser(`wss://127.0.0.1:${port}/`, 'secure', undefined, { ca: cert }));
      c.send('PING :tls');
      await c.waitFor(/PONG asyncnet\.chat :tls/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reloadTls() swaps the HTTPS certificate for new handshakes and keeps the old one on a bad file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asyncnet-web-tls-'));
    try {
      const first = makeCert();
      const certFile = join(dir, 'cert.pem');
      const keyFile = join(dir, 'key.pem');
      writeFileSync(certFile, first.cert);
      writeFileSync(keyFile, first.key);
      const { server } = await start({}, { tls: { certFile, keyFile } });
      const port = server.webAddress()!.port;
      const served = () =>
        new Promise<string>((resolve, reject) => {
          const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          });
          s.on('error', reject);
        });
      const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
      expect(await served()).toBe(fp(first.cert));
      const second = makeCert();
      writeFileSync(certFile, second.cert);
      writeFileSync(keyFile, second.key);
      await server.reloadTls();
      expect(await served()).toBe(fp(second.cert));
      writeFileSync(keyFile, 'not a key');
      await expect(server.reloadTls()).rejects.toMatchObject({ code: 'ERR_TLS_CERT' });
      expect(await served()).toBe(fp(second.cert));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates web options', () => {
    expect(() => createChatServer({ web: { port: -1 } })).toThrow(/web\.port/);
    expect(() => createChatServer({ web: { origins: ['not an origin'] } })).toThrow(/web\.origins/);
    expect(() => createChatServer({ web: { origins: ['https://x.example/path'] } })).toThrow(/web\.origins/);
    expect(() => createChatServer({ web: { tls: { certFile: '', keyFile: 'k' } } })).toThrow(
      /web\.tls\.certFile/,
    );
    expect(() => createChatServer({ web: { keepAlive: -5 } })).toThrow(/web\.keepAlive/);
  });

  it('close() shuts WebSocket clients down with an ERROR line and a close frame', async () => {
    const { url, server } = await start();
    const c = track(await wsUser(url, 'leaver'));
    await server.close({ timeout: 500 });
    await c.ended;
    expect(c.lines.some((l) => /^ERROR :Closing Link: 127\.0\.0\.1 \(server shutting down\)$/.test(l))).toBe(
      true,
    );
    expect(c.closeCode).toBe(1000);
    expect(server.stats().connections).toBe(0);
  });
});
