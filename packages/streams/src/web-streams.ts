import {
  type ReadableByteStreamController,
  ReadableStream,
  WritableStream,
  type WritableStreamDefaultController,
} from 'node:stream/web';
import { streamsFromTransport } from './connection.js';
import type { StreamReader } from './stream-reader.js';
import type { StreamWriter } from './stream-writer.js';
import { WebStreamTransport, type WebStreamTransportOptions } from './web-stream-transport.js';

/** A connection as WHATWG streams, the shape of Deno's and the WinterTC sockets API's `conn.readable`/`conn.writable`. */
export interface WebStreamPair {
  /** Bytes from the peer: a byte stream (`type: 'bytes'`), so `getReader({ mode: 'byob' })` works. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  writable: WritableStream<Uint8Array | string>;
}

/** Writes from this size up are copied: the web writer may reuse its buffer once write() resolved. */
const COPY_FROM = 16_384;

/**
 * Exposes a `[reader, writer]` pair as WHATWG streams, for code that speaks `ReadableStream` /
 * `WritableStream`: `pipeTo()`, `fetch` bodies, `TextDecoderStream`, Deno-style `conn.readable`.
 *
 * - `readable` is a byte stream: a BYOB reader reads straight into its own buffer; a default
 *   reader gets a fresh `Uint8Array` per chunk. It pulls from the reader only when read (no
 *   buffering of its own), so the reader's flow control holds the peer back.
 * - `writable` applies the writer's water marks: a write stays pending while the writer is above
 *   its high-water mark, so `desiredSize` drops to 0 (and `ready` waits) until `drain()` resolves at
 *   the low mark.
 * - `writable.close()` sends EOF (`writeEof()`; on TLS it closes once flushed); `writable.abort()`
 *   aborts the connection; `readable.cancel()` closes it.
 *
 * The streams own the pair from now on: do not use the reader or writer directly.
 *
 * @param reader - the connection's reader
 * @param writer - the connection's writer
 * @returns `{ readable, writable }`
 * @throws nothing itself; the connection's errors error both streams (a reset: `ECONNRESET`)
 * @example
 * ```ts
 * const [reader, writer] = await openConnection('127.0.0.1', port);
 * const { readable, writable } = toWebStreams(reader, writer);
 * await ReadableStream.from(['hello\n']).pipeTo(writable);
 * for await (const text of readable.pipeThrough(new TextDecoderStream())) console.log(text);
 * ```
 */
export function toWebStreams(reader: StreamReader, writer: StreamWriter): WebStreamPair {
  const cancel = new AbortController();
  const transport = writer.transport;
  const aboveMark = () => transport.getWriteBufferSize() > transport.getWriteBufferLimits().high;

  const readable = new ReadableStream(
    {
      type: 'bytes',
      async pull(controller: ReadableByteStreamController) {
        const request = controller.byobRequest;
        const view = request?.view ?? null;
        let chunk: Buffer;
        try {
          chunk = await reader.read(view === null ? reader.limit : view.byteLength, {
            signal: cancel.signal,
          });
        } catch (err) {
          // Cancelled by writable.abort(): fail with its reason (after readable.cancel() this is a no-op).
          controller.error(cancel.signal.aborted ? cancel.signal.reason : err);
          return;
        }
        if (chunk.byteLength === 0) {
          controller.close();
          // A pending BYOB read is answered with an empty view once the stream is closed.
          request?.respond(0);
          return;
        }
        if (view !== null) {
          new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(chunk);
          request!.respond(chunk.byteLength);
        } else {
          // enqueue() transfers the chunk's ArrayBuffer, which the reader's other views (or Node's
          // buffer pool) still share: hand over a copy.
          controller.enqueue(new Uint8Array(chunk));
        }
      },
      cancel() {
        cancel.abort();
        writer.close();
      },
    },
    { highWaterMark: 0 },
  );

  let aborted: AbortSignal | undefined;
  const writable = new WritableStream<Uint8Array | string>(
    {
      start(controller) {
        // abort() fires this at once; the spec would otherwise wait for a write stuck on drain().
        aborted = (controller as WritableStreamDefaultController & { signal: AbortSignal }).signal;
        // A connection lost while nothing is being written still errors the stream (pipeTo stops).
        void writer.waitClosed().then(() => {
          if (transport.error !== null) controller.error(transport.error);
        });
      },
      write(chunk) {
        const data =
          typeof chunk === 'string'
            ? chunk
            : chunk.byteLength >= COPY_FROM
              ? Buffer.from(chunk)
              : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        writer.write(data);
        return aboveMark() ? writer.drain({ signal: aborted }) : undefined;
      },
      close() {
        if (writer.canWriteEof()) writer.writeEof();
        else writer.close();
      },
      abort(reason) {
        cancel.abort(reason);
        transport.abort(reason instanceof Error ? reason : undefined);
      },
    },
    // One chunk: desiredSize is 1 while the writer is at or below its high-water mark and 0 while
    // a write waits for drain(), so it follows the writer's water marks without a second buffer.
    { highWaterMark: 1 },
  );

  return { readable, writable };
}

/** Options for {@link fromWebStreams}. */
export interface FromWebStreamsOptions extends WebStreamTransportOptions {
  /** Reader buffer limit (see {@link StreamReader.limit}). @default 65536 */
  limit?: number | undefined;
}

/**
 * Runs asyncio-style streams over WHATWG streams: any `{ readable, writable }` pair (Deno's
 * `Deno.connect()`, the WinterTC sockets API, `Duplex.toWeb(socket)`, a `TransformStream`) becomes a
 * `[StreamReader, StreamWriter]` with the same rules as a socket: the reader stops pulling from
 * `readable` past `2 x limit` buffered bytes, writes are coalesced per tick, and `drain()` waits while
 * more than the high-water mark is queued in `writable`. `writer.writeEof()` closes `writable`;
 * `writer.close()` closes it and cancels `readable`.
 *
 * @param streams - `readable` (bytes from the peer) and `writable` (bytes to the peer); both are locked
 * @param options - reader limit, water marks, `getExtraInfo` values
 * @returns `[reader, writer]`
 * @throws {@link StreamsError} `ERR_INVALID_ARGUMENT` for a bad limit or water marks; a `TypeError` when
 *   either stream is already locked
 * @example
 * ```ts
 * const { readable, writable } = Duplex.toWeb(socket);
 * const [reader, writer] = fromWebStreams({ readable, writable });
 * writer.write('ping\n');
 * console.log((await reader.readLine()).toString());
 * ```
 */
export function fromWebStreams(
  streams: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  options: FromWebStreamsOptions = {},
): [StreamReader, StreamWriter] {
  return streamsFromTransport(new WebStreamTransport(streams.readable, streams.writable, options), options);
}
