import { createStreamPair, openConnection, type Server, startServer } from '@asyncnet/streams';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, portOf, until } from './__fixtures__/helpers.js';
import { createServer } from './create-server.js';
import { FrameTooLargeError } from './errors.js';
import { framed } from './framed.js';
import { FramedProtocol } from './framed-protocol.js';
import { JsonLinesCodec } from './json-lines-codec.js';
import { LengthPrefixedCodec } from './length-prefixed-codec.js';
import { LinesCodec } from './lines-codec.js';

const HOST = '127.0.0.1';
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s[Symbol.asyncDispose]();
});

interface Msg {
  op: string;
  n: number;
  text?: string;
}

describe('framed()', () => {
  it('carries JSON frames both ways over TCP', async () => {
    const server = await startServer(
      async (reader, writer) => {
        const conn = framed(reader, writer, new JsonLinesCodec<Msg>());
        for await (const msg of conn) await conn.send({ op: `re:${msg.op}`, n: msg.n * 2, text: msg.text });
        await conn.close();
      },
      HOST,
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    const conn = framed(reader, writer, new JsonLinesCodec<Msg>());
    const big = 'x\n\u00e9'.repeat(100_000);
    await conn.send({ op: 'a', n: 1 });
    await conn.send({ op: 'b', n: 2, text: big });
    expect(await conn.read()).toEqual({ op: 're:a', n: 2 });
    expect(await conn.read()).toEqual({ op: 're:b', n: 4, text: big });
    writer.writeEof();
    expect(await conn.read()).toBeNull();
    expect(await conn.read()).toBeNull();
  });

  it('yields the same frames at any chunking (length-prefixed over a random-chunking pair)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 15 }),
        fc.nat(1000),
        async (frames, seed) => {
          const [[r1, w1], [r2, w2]] = createStreamPair({ chunking: 'random', maxChunk: 13, seed: seed + 1 });
          const codec = new LengthPrefixedCodec({ lengthBytes: 2 });
          const a = framed(r1, w1, codec);
          const b = framed(r2, w2, codec);
          for (const f of frames) await a.send(f);
          w1.writeEof();
          const got: Buffer[] = [];
          for await (const f of b) got.push(Buffer.from(f));
          expect(got).toEqual(frames.map((f) => Buffer.from(f)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('delivers the frames before an over-long one, then keeps throwing FrameTooLargeError', async () => {
    const [[, w1], [r2, w2]] = createStreamPair();
    const conn = framed(r2, w2, new LinesCodec({ maxLength: 5 }));
    w1.write('ok\nfine\nthis is too long\nlater\n');
    expect(await conn.read()).toBe('ok');
    expect(await conn.read()).toBe('fine');
    const err = await conn.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FrameTooLargeError);
    await expect(conn.read()).rejects.toBe(err);
  });

  it('raises ERR_FRAME_TRUNCATED when the stream ends inside a frame', async () => {
    const [[, w1], [r2, w2]] = createStreamPair();
    const conn = framed(r2, w2, new LengthPrefixedCodec());
    w1.write(Buffer.from([0, 0, 0, 9, 1, 2]));
    w1.writeEof();
    await expect(conn.read()).rejects.toMatchObject({ code: 'ERR_FRAME_TRUNCATED' });
  });

  it('is cancel-safe: an aborted read loses no bytes', async () => {
    const [[, w1], [r2, w2]] = createStreamPair();
    const conn = framed(r2, w2, new LinesCodec());
    const ac = new AbortController();
    const pending = conn.read({ signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    w1.write('after\n');
    expect(await conn.read()).toBe('after');
  });
});

describe('FramedProtocol', () => {
  class Upper extends FramedProtocol<string> {
    constructor() {
      super(new LinesCodec({ maxLength: 100 }));
    }
    override frameReceived(line: string): void {
      this.send(line.toUpperCase());
    }
  }

  it('serves lines over TCP to a framed() client', async () => {
    const server = await createServer(() => new Upper(), HOST, 0);
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    const conn = framed(reader, writer, new LinesCodec());
    await conn.send('hello');
    await conn.send('w\u00f6rld');
    expect(await conn.read()).toBe('HELLO');
    expect(await conn.read()).toBe('W\u00d6RLD');
    // A last line without terminator is still a frame: end() delivers it before the close.
    writer.write('tail');
    writer.writeEof();
    expect(await conn.read()).toBe('TAIL');
    expect(await conn.read()).toBeNull();
  });

  it('aborts on an over-long frame after handling the good ones; connectionLost gets the error', async () => {
    const seen: string[] = [];
    const lost = deferred<Error | null>();
    const server = await createServer(
      () =>
        Object.assign(new Upper(), {
          frameReceived: (line: string) => seen.push(line),
          connectionLost: (e: Error | null) => lost.resolve(e),
        }),
      HOST,
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write(`good\n${'y'.repeat(200)}\n`);
    expect(await lost.promise).toBeInstanceOf(FrameTooLargeError);
    expect(seen).toEqual(['good']);
    // abort() discards queued bytes and resets: the client sees the end of the connection.
    await reader.read().catch(() => undefined);
  });

  it('delivers no more frames after close() in frameReceived, so the rest of the chunk cannot break the close', async () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const lost = deferred<Error | null>();
    const server = await createServer(
      () =>
        Object.assign(
          new FramedProtocol(new LinesCodec(), (line: string, p) => {
            seen.push(line);
            if (line === 'quit') {
              p.send('bye');
              p.transport?.close();
            } else p.send(`echo ${line}`);
          }),
          { connectionLost: (e: Error | null) => lost.resolve(e) },
        ),
      HOST,
      0,
      { onError: (e) => errors.push(e) },
    );
    servers.push(server);
    const [reader, writer] = await openConnection(HOST, portOf(server));
    writer.write('a\nquit\nb\nc\n');
    expect(Buffer.from(await reader.read(-1)).toString()).toBe('echo a\nbye\n');
    expect(await lost.promise).toBeNull();
    expect(seen).toEqual(['a', 'quit']);
    expect(errors).toEqual([]);
    writer.close();
  });

  it('calls frameError once and delivers the frames before the error once, whatever arrives later', async () => {
    const [[, w1], [r2, w2]] = createStreamPair();
    const seen: string[] = [];
    const frameErrors: unknown[] = [];
    const lost = deferred<Error | null>();
    const { connectProtocol } = await import('./adapters.js');
    const p = Object.assign(
      new FramedProtocol(new LinesCodec({ maxLength: 4 }), (l: string) => seen.push(l)),
      {
        // Keeps the connection open (say, to answer with an error line) instead of aborting.
        frameError: (e: unknown) => frameErrors.push(e),
        connectionLost: (e: Error | null) => lost.resolve(e),
      },
    );
    const t = connectProtocol(r2, w2, p);
    w1.write('ok\ntoo long\n');
    await until(() => frameErrors.length > 0);
    w1.write('more\n');
    w1.writeEof();
    await until(() => t.isClosing());
    await lost.promise;
    expect(seen).toEqual(['ok']);
    expect(frameErrors).toHaveLength(1);
    expect(frameErrors[0]).toBeInstanceOf(FrameTooLargeError);
  });

  it('accepts an onFrame callback instead of a subclass', async () => {
    const [[r1, w1], [r2, w2]] = createStreamPair({ chunking: 'random' });
    const { connectProtocol } = await import('./adapters.js');
    connectProtocol(r2, w2, new FramedProtocol(new JsonLinesCodec<number>(), (n, p) => p.send(n + 1)));
    const conn = framed(r1, w1, new JsonLinesCodec<number>());
    await conn.send(41);
    expect(await conn.read()).toBe(42);
    expect(() => new FramedProtocol(new LinesCodec()).send('x')).toThrow(
      expect.objectContaining({ code: 'ERR_TRANSPORT_CLOSED' }),
    );
  });
});
