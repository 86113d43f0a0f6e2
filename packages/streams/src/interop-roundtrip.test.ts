import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadableStream, WritableStream } from 'node:stream/web';
import { connect as tlsConnect } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, useServers } from './__fixtures__/servers.js';
import { openConnection, openUnixConnection } from './connection.js';
import { toDuplex } from './duplex.js';
import { fromDuplex } from './duplex-transport.js';
import { createStreamPair, type MemoryTransport } from './memory-transport.js';
import { startServer, startUnixServer } from './server.js';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';
import { fromWebStreams, toWebStreams } from './web-streams.js';

const { servers } = useServers();
const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;

let cert: { key: string; cert: string };
let dir: string;
beforeAll(() => {
  cert = makeCert();
  dir = mkdtempSync(join(tmpdir(), 'asyncnet-interop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Kind = 'tcp' | 'tls' | 'unix' | 'memory';
type Pair = [StreamReader, StreamWriter];

/** What the far end does with the bytes: echo them all, or fail the connection after `after` bytes. */
type Peer = { resetAfter?: number | undefined; finAfter?: number | undefined };

/** Echoes until EOF (then half-closes, or closes on TLS), or misbehaves as `peer` says. */
async function echo([reader, writer]: Pair, peer: Peer, memory: MemoryTransport | null): Promise<void> {
  let seen = 0;
  try {
    for (;;) {
      const chunk = await reader.read(65_536);
      if (chunk.byteLength === 0) break;
      seen += chunk.byteLength;
      if (peer.resetAfter !== undefined && seen >= peer.resetAfter) {
        if (memory !== null) memory.reset();
        else resetSocket(writer);
        return;
      }
      if (peer.finAfter !== undefined && seen >= peer.finAfter) {
        writer.write(chunk.subarray(0, chunk.byteLength - (seen - peer.finAfter)));
        if (writer.canWriteEof()) writer.writeEof();
        else writer.close();
        // Keep reading (and dropping) what the client still sends, so it is not reset.
        while ((await reader.read(65_536)).byteLength > 0) {}
        return;
      }
      writer.write(chunk);
      await writer.drain();
    }
    if (writer.canWriteEof()) writer.writeEof();
    else writer.close();
  } catch {
    writer.transport.abort();
  }
}

/** A TCP reset (RST), under TLS too; a Unix socket can only be destroyed. */
function resetSocket(writer: StreamWriter): void {
  const socket = writer.getExtraInfo('socket') as (Socket & { _parent?: Socket }) | undefined;
  const raw = socket?._parent ?? socket;
  try {
    raw?.resetAndDestroy();
  } catch {
    raw?.destroy();
  }
}

/** A connected client end (reader/writer or a raw Node socket) with the server end running `peer`. */
async function connect(
  kind: Kind,
  peer: Peer,
  seed: number,
  raw: true,
): Promise<{ socket: Duplex; far: () => Pair | null }>;
async function connect(
  kind: Kind,
  peer: Peer,
  seed: number,
  raw?: false,
): Promise<{ pair: Pair; far: () => Pair | null }>;
async function connect(
  kind: Kind,
  peer: Peer,
  seed: number,
  raw = false,
): Promise<{ socket?: Duplex; pair?: Pair; far: () => Pair | null }> {
  let far: Pair | null = null;
  if (kind === 'memory') {
    const [client, server] = createStreamPair({ chunking: 'random', maxChunk: 65_536, seed });
    far = server;
    void echo(server, peer, server[1].transport as MemoryTransport);
    // A memory pair has no raw socket: a Duplex over it stands in for one.
    return raw ? { socket: toDuplex(...client), far: () => far } : { pair: client, far: () => far };
  }
  const handler = (reader: StreamReader, writer: StreamWriter) => {
    far = [reader, writer];
    void echo(far, peer, null);
    return writer.waitClosed();
  };
  const options = { onError: () => {}, ...(kind === 'tls' ? { tls: cert } : {}) };
  const path = join(dir, `s${seed}-${Math.random().toString(36).slice(2)}.sock`);
  const server =
    kind === 'unix'
      ? await startUnixServer(handler, path, options)
      : await startServer(handler, '127.0.0.1', 0, options);
  servers.push(server);
  const port = kind === 'unix' ? 0 : (server.address() as { port: number }).port;
  if (!raw) {
    const pair =
      kind === 'unix'
        ? await openUnixConnection(path)
        : await openConnection(kind === 'tls' ? 'localhost' : '127.0.0.1', port, {
            family: 4,
            ...(kind === 'tls' ? { tls: { ca: cert.cert } } : {}),
          });
    return { pair, far: () => far };
  }
  const socket =
    kind === 'tls'
      ? tlsConnect({ host: '127.0.0.1', port, ca: cert.cert, servername: 'localhost' })
      : netConnect(
          kind === 'unix' ? { path, allowHalfOpen: true } : { host: '127.0.0.1', port, allowHalfOpen: true },
        );
  await once(socket, kind === 'tls' ? 'secureConnect' : 'connect');
  return { socket, far: () => far };
}

/** `total` bytes of pseudo-random data in chunks of random size (1 B to 128 KiB), hashed as they go. */
function source(total: number, seed: number) {
  const block = randomBytes(MiB + 131_072);
  const hash = createHash('sha256');
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  function* chunks() {
    let sent = 0;
    while (sent < total) {
      const n = Math.min(total - sent, 1 + Math.floor(next() * 131_072));
      const at = Math.floor(next() * MiB);
      const chunk = block.subarray(at, at + n);
      hash.update(chunk);
      sent += n;
      yield chunk;
    }
  }
  return { chunks, digest: () => hash.digest('hex') };
}

/** Hashes what it is given; `complete` resolves once `expected` bytes arrived. */
function hashSink(expected: number) {
  const hash = createHash('sha256');
  let bytes = 0;
  let done!: () => void;
  const complete = new Promise<void>((r) => {
    done = r;
  });
  const writable = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      if (bytes >= expected) done();
      cb();
    },
  });
  return { writable, complete, result: () => ({ bytes, digest: hash.digest('hex') }) };
}

/** asyncnet's own TLS transport cannot half-close (as in asyncio); raw Node TLS sockets can. */
const halfCloses = (kind: Kind) => kind !== 'tls';

/** The largest number of bytes buffered at once anywhere the sampler looks, while `run` runs. */
async function sampled<T>(look: () => number, run: Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, look());
  }, 2);
  try {
    return { value: await run, peak };
  } finally {
    clearInterval(timer);
  }
}

const buffered = (pair: Pair | null) =>
  pair === null ? 0 : pair[0].bufferedSize + pair[1].transport.getWriteBufferSize();

/** One adapter's way of pushing `total` bytes through a connection and reading the echo back. */
type Adapter = (
  kind: Kind,
  peer: Peer,
  seed: number,
  total: number,
) => Promise<{ sent: string; got: { bytes: number; digest: string }; peak: number }>;

const adapters: Record<string, Adapter> = {
  // pipeline(source, toDuplex(reader, writer), sink)
  async toDuplex(kind, peer, seed, total) {
    const { pair, far } = await connect(kind, peer, seed);
    const d = toDuplex(...pair);
    const src = source(total, seed);
    const sink = hashSink(total);
    const look = () => buffered(pair) + buffered(far()) + d.readableLength + d.writableLength;
    // asyncnet's TLS has no half-close (end() closes): end the writable side once the echo is in.
    const run: Promise<unknown> = halfCloses(kind)
      ? pipeline(Readable.from(src.chunks()), d, sink.writable)
      : Promise.all([
          pipeline(Readable.from(src.chunks()), d, { end: false }),
          pipeline(d, sink.writable),
          sink.complete.then(() => d.end()),
        ]);
    const { peak } = await sampled(look, run);
    return { sent: src.digest(), got: sink.result(), peak };
  },
  // fromDuplex(raw Node socket) -> [reader, writer] -> toDuplex -> pipeline
  async fromDuplex(kind, peer, seed, total) {
    const { socket, far } = await connect(kind, peer, seed, true);
    const pair = fromDuplex(socket);
    const d = toDuplex(...pair);
    const src = source(total, seed);
    const sink = hashSink(total);
    const look = () =>
      buffered(pair) +
      buffered(far()) +
      d.readableLength +
      d.writableLength +
      socket.readableLength +
      socket.writableLength;
    const { peak } = await sampled(look, pipeline(Readable.from(src.chunks()), d, sink.writable));
    return { sent: src.digest(), got: sink.result(), peak };
  },
  // ReadableStream.from(source).pipeTo(writable); readable.pipeTo(sink)
  async toWebStreams(kind, peer, seed, total) {
    const { pair, far } = await connect(kind, peer, seed);
    const { readable, writable } = toWebStreams(...pair);
    const src = source(total, seed);
    const sink = hashSink(total);
    const look = () => buffered(pair) + buffered(far());
    const preventClose = !halfCloses(kind);
    const run = Promise.all([
      ReadableStream.from(src.chunks())
        .pipeTo(writable, { preventClose })
        .then(async () => {
          if (!preventClose) return;
          await sink.complete;
          await writable.close();
        }),
      readable.pipeTo(Writable.toWeb(sink.writable) as WritableStream<Uint8Array>),
    ]);
    const { peak } = await sampled(look, run);
    return { sent: src.digest(), got: sink.result(), peak };
  },
  // fromWebStreams(Duplex.toWeb(raw socket)) -> [reader, writer] -> toWebStreams -> pipeTo
  async fromWebStreams(kind, peer, seed, total) {
    const { socket, far } = await connect(kind, peer, seed, true);
    const pair = fromWebStreams(Duplex.toWeb(socket) as never);
    const { readable, writable } = toWebStreams(...pair);
    const src = source(total, seed);
    const sink = hashSink(total);
    const look = () => buffered(pair) + buffered(far()) + socket.readableLength + socket.writableLength;
    const run = Promise.all([
      ReadableStream.from(src.chunks()).pipeTo(writable),
      readable.pipeTo(Writable.toWeb(sink.writable) as WritableStream<Uint8Array>),
    ]);
    const { peak } = await sampled(look, run);
    return { sent: src.digest(), got: sink.result(), peak };
  },
};

const kinds: Kind[] = ['tcp', 'tls', 'unix', 'memory'];

describe.each(Object.keys(adapters))('%s round trip', (name) => {
  const adapter = adapters[name]!;

  it.each(kinds)(
    'echoes 64 MiB over %s with a matching hash and bounded buffers',
    async (kind) => {
      const { sent, got, peak } = await adapter(kind, {}, 7, TOTAL);
      expect(got.bytes).toBe(TOTAL);
      expect(got.digest).toBe(sent);
      // Water marks, reader limits and one in-flight chunk per layer: a few hundred KiB, never the payload.
      expect(peak).toBeLessThan(2 * MiB);
    },
    120_000,
  );

  it.each(kinds)(
    'a reset mid-transfer over %s is an error on this side, never a hang or a clean end',
    async (kind) => {
      for (const seed of [11, 12, 13]) {
        const resetAfter = 256 * 1024 + ((seed * 7919) % (2 * MiB));
        const outcome = await adapter(kind, { resetAfter }, seed, 16 * MiB).then(
          (r) => `completed with ${r.got.bytes} bytes`,
          (e: NodeJS.ErrnoException) => e.code ?? e.name,
        );
        expect(outcome).toMatch(
          /^(ECONNRESET|EPIPE|ERR_CONNECTION_CLOSED|ERR_STREAM_PREMATURE_CLOSE|AbortError)$/,
        );
      }
    },
    60_000,
  );

  it.each(kinds)(
    'a FIN mid-body over %s ends the readable early with exactly the bytes sent before it',
    async (kind) => {
      const finAfter = 300_001;
      const outcome = await adapter(kind, { finAfter }, 21, 4 * MiB).then(
        (r) => r.got.bytes,
        (e: NodeJS.ErrnoException) => e.code ?? e.name,
      );
      // TLS cannot half-close, so the peer closes and a write still in flight may fail instead.
      if (kind === 'tls' && typeof outcome === 'string')
        expect(outcome).toMatch(/ECONNRESET|EPIPE|ERR_CONNECTION_CLOSED|ERR_WRITE_AFTER_CLOSE/);
      else expect(outcome).toBe(finAfter);
    },
    60_000,
  );
});

describe('hostile cases', () => {
  /** A server that reads nothing until released, so the client's writer backs up. */
  async function stalled() {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let peerOutcome!: Promise<string>;
    const server = await startServer(
      async (reader, writer) => {
        peerOutcome = (async () => {
          await released;
          let n = 0;
          try {
            for (;;) {
              const c = await reader.read(65_536);
              if (c.byteLength === 0) return `eof after ${n}`;
              n += c.byteLength;
            }
          } catch (e) {
            return (e as NodeJS.ErrnoException).code ?? String(e);
          }
        })();
        await writer.waitClosed();
      },
      '127.0.0.1',
      0,
      { onError: () => {} },
    );
    servers.push(server);
    const pair = await openConnection('127.0.0.1', (server.address() as { port: number }).port);
    return { pair, release, peer: () => peerOutcome };
  }

  it('destroying a toDuplex during back-pressure fails the pending writes and aborts the connection', async () => {
    const { pair, release, peer } = await stalled();
    const d = toDuplex(...pair);
    const callbacks: (Error | null | undefined)[] = [];
    while (d.write(Buffer.alloc(65_536), (err) => callbacks.push(err))) await sleep(0);
    await sleep(20);
    const closed = new Promise((r) => d.once('close', r));
    d.destroy();
    await closed;
    await pair[1].waitClosed();
    await sleep(10);
    expect(callbacks.at(-1)).toBeInstanceOf(Error); // the write held by back-pressure failed
    release();
    expect(await peer()).toMatch(/^(eof after \d+|ECONNRESET)$/);
  });

  it('fromDuplex: a Duplex destroyed while drain() waits rejects it with ConnectionClosedError', async () => {
    const { pair, release } = await stalled();
    const d = toDuplex(...pair);
    const [, writer] = fromDuplex(d);
    // Loopback socket buffers can absorb several MiB: write until drain() really waits.
    let drain: Promise<void> | undefined;
    for (let round = 0; round < 64 && !drain; round++) {
      for (let i = 0; i < 64; i++) writer.write(Buffer.alloc(65_536));
      const pending = writer.drain();
      pending.catch(() => {});
      if (!(await Promise.race([pending.then(() => true), sleep(50).then(() => false)]))) drain = pending;
    }
    expect(drain).toBeDefined();
    d.destroy();
    await expect(drain).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    await writer.waitClosed();
    release();
  });

  type Phase = 'idle' | 'back-pressure' | 'pending read' | 'after close';
  const phases: Phase[] = ['idle', 'back-pressure', 'pending read', 'after close'];

  it.each(phases)(
    'aborting the web writable (%s) settles, closes the connection and frees the peer',
    async (phase) => {
      const { pair, release, peer } = await stalled();
      const { readable, writable } = toWebStreams(...pair);
      const w = writable.getWriter();
      const r = readable.getReader();
      const pendingRead = phase === 'pending read' ? r.read().catch((e: Error) => e) : null;
      let pendingWrite: Promise<unknown> | null = null;
      if (phase === 'back-pressure') {
        while ((w.desiredSize ?? 0) > 0) {
          pendingWrite = w.write(new Uint8Array(65_536)).catch((e: Error) => e);
          await sleep(0);
        }
      }
      if (phase === 'after close') await w.close();
      const aborted = w.abort(new Error('stop')).then(
        () => 'aborted',
        (e: Error) => e.message,
      );
      expect(await aborted).toMatch(/aborted|close/);
      if (pendingWrite !== null) expect(await pendingWrite).toBeInstanceOf(Error);
      if (phase !== 'after close') await pair[1].waitClosed();
      if (pendingRead !== null) expect(await pendingRead).toBeDefined();
      release();
      expect(await peer()).toMatch(/^(eof after \d+|ECONNRESET)$/);
      r.releaseLock();
    },
  );

  it.each(phases)('cancelling the web readable (%s) settles and closes the connection', async (phase) => {
    const { pair, release, peer } = await stalled();
    const { readable, writable } = toWebStreams(...pair);
    const w = writable.getWriter();
    const r = readable.getReader();
    const pendingRead = phase === 'pending read' ? r.read() : null;
    if (phase === 'back-pressure') {
      while ((w.desiredSize ?? 0) > 0) {
        void w.write(new Uint8Array(65_536)).catch(() => {});
        await sleep(0);
      }
    }
    if (phase === 'after close') await w.close();
    await r.cancel('done');
    if (pendingRead !== null) expect(await pendingRead).toEqual({ done: true, value: undefined });
    release();
    await pair[1].waitClosed();
    expect(await peer()).toMatch(/^eof after \d+$/);
  });

  it('fromWebStreams: a web writable that errors mid-write fails drain() and reads at once', async () => {
    let sinkController!: WritableStreamDefaultController;
    const writable = new WritableStream<Uint8Array>({
      start(c) {
        sinkController = c;
      },
      write: () => new Promise(() => {}),
    });
    const [reader, writer] = fromWebStreams({ readable: new ReadableStream(), writable });
    for (let i = 0; i < 4; i++) writer.write(Buffer.alloc(65_536));
    const drain = writer.drain();
    const read = reader.read();
    sinkController.error(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await expect(drain).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED', cause: { code: 'EPIPE' } });
    await expect(read).rejects.toMatchObject({ code: 'EPIPE' });
  });
});
