import { Buffer } from 'node:buffer';
import { asBuffer } from '@asyncnet/streams/adapter';
import { HttpError } from './errors.js';
import { HttpHeaders } from './headers.js';

/** @internal What a body needs from the connection that feeds it. */
export interface BodyController {
  /** Stop reading from the socket (consumer is slow). */
  pause(): void;
  /** Resume reading. */
  resume(): void;
  /** The consumer gave up: the connection cannot be reused. */
  cancel(): void;
  /** The consumer discards the rest but the connection may be reused: stop decoding, keep draining the wire. */
  stopDecoding(): void;
}

const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;
const DISPOSE_DRAIN_LIMIT = 64 * 1024;
const EMPTY = new Uint8Array(0);

type Collector = {
  chunks: Uint8Array[];
  bytes: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
};

/**
 * A response body: an async iterable of byte chunks plus one-shot readers. It can be consumed once.
 * Reading it to the end (or {@link ResponseBody.dump}) returns the connection to the pool.
 *
 * @example
 * ```ts
 * const res = await get('http://127.0.0.1:8080/big');
 * for await (const chunk of res.body) process.stdout.write(chunk);
 * ```
 */
export class ResponseBody implements AsyncIterable<Uint8Array> {
  #queue: Uint8Array[] = [];
  #queued = 0;
  #head = 0;
  #ended = false;
  #error: Error | null = null;
  #paused = false;
  #used = false;
  #waiter: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: Error) => void } | null = null;
  #collector: Collector | null = null;
  /** Bytes dropped while disposing; -1 when not dumping, -Infinity for an unlimited {@link ResponseBody.dump}. */
  #dumping = -1;
  #onEnd: Array<() => void> | null = null;
  /** @internal */
  controller: BodyController | null = null;

  /** Whether the whole body has been received. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the body has been (or is being) consumed. */
  get bodyUsed(): boolean {
    return this.#used;
  }

  /** @internal Delivers a chunk from the connection. */
  push(chunk: Uint8Array): void {
    if (this.#ended || this.#error) return;
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.resolve({ value: chunk, done: false });
      return;
    }
    const c = this.#collector;
    if (c !== null) {
      c.chunks.push(chunk);
      c.bytes += chunk.byteLength;
      return;
    }
    if (this.#dumping !== -1) {
      this.#dumping += chunk.byteLength;
      if (this.#dumping > DISPOSE_DRAIN_LIMIT) this.#giveUp();
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
    if (!this.#paused && this.#queued > HIGH_WATER) {
      this.#paused = true;
      this.controller?.pause();
    }
  }

  /** @internal The body is complete. */
  end(): void {
    if (this.#ended || this.#error) return;
    this.#ended = true;
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
    const c = this.#collector;
    if (c !== null) {
      this.#collector = null;
      c.resolve(c.chunks.length === 1 ? asBuffer(c.chunks[0]!) : Buffer.concat(c.chunks, c.bytes));
    }
    this.#settled();
  }

  /** @internal The body failed. */
  fail(err: Error): void {
    if (this.#ended || this.#error) return;
    this.#error = err;
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.reject(err);
    }
    const c = this.#collector;
    if (c !== null) {
      this.#collector = null;
      if (err instanceof HttpError && err.code === 'ERR_PREMATURE_CLOSE') {
        err.partial = Buffer.concat(c.chunks, c.bytes);
      }
      c.reject(err);
    }
    this.#settled();
  }

  #settled(): void {
    const cbs = this.#onEnd;
    this.#onEnd = null;
    if (cbs) for (const cb of cbs) cb();
  }

  #giveUp(): void {
    this.#queue = [];
    this.#queued = 0;
    const ctl = this.controller;
    this.fail(new HttpError('ERR_ABORTED', 'response body discarded before its end'));
    ctl?.cancel();
  }

  #use(what: string): void {
    if (this.#used) throw new HttpError('ERR_BODY_USED', `response body already used, cannot call ${what}`);
    this.#used = true;
  }

  /**
   * Reads the whole body.
   * @returns the bytes (a `Buffer`).
   * @throws {@link HttpError} `ERR_PREMATURE_CLOSE` (with `partial`), timeouts, `ERR_RESPONSE_TOO_LARGE`, `ERR_ABORTED`.
   */
  bytes(): Promise<Buffer> {
    if (this.#used)
      return Promise.reject(
        new HttpError('ERR_BODY_USED', 'response body already used, cannot call bytes()'),
      );
    this.#used = true;
    if (this.#error) return Promise.reject(this.#error);
    const chunks = this.#head === 0 ? this.#queue : this.#queue.slice(this.#head);
    const bytes = this.#queued;
    this.#head = 0;
    this.#queue = [];
    this.#queued = 0;
    if (this.#ended) {
      return Promise.resolve(chunks.length === 1 ? asBuffer(chunks[0]!) : Buffer.concat(chunks, bytes));
    }
    if (this.#paused) {
      this.#paused = false;
      this.controller?.resume();
    }
    return new Promise((resolve, reject) => {
      this.#collector = { chunks, bytes, resolve, reject };
    });
  }

  /**
   * Reads the whole body as UTF-8 text.
   * @returns the text.
   * @throws as {@link ResponseBody.bytes}.
   */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /**
   * Reads and parses the whole body as JSON.
   * @returns the parsed value.
   * @throws as {@link ResponseBody.bytes}, or `SyntaxError`.
   */
  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /**
   * Reads the whole body into a fresh `ArrayBuffer`.
   * @returns the bytes.
   * @throws as {@link ResponseBody.bytes}.
   */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    const out = new ArrayBuffer(b.byteLength);
    new Uint8Array(out).set(b);
    return out;
  }

  /**
   * Discards the rest of the body so the connection can be reused; resolves at its end.
   * @returns nothing.
   * @throws never for network errors after the head: those just close the connection.
   */
  dump(): Promise<void> {
    if (this.#ended || this.#error) {
      this.#used = true;
      return Promise.resolve();
    }
    this.#used = true;
    this.#queue = [];
    this.#queued = 0;
    this.#dumping = Number.NEGATIVE_INFINITY; // unlimited for an explicit dump
    const settled = this.#whenSettled();
    this.controller?.stopDecoding();
    if (this.#paused) {
      this.#paused = false;
      this.controller?.resume();
    }
    return settled;
  }

  /** @internal Dispose: drain a small remainder so the connection survives, else close it. */
  discard(): Promise<void> {
    if (this.#ended || this.#error) return Promise.resolve();
    if (this.#dumping !== -1) return this.#whenSettled(); // dump() already running: keep its (unlimited) budget
    this.#used = true;
    if (this.#queued > DISPOSE_DRAIN_LIMIT || this.#waiter !== null || this.#collector !== null) {
      this.#giveUp();
      return Promise.resolve();
    }
    this.#dumping = this.#queued;
    this.#queue = [];
    this.#queued = 0;
    const settled = this.#whenSettled();
    this.controller?.stopDecoding();
    if (this.#paused) {
      this.#paused = false;
      this.controller?.resume();
    }
    return settled;
  }

  #whenSettled(): Promise<void> {
    return new Promise((resolve) => {
      (this.#onEnd ??= []).push(resolve);
    });
  }

  /**
   * Iterates the body chunk by chunk. Breaking out early closes the connection.
   * @returns an async iterator of chunks.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.#use('[Symbol.asyncIterator]()');
    return {
      next: () => this.#next(),
      return: () => {
        if (!this.#ended && !this.#error) this.#giveUp();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#head < this.#queue.length) {
      const chunk = this.#queue[this.#head]!;
      this.#queue[this.#head++] = EMPTY;
      this.#queued -= chunk.byteLength;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      if (this.#paused && this.#queued <= LOW_WATER) {
        this.#paused = false;
        this.controller?.resume();
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== null)
      return Promise.reject(new HttpError('ERR_BODY_USED', 'concurrent next() on a response body'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}

/**
 * An HTTP response: status, fields, trailers and a streaming {@link ResponseBody}.
 * Dispose it (`await using`) or read its body to the end to return the connection to the pool.
 *
 * @example
 * ```ts
 * await using res = await get('http://127.0.0.1:8080/');
 * console.log(res.status, res.headers.get('content-type'), await res.body.text());
 * ```
 */
export class HttpResponse {
  /** Status code, e.g. 200. */
  readonly status: number;
  /** Reason phrase, e.g. `'OK'` (may be empty). */
  readonly statusText: string;
  /** `'1.1'` or `'1.0'`. */
  readonly httpVersion: '1.0' | '1.1';
  /** Case-insensitive fields. */
  readonly headers: HttpHeaders;
  /** Fields in wire order and original case. */
  readonly rawHeaders: [string, string][];
  /** Trailer fields; filled once the body has been read to its end. */
  trailers: HttpHeaders;
  /** The body. */
  readonly body: ResponseBody;
  /** The URL this response came from (after redirects). */
  readonly url: string;
  /** Whether redirects were followed to get here. */
  readonly redirected: boolean;

  /**
   * @internal Built by the client.
   * @param init - the parsed head, body and final URL.
   */
  constructor(init: {
    status: number;
    statusText: string;
    httpVersion: '1.0' | '1.1';
    headers: HttpHeaders;
    rawHeaders: [string, string][];
    body: ResponseBody;
    url: string;
    redirected: boolean;
  }) {
    this.status = init.status;
    this.statusText = init.statusText;
    this.httpVersion = init.httpVersion;
    this.headers = init.headers;
    this.rawHeaders = init.rawHeaders;
    this.trailers = EMPTY_HEADERS;
    this.body = init.body;
    this.url = init.url;
    this.redirected = init.redirected;
  }

  /** Whether the status is 2xx. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /**
   * Releases the response: drains a small unread remainder so the connection is reused, or closes it.
   * @returns a promise that settles when the connection is released.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.body.discard();
  }
}

const EMPTY_HEADERS = new HttpHeaders([], []);
