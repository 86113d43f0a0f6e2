import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, framed, LengthPrefixedCodec, type Protocol, type Transport } from '@asyncnet/protocol';
import { openConnection, startServer } from '@asyncnet/streams';
import type { TourContext } from './context.js';
import { mbPerSecond, ms, perSecond } from './narrator.js';

/** asyncio's documentation example, callback style: write back whatever arrives. */
class EchoProtocol implements Protocol {
  static events: string[] = [];
  static dataCalls = 0;
  transport: Transport | null = null;

  connectionMade(transport: Transport): void {
    this.transport = transport;
    const peer = transport.getExtraInfo('peername') as AddressInfo | undefined;
    EchoProtocol.events.push(`connectionMade(peer ${peer?.address}:${peer?.port})`);
  }

  dataReceived(data: Uint8Array): void {
    EchoProtocol.dataCalls++;
    this.transport!.write(data);
  }

  eofReceived(): void {
    EchoProtocol.events.push('eofReceived() -> close');
  }

  connectionLost(error: Error | null): void {
    EchoProtocol.events.push(`connectionLost(${error === null ? 'null' : error.message})`);
  }
}

/** Section 2: Protocol/Transport callbacks and framing codecs. */
export async function protocolSection(ctx: TourContext): Promise<void> {
  const { n, cleanup } = ctx;
  n.step("EchoProtocol served with createServer(() => new EchoProtocol(), '127.0.0.1', 0)");
  const server = await createServer(() => new EchoProtocol(), '127.0.0.1', 0, { onError: () => {} });
  cleanup.add(async () => {
    server.close();
    server.abortClients();
    await server.waitClosed();
  });
  const port = (server.address() as AddressInfo).port;
  n.say(
    `the core's Server on 127.0.0.1:${port}; a streams client (openConnection) talks to the callback server`,
  );
  const [reader, writer] = await openConnection('127.0.0.1', port);
  cleanup.add(() => writer.transport.abort());
  writer.write('echo me\n');
  n.sent('write', 'echo me\n');
  n.received('readLine()', await reader.readLine());
  const chunk = new Uint8Array(65536).fill(0x61);
  const total = 32 * 1024 * 1024;
  const t0 = performance.now();
  const reading = (async () => {
    let got = 0;
    while (got < total) {
      const data = await reader.read(1 << 20);
      if (data.length === 0) break;
      got += data.length;
    }
    return got;
  })();
  for (let sent = 0; sent < total; sent += chunk.length) {
    writer.write(chunk);
    await writer.drain();
  }
  const got = await reading;
  const took = performance.now() - t0;
  writer.writeEof();
  await reader.read();
  await writer.waitClosed().catch(() => {});
  // The server side's connectionLost may run just after the client saw the close.
  for (let i = 0; i < 100 && !EchoProtocol.events.some((e) => e.startsWith('connectionLost')); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  n.say(
    `callbacks seen: ${EchoProtocol.events.join(', ')}; dataReceived() ran ${EchoProtocol.dataCalls} times`,
  );
  n.measured(
    `${(got / 1048576).toFixed(0)} MiB echoed through dataReceived -> transport.write in ${ms(took)} = ${mbPerSecond(got, took)} each way`,
  );

  n.step('length-prefixed frames: framed(reader, writer, new LengthPrefixedCodec()) on both ends');
  const frameServer = await startServer(
    async (r, w) => {
      const conn = framed(r, w, new LengthPrefixedCodec());
      for await (const frame of conn) {
        const digest = createHash('sha256').update(frame).digest('hex').slice(0, 12);
        await conn.send(Buffer.from(`${frame.length} bytes, sha256 ${digest}`));
      }
      await conn.close();
    },
    '127.0.0.1',
    0,
    { onError: () => {} },
  );
  cleanup.add(async () => {
    frameServer.close();
    frameServer.abortClients();
    await frameServer.waitClosed();
  });
  const [fr, fw] = await openConnection('127.0.0.1', (frameServer.address() as AddressInfo).port);
  cleanup.add(() => fw.transport.abort());
  const codec = new LengthPrefixedCodec();
  const conn = framed(fr, fw, codec);
  const onWire = codec.encode(Buffer.from('hi'));
  const wire = Buffer.concat(Array.isArray(onWire) ? onWire : [onWire]);
  n.say(
    `send(frame "hi") puts ${wire.length} bytes on the wire: ${wire.toString('hex').replace(/(..)/g, '$1 ').trim()}`,
  );
  for (const frame of [Buffer.from('hi'), Buffer.alloc(0), Buffer.alloc(300_000, 7)]) {
    await conn.send(frame);
    n.sent('send', frame.length > 16 ? `<${frame.length} bytes>` : frame);
    const reply = await conn.read();
    n.received('read()', reply ?? 'end of stream');
  }
  const frames = 5000;
  const payload = Buffer.alloc(100, 1);
  const t1 = performance.now();
  const replies = (async () => {
    let count = 0;
    while (count < frames && (await conn.read()) !== null) count++;
    return count;
  })();
  for (let i = 0; i < frames; i++) {
    fw.writeLines([codec.encode(payload)].flat());
    if (i % 256 === 255) await fw.drain();
  }
  await fw.drain();
  const answered = await replies;
  const t2 = performance.now() - t1;
  await conn.close();
  n.say(
    `pipelined: all ${frames} frames written before reading; ${answered}/${frames} replies came back in order`,
  );
  n.measured(`${frames} pipelined request/reply frames in ${ms(t2)} = ${perSecond(answered, t2)}`);
}
