import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { portOf, sleep, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { toDuplex } from './duplex.js';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';

const { start, servers } = useServers();

let cert: { key: string; cert: string };
beforeAll(() => {
  cert = makeCert();
});

/** A server whose handler hands each connection to `serve`; the handler lasts as long as the connection. */
async function serverOf(serve: (reader: StreamReader, writer: StreamWriter) => void, tls = false) {
  return start(
    (reader, writer) => {
      serve(reader, writer);
      return writer.waitClosed();
    },
    '127.0.0.1',
    0,
    { onError: () => {}, ...(tls ? { tls: cert } : {}) },
  );
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('toDuplex', () => {
  it('write() returns false exactly while the writer is above its high-water mark, then drains', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let received = 0;
    const server = await serverOf(async (reader) => {
      await released;
      for (;;) {
        const chunk = await reader.read(65_536);
        if (chunk.byteLength === 0) break;
        received += chunk.byteLength;
      }
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const d = toDuplex(reader, writer);
    const t = writer.transport;
    const { high, low } = t.getWriteBufferLimits();
    const chunk = Buffer.alloc(16_384, 1);
    let sent = 0;
    // Fill until write() says stop, checking the answer against the writer on every call.
    for (let i = 0; i < 10_000; i++) {
      const ok = d.write(chunk);
      sent += chunk.byteLength;
      expect(ok).toBe(!(t.getWriteBufferSize() > high));
      if (!ok) break;
      await sleep(0);
    }
    expect(t.getWriteBufferSize()).toBeGreaterThan(high);
    expect(d.writableNeedDrain).toBe(true);
    const drained = once(d, 'drain');
    release();
    await drained;
    expect(t.getWriteBufferSize()).toBeLessThanOrEqual(low);
    d.end();
    await once(d, 'finish');
    await sleep(50);
    expect(received).toBe(sent);
    d.destroy();
  });

  it('read() pulls from the reader only when read, never holding more than its highWaterMark', async () => {
    const payload = randomBytes(16 * 1024 * 1024);
    let serverWriter!: StreamWriter;
    const server = await serverOf((_reader, writer) => {
      serverWriter = writer;
      writer.write(payload);
      writer.writeEof();
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server), { limit: 32_768 });
    const d = toDuplex(reader, writer);
    expect(d.readableHighWaterMark).toBe(32_768);
    d.read(0); // start the pull, then leave it unread
    await sleep(200);
    expect(d.readableLength).toBeLessThanOrEqual(32_768);
    expect(reader.bufferedSize).toBeLessThanOrEqual(3 * 32_768 + 65_536);
    // The rest is held back by TCP: the server's writer is still above its mark.
    expect(serverWriter.transport.getWriteBufferSize()).toBeGreaterThan(0);
    expect(sha(await collect(d))).toBe(sha(payload));
  });

  it('end() half-closes: the peer reads EOF and can still answer', async () => {
    const server = await serverOf(async (reader, writer) => {
      const body = await reader.read(); // until EOF
      writer.write(`got ${body.byteLength} bytes\n`);
      writer.close();
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const d = toDuplex(reader, writer);
    const closed = once(d, 'close');
    d.end('hello world');
    expect((await collect(d)).toString()).toBe('got 11 bytes\n');
    await closed;
    expect(writer.isClosing()).toBe(true);
  });

  it('destroy(err) aborts the connection: the peer sees it end, the Duplex emits err', async () => {
    let peerSaw!: Promise<unknown>;
    const server = await serverOf((reader) => {
      peerSaw = reader.read().then(
        (b) => `eof after ${b.byteLength}`,
        (e: NodeJS.ErrnoException) => e.code,
      );
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const d = toDuplex(reader, writer);
    d.write('partial');
    await sleep(20);
    const boom = new Error('boom');
    d.destroy(boom);
    const [err] = await once(d, 'error');
    expect(err).toBe(boom);
    expect(writer.isClosing()).toBe(true);
    await writer.waitClosed();
    expect(await peerSaw).toMatch(/eof after 7|ECONNRESET/);
  });

  it('a peer reset destroys the Duplex with ECONNRESET', async () => {
    const server = await serverOf(async (reader, writer) => {
      await reader.readLine();
      writer.getExtraInfo('socket')?.resetAndDestroy();
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const d = toDuplex(reader, writer);
    const closed = new Promise((r) => d.once('close', r)); // events.once would reject on 'error'
    d.resume();
    d.write('reset me\n');
    const [err] = await once(d, 'error');
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    await closed;
  });

  it('exposes the addresses of the connection like net.Socket', async () => {
    const server = await serverOf(() => {});
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const d = toDuplex(reader, writer);
    expect(d.remoteAddress).toBe('127.0.0.1');
    expect(d.remotePort).toBe(portOf(server));
    expect(d.remoteFamily).toBe('IPv4');
    expect(d.localAddress).toBe('127.0.0.1');
    expect(d.localPort).toBeGreaterThan(0);
    expect(d.address()).toMatchObject({ address: '127.0.0.1', port: d.localPort });
    expect(d.setNoDelay(true).setKeepAlive(true, 1000)).toBe(d);
    d.destroy();
  });

  it("emits 'timeout' after setTimeout(ms) of inactivity, like net.Socket", async () => {
    const server = await serverOf(() => {});
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const d = toDuplex(reader, writer);
    const t0 = Date.now();
    d.setTimeout(50);
    await once(d, 'timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(d.destroyed).toBe(false);
    d.destroy();
  });
});

describe('toDuplex with node:http', () => {
  it('serves HTTP/1.1 (keep-alive, a POST body) to a raw TCP client through http.Server', async () => {
    const http = createHttpServer(async (req, res) => {
      const body = await collect(req);
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} ${body.byteLength} from ${req.socket.remoteAddress}\n`);
    });
    const server = await serverOf((reader, writer) => http.emit('connection', toDuplex(reader, writer)));
    const raw = netConnect(portOf(server), '127.0.0.1');
    await once(raw, 'connect');
    raw.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    raw.write('POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    raw.write('GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = (await collect(raw)).toString();
    const bodies = text
      .split('\r\n\r\n')
      .slice(1)
      .map((s) => s.split('HTTP/1.1')[0]);
    expect(text.match(/HTTP\/1.1 200 OK/g)).toHaveLength(3);
    expect(bodies).toEqual([
      'GET /a 0 from 127.0.0.1\n',
      'POST /b 5 from 127.0.0.1\n',
      'GET /c 0 from 127.0.0.1\n',
    ]);
    http.close();
  });

  it('http.request over a toDuplex client connection; a FIN mid-body is an error, not a hang', async () => {
    const server = await serverOf(async (reader, writer) => {
      await reader.readUntil('\r\n\r\n');
      writer.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly half of it');
      writer.writeEof();
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const req = httpRequest({ host: 'x', path: '/', createConnection: () => toDuplex(reader, writer) });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    const outcome = await collect(res).then(
      (b) => `body ${b.byteLength}`,
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    expect(outcome).toBe('ECONNRESET'); // node:http reports a body cut short as "aborted" / ECONNRESET
  });
});

describe('toDuplex with node:tls', () => {
  it('tls.connect({ socket }) runs TLS over an asyncnet TCP connection', async () => {
    const server = await serverOf(async (reader, writer) => {
      for await (const line of reader) {
        writer.write(line.toString().toUpperCase());
        await writer.drain();
      }
      writer.close();
    }, true);
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const secure = tlsConnect({ socket: toDuplex(reader, writer), ca: cert.cert, servername: 'localhost' });
    await once(secure, 'secureConnect');
    expect(secure.authorized).toBe(true);
    secure.end('over tls\n');
    expect((await collect(secure)).toString()).toBe('OVER TLS\n');
  });

  it('new TLSSocket(duplex, { isServer }) serves TLS on a plain asyncnet server', async () => {
    const server = await serverOf((reader, writer) => {
      const secure = new TLSSocket(toDuplex(reader, writer), {
        isServer: true,
        key: cert.key,
        cert: cert.cert,
      });
      secure.on('error', () => {});
      secure.on('data', (chunk: Buffer) => secure.end(`tls echo: ${chunk}`));
    });
    const [reader, writer] = await openConnection('localhost', portOf(server), {
      tls: { ca: cert.cert },
      family: 4,
    });
    writer.write('hi');
    expect((await reader.read()).toString()).toBe('tls echo: hi');
    writer.close();
  });
});

describe('toDuplex with ws', () => {
  it('a ws WebSocketServer upgrades an HTTP request served over toDuplex, and a ws client runs over toDuplex', async () => {
    const http = createHttpServer();
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo ${data}`, { binary: isBinary }));
      });
    });
    const server = await serverOf((reader, writer) => http.emit('connection', toDuplex(reader, writer)));
    const port = portOf(server);

    // A stock ws client over a plain socket.
    const plain = new WebSocket(`ws://127.0.0.1:${port}/`);
    await once(plain, 'open');
    plain.send('one');
    const [m1] = await once(plain, 'message');
    expect(String(m1)).toBe('echo one');

    // A ws client whose own connection is asyncnet's, through toDuplex.
    const [reader, writer] = await openConnection('127.0.0.1', port);
    const overDuplex = new WebSocket(`ws://127.0.0.1:${port}/`, {
      createConnection: () => toDuplex(reader, writer),
    });
    await once(overDuplex, 'open');
    const big = randomBytes(300_000);
    overDuplex.send(big);
    const [m2] = await once(overDuplex, 'message');
    expect(sha(m2 as Buffer)).toBe(sha(big));

    plain.close();
    overDuplex.close();
    await Promise.all([once(plain, 'close'), once(overDuplex, 'close')]);
    wss.close();
    http.close();
    expect(servers).toHaveLength(1);
  });
});
