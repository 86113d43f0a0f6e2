import { asBuffer } from '@asyncnet/streams/adapter';
import { HttpError } from '../errors.js';
import type { HttpHeaders } from '../headers.js';
import { type BodyController, HttpResponse, ResponseBody } from '../response.js';
import type { ResponseHeadEvent } from '../response-parser.js';
import { chCreate, chError, chHeaders, chTrailers, type TraceRequest, traceRequest } from '../tracing.js';
import type { BodyDecoder, DecoderFactory } from './content-decoder.js';
import { type Tickable, unwatch, watch } from './ticker.js';

/** @internal A request ready for the wire, as built by `request()`. */
export interface ExchangeSpec {
  method: string;
  url: string;
  /** `scheme://host[:port]` of `url`. */
  origin: string;
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
  /** Chooses the response body's decoder from its head (the decompression layer's), or null: none. */
  decoder: DecoderFactory | null;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  /** Absolute `Date.now()` deadline for the whole request, or 0. */
  totalDeadline: number;
  totalTimeout: number;
  signal: AbortSignal | undefined;
  redirected: boolean;
  /** Request body bytes when known (its length, or a stream's declared Content-Length). */
  uploadTotal: number | null;
  onUploadProgress: ((p: Progress) => void) | undefined;
  onDownloadProgress: ((p: Progress) => void) | undefined;
}

/** What the progress callbacks receive. */
export interface Progress {
  /** Bytes so far: request body bytes handed to the connection, or response body bytes delivered (decoded, with `decompress`). */
  loaded: number;
  /** All bytes, when known: the request body's length, or the response's Content-Length (not when decoding). */
  total?: number | undefined;
}

enum Phase {
  Queued,
  Sending,
  Head,
  Body,
  /** The wire body is complete; the decoder is still producing (the connection is held until it ends). */
  Decoding,
  Done,
}

/**
 * @internal What an exchange may ask of the connection carrying it (the connection owns the socket and which exchange
 * is current; each call is ignored unless `ex` is still that exchange).
 */
export interface ExchangeLink {
  /** The response (decoded, if decoding) has ended: reuse or close the connection. */
  done(ex: Exchange): void;
  /** The exchange failed: the connection cannot be trusted any more. */
  abandon(ex: Exchange, err: Error): void;
  /** Back-pressure from the consumer or the decoder: read the socket or not. */
  setReading(ex: Exchange, reading: boolean): void;
}

/** @internal One request/response on one connection (a retry is a new Exchange). */
export class Exchange implements Tickable, BodyController {
  readonly spec: ExchangeSpec;
  #resolve: (r: HttpResponse) => void;
  #reject: (e: Error) => void;
  phase = Phase.Queued;
  tickIndex = -1;
  /** The connection carrying this exchange, set by it through {@link Exchange.attach}. */
  #link: ExchangeLink | null = null;
  retried = false;
  #response: HttpResponse | null = null;
  #body: ResponseBody | null = null;
  #decoder: BodyDecoder | null = null;
  /** Set by the pool while the exchange waits in its queue or for its connect: frees that slot. */
  #unpark: (() => void) | null = null;
  /** Body bytes delivered to the consumer (decoded, when decoding). */
  #received = 0;
  #since = 0;
  #activity = 0;
  /** Body bytes as received (before decoding). */
  #wireBytes = 0;
  #seenActivity = 0;
  #paused = false;
  #onAbort: (() => void) | null = null;
  #uploadedBytes = 0;
  /** The response's Content-Length for download progress (unknown while decoding). */
  #downloadTotal: number | undefined = undefined;
  /** The diagnostics_channel message object, made on first use (only while someone subscribes). */
  #trace: TraceRequest | null = null;

  constructor(spec: ExchangeSpec, resolve: (r: HttpResponse) => void, reject: (e: Error) => void) {
    this.spec = spec;
    this.#resolve = resolve;
    this.#reject = reject;
    if (chCreate.hasSubscribers) chCreate.publish({ request: this.traced() });
    if (spec.totalDeadline || spec.headersTimeout || spec.bodyTimeout) watch(this);
    const signal = spec.signal;
    if (signal) {
      this.#onAbort = () => this.fail(abortError(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Called by the connection that starts carrying this exchange. */
  attach(link: ExchangeLink): void {
    this.#link = link;
  }

  /** Called by the connection once it no longer carries this exchange. */
  detach(): void {
    this.#link = null;
  }

  /** The object `http-lite:request:*` messages carry for this attempt. */
  traced(): TraceRequest {
    if (this.#trace === null) this.#trace = traceRequest(this.spec);
    return this.#trace;
  }

  /** Done with the wire: failed, or its response arrived in full (a decoder may still be producing). */
  get settled(): boolean {
    return this.phase >= Phase.Decoding;
  }

  /**
   * Called by the pool when it queues the exchange or starts a connect for it (`null` once it has a
   * connection): `unpark` runs if the exchange fails first, so an abort frees the slot and the socket now.
   */
  park(unpark: (() => void) | null): void {
    this.#unpark = unpark;
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

  /** Body bytes were written (a stream chunk, or the whole body; 0 at a stream's end). */
  uploaded(bytes: number): void {
    this.#activity++;
    const cb = this.spec.onUploadProgress;
    if (cb !== undefined && bytes > 0) {
      this.#uploadedBytes += bytes;
      this.#progress(cb, this.#uploadedBytes, this.spec.uploadTotal ?? undefined);
    }
  }

  /** A progress callback that throws fails the request with its error. */
  #progress(cb: (p: Progress) => void, loaded: number, total: number | undefined): void {
    try {
      cb(total === undefined ? { loaded } : { loaded, total });
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
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
      this.fail(tooLarge(s, ev.contentLength, false));
      return;
    }
    // HEAD/204/304 and empty bodies have nothing to decode, whatever their Content-Encoding says.
    if (s.decoder !== null && ev.framing !== 'none' && ev.contentLength !== 0) {
      try {
        this.#decoder = s.decoder(
          ev.headers,
          {
            data: (chunk) => this.#deliver(chunk),
            end: () => this.#decoded(),
            error: (err) => this.fail(err),
          },
          () => this.#syncReading(),
        );
      } catch (err) {
        this.fail(err as Error);
        return;
      }
    }
    if (s.onDownloadProgress !== undefined && this.#decoder === null && ev.framing === 'length')
      this.#downloadTotal = ev.contentLength ?? undefined;
    const body = new ResponseBody();
    this.#body = body;
    body.controller = this;
    this.phase = Phase.Body;
    this.#since = 0;
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
    if (chHeaders.hasSubscribers) {
      chHeaders.publish({
        request: this.traced(),
        response: { statusCode: ev.status, statusText: ev.statusText, headers: ev.rawHeaders },
      });
    }
    this.#resolve(res);
  }

  // BodyController: the consumer's backpressure reaches the socket only while this exchange owns it.
  pause(): void {
    this.#paused = true;
    // Hold the decoder too: a small compressed chunk can inflate to gigabytes (zlib honours readable backpressure).
    this.#decoder?.pause();
    this.#syncReading();
  }

  resume(): void {
    this.#paused = false;
    this.#decoder?.resume();
    this.#syncReading();
  }

  /** Reads the socket unless the consumer or the decoder's input is full (only while the wire body flows). */
  #syncReading(): void {
    const link = this.#link;
    if (this.phase !== Phase.Body || link === null) return;
    link.setReading(this, !(this.#paused || this.#decoder?.inputFull === true));
  }

  cancel(): void {
    if (this.phase !== Phase.Done)
      this.fail(new HttpError('ERR_ABORTED', 'response body discarded before its end'));
  }

  stopDecoding(): void {
    const d = this.#decoder;
    if (d === null) return;
    // dump()/dispose: nobody reads the decoded bytes, so inflating them is wasted CPU. The wire bytes
    // still drain as they are (the connection stays reusable) and count towards maxResponseSize.
    this.#decoder = null;
    d.destroy();
    if (this.phase === Phase.Decoding) this.#complete();
    else this.#syncReading();
  }

  #deliver(chunk: Uint8Array): void {
    this.#received += chunk.byteLength;
    if (this.#received > this.spec.maxResponseSize) {
      // Decoded or not, a body over the limit fails (and stops its decoder) the moment it passes it.
      this.fail(tooLarge(this.spec, this.#received, this.#decoder !== null));
      return;
    }
    this.#body!.push(chunk);
    const cb = this.spec.onDownloadProgress;
    if (cb !== undefined) this.#progress(cb, this.#received, this.#downloadTotal);
  }

  onBody(chunk: Uint8Array): void {
    this.#activity++;
    this.#wireBytes += chunk.byteLength;
    const d = this.#decoder;
    if (d === null) {
      this.#deliver(chunk);
      return;
    }
    d.write(asBuffer(chunk));
    if (d.inputFull) this.#syncReading();
  }

  onTrailers(trailers: HttpHeaders): void {
    if (this.#response) this.#response.trailers = trailers;
  }

  /** The response is complete on the wire (called by the connection, which this exchange still holds). */
  onEnd(): void {
    const d = this.#decoder;
    if (d !== null && this.#wireBytes > 0) {
      // The body ends when the decoder does: until then the total timeout, the signal and the
      // maxResponseSize check keep applying, and the connection stays with this exchange.
      this.phase = Phase.Decoding;
      d.end();
      return;
    }
    if (d !== null) {
      // An empty body with a Content-Encoding (as fetch does): nothing to decode, not a truncated stream.
      this.#decoder = null;
      d.destroy();
    }
    this.#complete();
  }

  #decoded(): void {
    this.#decoder = null;
    if (this.phase === Phase.Decoding) this.#complete();
  }

  #complete(): void {
    this.phase = Phase.Done;
    this.#cleanup();
    if (this.#trace !== null) this.#trace.completed = true;
    if (chTrailers.hasSubscribers) {
      chTrailers.publish({ request: this.traced(), trailers: this.#response?.trailers?.raw() ?? [] });
    }
    // Release first: a request started from the body's end handler can then reuse the connection.
    this.#link?.done(this);
    this.#body?.end();
  }

  /** Fails the exchange wherever it is; the connection (if any) is destroyed, a decoder stopped. */
  fail(err: Error): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    this.#cleanup();
    const unpark = this.#unpark;
    if (unpark !== null) {
      this.#unpark = null;
      unpark();
    }
    const d = this.#decoder;
    if (d !== null) {
      this.#decoder = null;
      d.destroy();
    }
    this.#link?.abandon(this, err);
    if (chError.hasSubscribers) chError.publish({ request: this.traced(), error: err });
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

function tooLarge(s: ExchangeSpec, n: number, decoded: boolean): HttpError {
  return new HttpError(
    'ERR_RESPONSE_TOO_LARGE',
    `response from ${s.url} larger than maxResponseSize ${s.maxResponseSize}: ${decoded ? 'decoded to ' : ''}${n} bytes`,
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
