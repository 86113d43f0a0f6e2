import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import { ReadableStream, WritableStream } from 'node:stream/web';
import { describe, expect, it } from 'vitest';
import { portOf, sleep, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { createStreamPair, type MemoryTransport } from './memory-transport.js';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';
import { fromWebStreams, toWebStreams } from './web-streams.js';

const { start } = useServers();

async function serverOf(serve: (reader: StreamReader, writer: StreamWriter) => Promise<void> | void) {
  return start(
    async (reader, writer) => {
      await serve(reader, writer);
    },
    '127.0.0.1',
    0,
    { onError: () => {} },
  );
}

async function text(readable: ReadableStream<Uint8Array>): Promise<string> {
  let out = '';
  const decoder = new TextDecoder();
  for await (const chunk of readable) out += decoder.decode(chunk, { stream: true });
  return out;
}

describe('toWebStreams', () => {
  it('readable is a byte stream: a BYOB reader reads into its own buffer', async () => {
    const [[reader, writer], [, peer]] = createStreamPair();
    const { readable } = toWebStreams(reader, writer);
    peer.write('hello, world');
    const byob = readable.getReader({ mode: 'byob' });
    const first = await byob.read(new Uint8Array(5));
    expect(Buffer.from(first.value!).toString()).toBe('hello');
    expect(first.value!.buffer.byteLength).toBe(5); // the caller's buffer, handed back
    const rest = await byob.read(new Uint8Array(64));
    expect(Buffer.from(rest.value!).toString()).toBe(', world');
    peer.close();
    const end = await byob.read(new Uint8Array(8));
    expect(end.done).toBe(true);
  });

  it('readable pulls only when read: unread bytes stay in the reader, under its flow control', async () => {
    const [[reader, writer], [, peer]] = createStreamPair({ limit: 1024 });
    const { readable } = toWebStreams(reader, writer);
    for (let i = 0; i < 10; i++) peer.write(Buffer.alloc(1024, i));
    await sleep(20);
    expect(reader.bufferedSize).toBeGreaterThan(0);
    expect(reader.bufferedSize).toBeLessThanOrEqual(2 * 1024 + 1024);
    expect(peer.transport.getWriteBufferSize()).toBeGreaterThan(0); // held back
    const r = readable.getReader();
    let total = 0;
    while (total < 10 * 1024) total += (await r.read()).value!.byteLength;
    expect(total).toBe(10 * 1024);
  });

  it("writable's desiredSize drops to 0 while the writer is above its high-water mark and recovers at the low mark", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const server = await serverOf(async (reader) => {
      await released;
      while ((await reader.read(65_536)).byteLength > 0) {}
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const { writable } = toWebStreams(reader, writer);
    const w = writable.getWriter();
    const t = writer.transport;
    const { high, low } = t.getWriteBufferLimits();
    expect(w.desiredSize).toBe(1);
    for (let i = 0; i < 10_000 && (w.desiredSize ?? 0) > 0; i++) {
      // While the writer is at or below its mark, the write is accepted at once and desiredSize stays 1.
      expect(t.getWriteBufferSize()).toBeLessThanOrEqual(high);
      void w.write(new Uint8Array(16_384)).catch(() => {});
      await sleep(0);
    }
    expect(t.getWriteBufferSize()).toBeGreaterThan(high);
    expect(w.desiredSize).toBeLessThanOrEqual(0);
    release();
    await w.ready;
    expect(t.getWriteBufferSize()).toBeLessThanOrEqual(low);
    expect(w.desiredSize).toBe(1);
    await w.close();
  });

  it('writable.close() sends EOF; the peer answers on the still-open readable', async () => {
    const server = await serverOf(async (reader, writer) => {
      const body = await reader.read();
      writer.write(`${body.byteLength} bytes\n`);
      writer.close();
    });
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    const { readable, writable } = toWebStreams(reader, writer);
    await ReadableStream.from([new TextEncoder().encode('abc'), 'defg']).pipeTo(writable as WritableStream);
    expect(await text(readable)).toBe('7 bytes\n');
    await writer.waitClosed();
  });

  it('writable.abort() aborts the connection (queued bytes dropped) and readable.cancel() closes it (flushed)', async () => {
    const seen: string[] = [];
    const server = await serverOf(async (reader) => {
      seen.push(
        await reader.read().then(
          (b) => `eof after ${b.byteLength}`,
          (e: NodeJS.ErrnoException) => e.code!,
        ),
      );
    });
    for (const how of ['abort', 'cancel'] as const) {
      const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
      const { readable, writable } = toWebStreams(reader, writer);
      const w = writable.getWriter();
      await w.write(new TextEncoder().encode('x'));
      if (how === 'abort') await w.abort(new Error('stop'));
      else await readable.cancel();
      await writer.waitClosed();
      expect(writer.isClosing()).toBe(true);
    }
    await sleep(50);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^(eof after [01]|ECONNRESET)$/);
    expect(seen[1]).toBe('eof after 1');
  });

  it('a reset errors both streams, even with no write or read pending', async () => {
    const [[reader, writer], [, peer]] = createStreamPair();
    const { readable, writable } = toWebStreams(reader, writer);
    const w = writable.getWriter();
    const r = readable.getReader();
    (peer.transport as MemoryTransport).reset();
    await expect(w.closed).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(r.read()).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('fromWebStreams', () => {
  it('runs a reader/writer pair over Duplex.toWeb(socket) against an asyncnet server', async () => {
    const server = await serverOf(async (reader, writer) => {
      for await (const line of reader) {
        writer.write(`echo ${line}`);
        await writer.drain();
      }
      writer.close();
    });
    const socket = netConnect({ port: portOf(server), host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    const [reader, writer] = fromWebStreams(Duplex.toWeb(socket) as never);
    writer.write('one\n');
    writer.write('two\n');
    expect((await reader.readLine()).toString()).toBe('echo one\n');
    expect((await reader.readLine()).toString()).toBe('echo two\n');
    writer.writeEof();
    expect((await reader.read()).byteLength).toBe(0);
    await writer.waitClosed();
  });

  it('stops pulling from readable past 2 x limit and starts again at limit', async () => {
    let pulls = 0;
    const readable = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(1000));
      },
    });
    const writable = new WritableStream<Uint8Array>();
    const [reader] = fromWebStreams({ readable, writable }, { limit: 4000 });
    await sleep(30);
    const stopped = pulls;
    expect(reader.bufferedSize).toBeGreaterThan(8000);
    expect(reader.bufferedSize).toBeLessThanOrEqual(9000);
    await sleep(30);
    expect(pulls).toBe(stopped); // nothing more was pulled
    await reader.read(5000);
    await sleep(10);
    expect(pulls).toBeGreaterThan(stopped);
  });

  it('coalesces the writes of one tick into one sink write, and drain() waits on a slow sink', async () => {
    const chunks: Uint8Array[] = [];
    const held: (() => void)[] = [];
    const writable = new WritableStream<Uint8Array>(
      {
        write(chunk) {
          chunks.push(chunk);
          return new Promise<void>((r) => held.push(r));
        },
      },
      { highWaterMark: 1 },
    );
    const readable = new ReadableStream<Uint8Array>();
    const [, writer] = fromWebStreams({ readable, writable }, { highWaterMark: 1000, lowWaterMark: 100 });
    for (let i = 0; i < 100; i++) writer.write('0123456789'); // 1000 bytes: at the mark
    writer.write('!'); // above it
    let drained = false;
    const drain = writer.drain().then(() => {
      drained = true;
    });
    await sleep(10);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.byteLength).toBe(1001);
    expect(drained).toBe(false);
    for (const r of held.splice(0)) r();
    await drain;
    expect(writer.transport.getWriteBufferSize()).toBe(0);
  });

  it('writeEof() closes writable, reading goes on; close() also cancels readable', async () => {
    let closedSink = false;
    let cancelled = false;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      cancel() {
        cancelled = true;
      },
    });
    const writable = new WritableStream<Uint8Array>({
      close() {
        closedSink = true;
      },
    });
    const [reader, writer] = fromWebStreams({ readable, writable });
    writer.write('bye');
    writer.writeEof();
    await sleep(10);
    expect(closedSink).toBe(true);
    controller.enqueue(new TextEncoder().encode('late answer'));
    expect((await reader.read(100)).toString()).toBe('late answer');
    writer.close();
    await writer.waitClosed();
    expect(cancelled).toBe(true);
  });

  it('a readable that errors fails reads and drain() at once', async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    const writable = new WritableStream<Uint8Array>({ write: () => new Promise(() => {}) });
    const [reader, writer] = fromWebStreams({ readable, writable }, { highWaterMark: 10 });
    writer.write('more than ten bytes');
    const drain = writer.drain();
    const read = reader.read();
    const boom = Object.assign(new Error('boom'), { code: 'ECONNRESET' });
    controller.error(boom);
    await expect(read).rejects.toBe(boom);
    await expect(drain).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED', cause: boom });
    await writer.waitClosed();
  });

  it('getExtraInfo answers from extraInfo', () => {
    const [, writer] = fromWebStreams(
      { readable: new ReadableStream(), writable: new WritableStream() },
      { extraInfo: { peername: { address: '10.0.0.1', port: 80, family: 'IPv4' } } },
    );
    expect(writer.getExtraInfo('peername')).toEqual({ address: '10.0.0.1', port: 80, family: 'IPv4' });
    expect(writer.getExtraInfo('tls')).toBe(false);
    writer.transport.abort();
  });
});
