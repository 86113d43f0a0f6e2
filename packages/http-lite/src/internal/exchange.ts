import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';
import { HttpError } from '../errors.js';
import { type BodyController, HttpResponse, ResponseBody } from '../response.js';
import type { ResponseHeadEvent } from '../response-parser.js';
import type { Connection } from './connection.js';
import { type Tickable, unwatch, watch } from './ticker.js';

/** A request ready for the wire, as built by `request()`. */
export interface ExchangeSpec {
  method: string;
  url: string;
  /** Serialized request line + fields + final CRLF. */
  head: string;
  /** Whether `head` holds only ASCII (then it can share one string write with a string body). */
  headAscii: boolean;
  body: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  /** Stream bodies: frame with chunked encoding (false when the caller gave a Content-Length). */
  chunked: boolean;
  /** Stream bodies sent raw: the Content-Length the caller declared (the stream must match it exactly). */
  declaredLength: number | null;
  /** Idempotent method with a replayable body: may be retried once on a fresh connection. */
  retryable: boolean;
  maxHeaderSize: number;
  maxResponseSize: number;
  allowObsFold: boolean;
  decompress: boolean;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  /** Absolute `Date.now()` deadline for the whole request, or 0. */
  totalDeadline: number;
  totalTimeout: number;
  signal: AbortSignal | undefined;
  redirected: boolean;
}

enum Phase {
  Queued,
  Sending,
  Head,
  Body,
  Done,
}

/** One request/response on one connection (a retry is a new Exchange). */
export class Exchange implements Tickable, BodyController {
  readonly spec: ExchangeSpec;
  #resolve: (r: HttpResponse) => void;
  #reject: (e: Error) => void;
  phase = Phase.Queued;
  conn: Connection | null = null;
  /** Any response byte arrived (then a failure is never retried). */
  gotBytes = false;
  retried = false;
  /** The request body was completely written. */
  sent = false;
  #response: HttpResponse | null = null;
  #body: ResponseBody | null = null;
  #decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null = null;
  #received = 0;
  #since = 0;
  #activity = 0;
  /** Body bytes as received (before decoding). */
  #wireBytes = 0;
  #seenActivity = 0;
  #paused = false;
  #onAbort: (() => void) | null = null;

  constructor(spec: ExchangeSpec, resolve: (r: HttpResponse) => void, reject: (e: Error) => void) {
    this.spec = spec;
    this.#resolve = resolve;
    this.#reject = reject;
    if (spec.totalDeadline || spec.headersTimeout || spec.bodyTimeout) watch(this);
    const signal = spec.signal;
    if (signal) {
      this.#onAbort = () => this.fail(abortError(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get settled(): boolean {
    return this.phase === Phase.Done;
  }

  /** A clone for the one retry. */
  cloneForRetry(): Exchange {
    const ex = new Exchange(this.spec, this.#resolve, this.#reject);
    ex.retried = true;
    return ex;
  }

  /** Detaches timers and signal without settling (the retry clone takes over). */
  handOver(): void {
    this.phase = Phase.Done;
    this.#cleanup();
  }

  tick(now: number): void {
    const s = this.spec;
    if (s.totalDeadline && now >= s.totalDeadline) {
      this.fail(
        new HttpError(
          'ERR_TOTAL_TIMEOUT',
          `request to ${s.url} exceeded the total timeout of ${s.totalTimeout} ms`,
        ),
      );
      return;
    }
    if (this.phase === Phase.Head) {
      // The clock starts once the request is sent: while a stream body uploads, each chunk restarts it.
      if (this.#since === 0 || this.#activity !== this.#seenActivity) {
        this.#seenActivity = this.#activity;
        this.#since = now;
      } else if (s.headersTimeout && now - this.#since >= s.headersTimeout) {
        this.fail(
          new HttpError(
            'ERR_HEADERS_TIMEOUT',
            `no response head from ${s.url} within ${s.headersTimeout} ms`,
          ),
        );
      }
    } else if (this.phase === Phase.Body) {
      if (this.#paused || this.#activity !== this.#seenActivity || this.#since === 0) {
        this.#seenActivity = this.#activity;
        this.#since = now;
      } else if (s.bodyTimeout && now - this.#since >= s.bodyTimeout) {
        this.fail(
          new HttpError('ERR_BODY_TIMEOUT', `response body from ${s.url} idle for ${s.bodyTimeout} ms`),
        );
      }
    }
  }

  /** A chunk of a stream body was written (called by the connection's pump). */
  uploaded(): void {
    this.#activity++;
  }

  /** The request is on the wire (called by the connection). */
  startHead(): void {
    this.phase = Phase.Head;
    this.#since = 0;
  }

  onHead(ev: ResponseHeadEvent): void {
    const s = this.spec;
    if (
      s.maxResponseSize !== Number.POSITIVE_INFINITY &&
      ev.framing === 'length' && // HEAD/204/304: Content-Length describes a body that is not sent
      ev.contentLength !== null &&
      ev.contentLength > s.maxResponseSize
    ) {
      this.fail(tooLarge(s, ev.contentLength));
      return;
    }
    const body = new ResponseBody();
    this.#body = body;
    body.controller = this;
    this.phase = Phase.Body;
    this.#since = 0;
    if (s.decompress && ev.framing !== 'none') {
      const enc = ev.headers.get('content-encoding');
      if (enc !== null) this.#startDecoder(enc.trim().toLowerCase());
    }
    const res = new HttpResponse({
      status: ev.status,
      statusText: ev.statusText,
      httpVersion: ev.httpVersion,
      headers: ev.headers,
      rawHeaders: ev.rawHeaders,
      body,
      url: s.url,
      redirected: s.redirected,
    });
    this.#response = res;
    this.#resolve(res);
  }

  // BodyController: the consumer's backpressure reaches the socket only while this exchange owns it.
  pause(): void {
    this.#paused = true;
    // Hold the decoder too: a small compressed chunk can inflate to gigabytes (zlib honours readable backpressure).
    this.#decoder?.pause();
    const conn = this.conn;
    if (conn !== null && conn.current === this) conn.transport.pauseReading();
  }

  resume(): void {
    this.#paused = false;
    this.#decoder?.resume();
    const conn = this.conn;
    if (conn !== null && conn.current === this) conn.transport.resumeReading();
  }

  cancel(): void {
    if (this.phase !== Phase.Done)
      this.fail(new HttpError('ERR_ABORTED', 'response body discarded before its end'));
  }

  #startDecoder(enc: string): void {
    let d: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null = null;
    if (enc === 'gzip' || enc === 'x-gzip') d = zlib.createGunzip();
    else if (enc === 'br') d = zlib.createBrotliDecompress();
    else if (enc === 'deflate') d = zlib.createInflate(); // swapped for raw deflate on the first chunk if needed
    if (d === null) return;
    this.#decoder = d;
    this.#wireDecoder(d);
  }

  #wireDecoder(d: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress): void {
    const body = this.#body!;
    d.on('data', (chunk: Buffer) => this.#deliver(chunk));
    d.on('end', () => {
      if (this.#decoder === d) body.end();
    });
    d.on('error', (err) => {
      if (this.#decoder !== d) return;
      const e = new HttpError('ERR_HTTP_PARSE', `invalid content-encoding data: ${err.message}`, {
        reason: 'invalid content-encoding data',
        cause: err,
      });
      if (this.phase !== Phase.Done) this.fail(e);
      else body.fail(e);
    });
  }

  #deliver(chunk: Uint8Array): void {
    this.#received += chunk.byteLength;
    if (this.#received > this.spec.maxResponseSize) {
      this.fail(tooLarge(this.spec, this.#received));
      return;
    }
    this.#body!.push(chunk);
  }

  onBody(chunk: Uint8Array): void {
    this.#activity++;
    this.#wireBytes += chunk.byteLength;
    const d = this.#decoder;
    if (d === null) {
      this.#deliver(chunk);
      return;
    }
    if (d instanceof zlib.Inflate && this.#received === 0 && d.bytesWritten === 0 && chunk.byteLength > 0) {
      // "deflate" is zlib-wrapped per RFC 9110, but some servers send raw deflate.
      if ((chunk[0]! & 0x0f) !== 8) {
        const raw = zlib.createInflateRaw();
        this.#decoder = raw;
        d.removeAllListeners();
        d.destroy();
        this.#wireDecoder(raw as unknown as zlib.Inflate);
        raw.write(chunk);
        return;
      }
    }
    d.write(chunk);
  }

  onTrailers(trailers: import('../headers.js').HttpHeaders): void {
    if (this.#response) this.#response.trailers = trailers;
  }

  /** The response is complete on the wire; the connection has already been released. */
  onEnd(): void {
    this.phase = Phase.Done;
    this.#cleanup();
    const d = this.#decoder;
    if (d !== null && this.#wireBytes === 0) {
      // An empty body with a Content-Encoding (as fetch does): nothing to decode, not a truncated stream.
      this.#decoder = null;
      d.removeAllListeners();
      d.destroy();
      this.#body?.end();
    } else if (d !== null) d.end();
    else this.#body?.end();
  }

  /** Fails the exchange wherever it is; the connection (if any) is destroyed. */
  fail(err: Error): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    this.#cleanup();
    const conn = this.conn;
    if (conn !== null && conn.current === this) {
      conn.current = null;
      this.conn = null;
      conn.destroy(err);
    }
    if (this.#decoder !== null) {
      this.#decoder.removeAllListeners();
      this.#decoder.on('error', () => {});
      this.#decoder.destroy();
    }
    if (this.#response === null) this.#reject(err);
    else this.#body!.fail(err);
  }

  #cleanup(): void {
    unwatch(this);
    if (this.#onAbort !== null) {
      this.spec.signal!.removeEventListener('abort', this.#onAbort);
      this.#onAbort = null;
    }
  }
}

function tooLarge(s: ExchangeSpec, n: number): HttpError {
  return new HttpError(
    'ERR_RESPONSE_TOO_LARGE',
    `response from ${s.url} larger than maxResponseSize ${s.maxResponseSize}: ${n} bytes`,
  );
}

/** @internal */
export function abortError(signal: AbortSignal): HttpError {
  const reason: unknown = signal.reason;
  if (reason instanceof HttpError) return reason;
  return new HttpError(
    'ERR_ABORTED',
    `request aborted: ${reason instanceof Error ? reason.message : String(reason)}`,
    {
      cause: reason,
    },
  );
}

/** @internal Buffer view helper. */
export function toBuffer(c: Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}
