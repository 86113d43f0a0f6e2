import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  openConnection,
  openDatagramEndpoint,
  type StreamReader,
  type StreamWriter,
  startServer,
  timeout,
  toDuplex,
  withTimeout,
} from '@asyncnet/streams';
import type { TourContext } from './context.js';
import { ms, perSecond, show } from './narrator.js';

async function lineEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) {
    writer.write(line);
    await writer.drain();
  }
  writer.close();
}

/** Section 1: the core, asyncio's Streams API on TCP, TLS and UDP. */
export async function streamsSection(ctx: TourContext): Promise<void> {
  const { n, cleanup } = ctx;
  const quiet = { onError: () => {} };

  n.step("echo server and client: startServer(handler, '127.0.0.1', 0) + openConnection()");
  const server = await startServer(lineEcho, '127.0.0.1', 0, quiet);
  cleanup.add(async () => {
    server.close();
    server.abortClients();
    await server.waitClosed();
  });
  const port = (server.address() as AddressInfo).port;
  n.say(
    `server listening on 127.0.0.1:${port}; the handler is \`for await (const line of reader) writer.write(line)\``,
  );
  const [reader, writer] = await openConnection('127.0.0.1', port);
  cleanup.add(() => writer.transport.abort());
  writer.write('hello, asyncnet\n');
  n.sent('write', 'hello, asyncnet\n');
  n.received('readLine()      ', await reader.readLine());
  writer.write('LEN00007payload|END\n');
  n.sent('write', 'LEN00007payload|END\n');
  n.received('readExactly(8)  ', await reader.readExactly(8));
  n.received("readUntil('|')  ", await reader.readUntil('|'));
  n.received('readLine()      ', await reader.readLine());

  n.step('timeouts: withTimeout(200, (signal) => reader.readLine({ signal })) when the peer stays silent');
  let t0 = performance.now();
  const err = (await withTimeout(200, (signal) => reader.readLine({ signal })).catch((e: unknown) => e)) as {
    name?: string;
    code?: string;
    message?: string;
  };
  n.say(
    `rejected with ${String(err.name)} ${err.code} after ${ms(performance.now() - t0)}: "${err.message}"`,
  );
  writer.write('late line\n');
  n.say(
    `the read was cancelled, not orphaned: the reader is free, and the next readLine() gets ${show(await reader.readLine())}`,
  );
  const [r2, w2] = await openConnection('127.0.0.1', port);
  cleanup.add(() => w2.transport.abort());
  w2.write('half a li');
  await w2.drain();
  const aborted = await r2
    .readLine({ signal: AbortSignal.timeout(150) })
    .catch((e: { code?: string }) => e.code);
  w2.write('ne\n');
  n.say(
    `cancel-safe: readLine({ signal: AbortSignal.timeout(150) }) -> ${aborted}; nothing is lost, the next readLine() -> ${show(await r2.readLine())}`,
  );
  writer.close();
  w2.close();

  n.step('concurrency: 50 clients x 40 round trips, awaited with Promise.all (asyncio.gather)');
  const clients = 50;
  const rounds = 40;
  t0 = performance.now();
  const counts = await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const [r, w] = await openConnection('127.0.0.1', port);
      let ok = 0;
      for (let i = 0; i < rounds; i++) {
        const msg = `client ${c} says ${i}\n`;
        w.write(msg);
        if ((await r.readLine()).length === Buffer.byteLength(msg)) ok++;
      }
      w.close();
      await w.waitClosed();
      return ok;
    }),
  );
  const took = performance.now() - t0;
  const total = counts.reduce((a, b) => a + b, 0);
  n.say(
    `${clients} connections open at once on one event loop; ${total}/${clients * rounds} lines came back intact`,
  );
  n.measured(`${total} round trips in ${ms(took)} = ${perSecond(total, took)} (connects included)`);

  n.step(
    'TLS: a certificate made on the fly with node:crypto, startServer({ tls }) + openConnection({ tls })',
  );
  t0 = performance.now();
  const cert = ctx.cert();
  n.say(
    `self-signed EC P-256 certificate for localhost/127.0.0.1 made in ${ms(performance.now() - t0)} (no openssl, no files)`,
  );
  const tlsServer = await startServer(lineEcho, '127.0.0.1', 0, { ...quiet, tls: cert });
  cleanup.add(async () => {
    tlsServer.close();
    tlsServer.abortClients();
    await tlsServer.waitClosed();
  });
  const tlsPort = (tlsServer.address() as AddressInfo).port;
  t0 = performance.now();
  // One deadline scope (asyncio.timeout) covers the connect, the handshake and the first read.
  using deadline = timeout(5000);
  const [tr, tw] = await openConnection('127.0.0.1', tlsPort, {
    tls: { ca: cert.cert },
    signal: deadline.signal,
  });
  const handshake = performance.now() - t0;
  cleanup.add(() => tw.transport.abort());
  const cipher = tw.getExtraInfo('cipher');
  const peer = tw.getExtraInfo('peercert');
  n.say(`verified ${peer?.subject?.CN ?? '?'} with ${cipher?.version ?? '?'} ${cipher?.name ?? '?'}`);
  tw.write('secret over TLS\n');
  n.sent('write', 'secret over TLS\n');
  n.received('readLine({ signal: deadline.signal })', await tr.readLine({ signal: deadline.signal }));
  tw.close();
  n.measured(`TCP connect + TLS handshake in ${ms(handshake)}`);

  n.step('UDP: openDatagramEndpoint() echo, 200 datagrams ping-pong');
  const udpServer = await openDatagramEndpoint({ localAddress: '127.0.0.1' });
  cleanup.add(() => udpServer.close());
  void (async () => {
    try {
      for await (const d of udpServer) await udpServer.send(d.data, d.port, d.address);
    } catch {
      // closed
    }
  })();
  const udpPort = udpServer.address().port;
  const udpClient = await openDatagramEndpoint({ remoteAddress: '127.0.0.1', remotePort: udpPort });
  cleanup.add(() => udpClient.close());
  await udpClient.send('ping 0');
  const first = await udpClient.receive({ signal: AbortSignal.timeout(2000) });
  n.sent('send', 'ping 0');
  n.received(`receive() from ${first.address}:${first.port}`, first.data);
  let lost = 0;
  const count = 200;
  t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    await udpClient.send(`ping ${i}`);
    try {
      await udpClient.receive({ signal: AbortSignal.timeout(500) });
    } catch {
      lost++;
    }
  }
  const udpTook = performance.now() - t0;
  n.measured(
    `${count} UDP round trips in ${ms(udpTook)}: ${((udpTook * 1000) / count).toFixed(0)} µs each, ${lost} lost`,
  );

  n.step('interop: node:http served over asyncnet connections with toDuplex(reader, writer)');
  const http = createHttpServer((req, res) => res.end(`node:http answered ${req.method} ${req.url}\n`));
  const bridge = await startServer(
    (reader, writer) => {
      http.emit('connection', toDuplex(reader, writer));
      return writer.waitClosed();
    },
    '127.0.0.1',
    0,
    quiet,
  );
  cleanup.add(async () => {
    bridge.close();
    bridge.abortClients();
    await bridge.waitClosed();
  });
  const bridgeUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}/over-asyncnet`;
  const res = await fetch(bridgeUrl, { signal: AbortSignal.timeout(5000) });
  n.say(`fetch(${bridgeUrl}) -> ${res.status} ${JSON.stringify(await res.text())}`);
  n.say('the same Duplex works under ws, tls.connect({ socket }) and stream.pipeline()');
}
