import type { StreamTransport, TransportListener } from '@asyncnet/streams/adapter';
import { HttpError } from '../errors.js';
import { ResponseParser } from '../response-parser.js';
import { chBodySent, chSendHeaders } from '../tracing.js';
import type { Exchange, ExchangeLink } from './exchange.js';

/** What a connection reports back to its pool. */
export interface ConnectionOwner {
  /** The exchange finished and the connection may be reused (same tick). */
  release(conn: Connection, keepAliveHint: number | null): void;
  /** The connection is gone. */
  remove(conn: Connection): void;
  /** Retry an exchange on a fresh connection. */
  retry(ex: Exchange): void;
}

/** One pooled keep-alive connection: feeds the parser from transport callbacks (no promise per chunk). */
export class Connection implements TransportListener, ExchangeLink {
  readonly transport: StreamTransport;
  readonly owner: ConnectionOwner;
  readonly parser = new ResponseParser();
  current: Exchange | null = null;
  /** Exchanges completed on this connection. */
  served = 0;
  /** When idle: `Date.now()` after which the connection is closed. */
  idleDeadline = 0;
  dead = false;
  #keepAliveHint: number | null = null;
  /** The `end` event's keepAlive for the current exchange. */
  #endKeepAlive = false;
  /** Any response byte arrived for the current exchange (then a failure is never retried). */
  #gotBytes = false;
  /** The current exchange's request body was completely written. */
  #sent = false;
  #writeWaiters: (() => void)[] = [];
  #writePaused = false;

  constructor(transport: StreamTransport, owner: ConnectionOwner) {
    this.transport = transport;
    this.owner = owner;
    transport.setListener(this);
  }

  /** Usable for a new request: open and quiet. */
  usable(): boolean {
    return !this.dead && !this.transport.isClosing();
  }

  /** Sends `ex` on this connection. */
  run(ex: Exchange): void {
    const s = ex.spec;
    this.current = ex;
    this.#gotBytes = false;
    this.#sent = false;
    ex.attach(this);
    this.parser.prepare(s.method === 'HEAD', s.maxHeaderSize, s.allowObsFold);
    const t = this.transport;
    const body = s.body;
    try {
      if (body === null) {
        // obs-text in a field value goes out as latin1 bytes, as with a body (a string write would be UTF-8).
        t.write(s.headAscii ? s.head : Buffer.from(s.head, 'latin1'));
      } else if (typeof body === 'string') {
        if (s.headAscii) t.write(s.head + body);
        else {
          t.write(Buffer.from(s.head, 'latin1'));
          t.write(body);
        }
      } else if (body instanceof Uint8Array) {
        t.write(s.headAscii ? s.head : Buffer.from(s.head, 'latin1'));
        t.write(body);
      } else {
        t.write(s.headAscii ? s.head : Buffer.from(s.head, 'latin1'));
        if (chSendHeaders.hasSubscribers) this.#sentHeaders(ex);
        ex.startHead();
        void this.#pump(ex, body, s.chunked);
        return;
      }
    } catch (err) {
      // The transport closed under us: treat like a connection failure before any byte.
      this.#lost(err as Error);
      return;
    }
    if (chSendHeaders.hasSubscribers) this.#sentHeaders(ex);
    this.#sent = true;
    if (chBodySent.hasSubscribers) chBodySent.publish({ request: ex.traced() });
    if (s.onUploadProgress !== undefined && body !== null)
      ex.uploaded(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    ex.startHead();
  }

  #sentHeaders(ex: Exchange): void {
    const request = ex.traced();
    chSendHeaders.publish({
      request,
      headers: request.headers,
      socket: this.transport.getExtraInfo('socket'),
    });
  }

  async #pump(ex: Exchange, body: AsyncIterable<Uint8Array>, chunked: boolean): Promise<void> {
    const t = this.transport;
    // A raw (Content-Length) stream must match the declared length: extra bytes would be read by
    // the server as the start of another request (smuggling), missing ones leave it waiting.
    const declared = chunked ? null : ex.spec.declaredLength;
    let written = 0;
    let unpaced = 0;
    try {
      for await (const chunk of body) {
        if (!this.#pumping(ex)) return;
        if (chunk.byteLength === 0) continue;
        if (chunked) {
          t.write(`${chunk.byteLength.toString(16)}\r\n`);
          t.write(chunk);
          t.write('\r\n');
        } else {
          written += chunk.byteLength;
          if (declared !== null && written > declared) throw lengthMismatch(declared, written, 'more');
          t.write(chunk);
        }
        ex.uploaded(chunk.byteLength);
        if (this.#writePaused) await new Promise<void>((r) => this.#writeWaiters.push(r));
        if ((unpaced += chunk.byteLength) >= YIELD_EVERY) {
          // A body whose chunks are all ready (a generator of buffers) runs on microtasks only, and a
          // transport may resume us from a tick rather than from I/O: without this turn of the event
          // loop, a reset (a socket event) would never be seen and the body drained into the void.
          unpaced = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
        // Checked before the next chunk is pulled: a lost connection costs no more of the body.
        if (!this.#pumping(ex)) return;
      }
      if (this.current !== ex || ex.settled) return;
      if (chunked) t.write('0\r\n\r\n');
      else if (declared !== null && written !== declared) throw lengthMismatch(declared, written, 'only');
      this.#sent = true;
      if (chBodySent.hasSubscribers) chBodySent.publish({ request: ex.traced() });
      ex.uploaded(0);
    } catch (err) {
      if (this.current === ex) ex.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Whether the pump may go on sending `ex`'s body; fails `ex` when the connection is gone. */
  #pumping(ex: Exchange): boolean {
    if (this.current !== ex || ex.settled) return false;
    if (!this.dead && !this.transport.isClosing()) return true;
    // Normally closed() has failed the exchange already; this covers a transport that only says it is closing.
    ex.fail(
      this.transport.error ??
        new HttpError('ERR_PREMATURE_CLOSE', 'connection closed while sending the request body'),
    );
    return false;
  }

  writePaused(): void {
    this.#writePaused = true;
  }

  writeResumed(): void {
    this.#writePaused = false;
    this.#wake();
  }

  #wake(): void {
    const w = this.#writeWaiters;
    if (w.length === 0) return;
    this.#writeWaiters = [];
    for (const r of w) r();
  }

  data(chunk: Uint8Array): void {
    const ex = this.current;
    if (ex === null) {
      // Stray bytes on an idle connection: the framing can no longer be trusted.
      this.destroy(null);
      return;
    }
    this.#gotBytes = true;
    let events: ReturnType<ResponseParser['push']>;
    try {
      events = this.parser.push(chunk);
    } catch (err) {
      ex.fail(err as Error);
      return;
    }
    this.#dispatch(ex, events);
  }

  #dispatch(ex: Exchange, events: ReturnType<ResponseParser['push']>): void {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (ex.settled) return;
      switch (ev.type) {
        case 'head':
          this.#keepAliveHint = ev.keepAliveTimeout;
          ex.onHead(ev);
          break;
        case 'body':
          ex.onBody(ev.chunk);
          break;
        case 'trailers':
          ex.onTrailers(ev.trailers);
          break;
        case 'end':
          this.#finish(ex, ev.keepAlive);
          break;
      }
    }
  }

  #finish(ex: Exchange, keepAlive: boolean): void {
    this.served++;
    this.#endKeepAlive = keepAlive;
    ex.onEnd(); // calls done() now, or once its decoder has ended
  }

  /** The exchange no longer needs the connection (its body has ended, decoded): reuse or close it. */
  done(ex: Exchange): void {
    if (this.current !== ex) return;
    this.current = null;
    ex.detach();
    if (this.dead) return;
    // A request body still being sent means the server answered early: the connection is out of sync.
    // Bytes after the response (parser.excess) mean the same.
    const reusable =
      this.#endKeepAlive && this.#sent && this.parser.excess === 0 && !this.transport.isClosing();
    if (!this.transport.isReading()) this.transport.resumeReading();
    if (reusable) this.owner.release(this, this.#keepAliveHint);
    else this.destroy(null, true);
  }

  setReading(ex: Exchange, reading: boolean): void {
    if (this.current !== ex) return;
    if (reading) this.transport.resumeReading();
    else this.transport.pauseReading();
  }

  /** The exchange failed: the connection cannot be trusted any more. */
  abandon(ex: Exchange, err: Error): void {
    if (this.current !== ex) return;
    this.current = null;
    ex.detach();
    this.destroy(err);
  }

  eof(): boolean {
    const ex = this.current;
    // After the response's last byte (a decoder may still run) a FIN concerns only the connection.
    if (ex !== null && !this.parser.done) {
      if (!this.#gotBytes) {
        this.#lost(
          new HttpError('ERR_PREMATURE_CLOSE', 'connection closed before the response head', {
            bytesReceived: 0,
          }),
        );
        return false;
      }
      try {
        this.#dispatch(ex, this.parser.finish());
      } catch (err) {
        ex.fail(err as Error);
      }
    }
    this.destroy(null);
    return false;
  }

  closed(error: Error | null): void {
    const wasDead = this.dead;
    this.dead = true;
    this.#wake();
    const ex = this.current;
    if (ex !== null && !this.parser.done) {
      if (!this.#gotBytes)
        this.#lost(
          error ??
            new HttpError('ERR_PREMATURE_CLOSE', 'connection closed before the response head', {
              bytesReceived: 0,
            }),
        );
      // Only a clean FIN (eof) ends a close-delimited body: a reset, or a close without one, cuts it short.
      else ex.fail(cutShort(this.parser, error));
    }
    if (!wasDead) this.owner.remove(this);
  }

  /** The connection died before any response byte for the current exchange: retry once or fail. */
  #lost(err: Error): void {
    const ex = this.current;
    this.current = null;
    if (ex !== null) {
      ex.detach();
      if (this.served > 0 && ex.spec.retryable && !ex.retried && !ex.settled) {
        const again = ex.cloneForRetry();
        ex.handOver();
        // Retry first: the new connect keeps the pool alive while this connection is removed.
        this.owner.retry(again);
        this.destroy(null);
        return;
      }
      ex.fail(err);
    }
    this.destroy(null);
  }

  /** Closes the connection; `graceful` flushes pending writes first. */
  destroy(err: Error | null, graceful = false): void {
    if (!this.dead) {
      this.dead = true;
      this.owner.remove(this);
    }
    if (graceful) this.transport.close();
    else this.transport.abort(err ?? undefined);
  }
}

/** A stream body yields to the event loop after this many bytes (see #pump): one setImmediate per MiB. */
const YIELD_EVERY = 1024 * 1024;

/** `ERR_PREMATURE_CLOSE` for a connection lost mid-response without a FIN; `cause` is its error. */
function cutShort(parser: ResponseParser, error: Error | null): HttpError {
  const bytesReceived = parser.bodyBytes;
  let message: string;
  try {
    parser.finish(); // a close-delimited body: complete at a FIN only, and this is not one
    message = `connection lost inside the response body after ${bytesReceived} bytes, before a clean close`;
  } catch (err) {
    message = (err as Error).message.replace(/^connection closed/, 'connection lost');
  }
  if (error !== null) message += `: ${error.message}`;
  return new HttpError('ERR_PREMATURE_CLOSE', message, {
    bytesReceived,
    ...(error === null ? {} : { cause: error }),
  });
}

function lengthMismatch(declared: number, written: number, what: 'more' | 'only'): HttpError {
  return new HttpError(
    'ERR_CONTENT_LENGTH_MISMATCH',
    what === 'more'
      ? `request body stream longer than its content-length ${declared}: ${written} bytes so far`
      : `request body stream ended after ${written} bytes, content-length is ${declared}`,
  );
}
