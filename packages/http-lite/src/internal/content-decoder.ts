import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';
import { HttpError } from '../errors.js';
import type { HttpHeaders } from '../headers.js';
import { trimOws } from '../response-parser.js';

/** Most content-codings decoded for one response (undici, curl and httpx cap the chain at 5 too). */
export const MAX_CODINGS = 5;

type Coding = 'gzip' | 'deflate' | 'br';
// Input a stage buffers before it asks for a pause: zlib's 16 KiB default would pause the socket per read.
const STAGE_OPTIONS = { writableHighWaterMark: 256 * 1024 } as zlib.ZlibOptions;
type Stage = zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress;

/** Where a {@link BodyDecoder} delivers its output; each is called at most once after a failure. */
export interface DecoderSink {
  data(chunk: Buffer): void;
  end(): void;
  error(err: HttpError): void;
}

/**
 * What the exchange asks of the decoder of its response body: bytes in, back-pressure both ways, and a
 * stop. The exchange keeps the connection (and the timeouts, the signal, `maxResponseSize`) until it ends.
 */
export interface BodyDecoder {
  /** The decoder holds more input than it wants: stop reading the socket until `onInputDrain`. */
  readonly inputFull: boolean;
  write(chunk: Buffer): void;
  end(): void;
  pause(): void;
  resume(): void;
  destroy(): void;
}

/**
 * Chooses the decoder for a response from its fields (null: the body is delivered as received).
 * @throws {@link HttpError} to fail the response before its head is handed out.
 */
export type DecoderFactory = (
  headers: HttpHeaders,
  sink: DecoderSink,
  onInputDrain: () => void,
) => BodyDecoder | null;

/**
 * The codings of a `Content-Encoding` value in decoding order (the last one applied is decoded
 * first, RFC 9110 8.4), `identity` and empty list members skipped.
 * @throws {@link HttpError} `ERR_UNSUPPORTED_CONTENT_ENCODING` for a coding we cannot decode or more
 *   than {@link MAX_CODINGS}: a body is decoded completely or not at all, never handed out half-decoded.
 */
export function decodingOrder(value: string): Coding[] {
  const out: Coding[] = [];
  for (const member of value.split(',')) {
    const c = trimOws(member).toLowerCase();
    if (c === '' || c === 'identity') continue;
    let coding: Coding;
    if (c === 'gzip' || c === 'x-gzip') coding = 'gzip';
    else if (c === 'deflate') coding = 'deflate';
    else if (c === 'br') coding = 'br';
    else {
      throw new HttpError(
        'ERR_UNSUPPORTED_CONTENT_ENCODING',
        `unsupported content-coding ${JSON.stringify(c.slice(0, 32))} in content-encoding ${JSON.stringify(value.slice(0, 128))}`,
      );
    }
    if (out.length === MAX_CODINGS) {
      throw new HttpError(
        'ERR_UNSUPPORTED_CONTENT_ENCODING',
        `more than ${MAX_CODINGS} content-codings in content-encoding ${JSON.stringify(value.slice(0, 128))}`,
      );
    }
    out.push(coding);
  }
  return out.reverse();
}

/** zlib wrapper (RFC 1950) header: CM = 8, CINFO <= 7, and the 16-bit header is a multiple of 31. */
function isZlibHeader(b0: number, b1: number | undefined): boolean {
  if ((b0 & 0x0f) !== 8 || b0 >> 4 > 7) return false;
  return b1 === undefined || ((b0 << 8) | b1) % 31 === 0;
}

/**
 * Decodes a chain of content-codings with zlib, with backpressure between stages and towards the
 * consumer. `deflate` is zlib-wrapped per RFC 9110, but some servers send raw deflate: the choice is
 * made once, on the first two bytes that stage receives, before any byte is handed to zlib.
 * {@link ContentDecoder.destroy} stops every stage at once (zlib finishes at most the step in flight).
 */
export class ContentDecoder implements BodyDecoder {
  readonly #codings: Coding[];
  readonly #stages: (Stage | null)[];
  /** Per stage: the first byte of a deflate stream, held until the second one decides the format. */
  readonly #held: (Buffer | null)[];
  readonly #sink: DecoderSink;
  #dead = false;
  #paused = false;
  /** Bytes written to the first stage and not yet consumed by zlib. */
  #inputFull = false;
  #onInputDrain: (() => void) | null = null;

  /**
   * @param codings - in decoding order, from {@link decodingOrder}; at least one.
   * @param sink - receives decoded bytes, the end, or the first error.
   * @param onInputDrain - called when the first stage has taken the input it was holding.
   */
  constructor(codings: Coding[], sink: DecoderSink, onInputDrain: () => void) {
    this.#codings = codings;
    this.#sink = sink;
    this.#stages = codings.map(() => null);
    this.#held = codings.map(() => null);
    this.#onInputDrain = onInputDrain;
    for (let i = 0; i < codings.length; i++) if (codings[i] !== 'deflate') this.#create(i, null);
  }

  /** Whether the first stage holds more input than zlib's buffer: stop reading the socket until it drains. */
  get inputFull(): boolean {
    return this.#inputFull;
  }

  /** Feeds wire bytes. */
  write(chunk: Buffer): void {
    if (!this.#dead) this.#feed(0, chunk);
  }

  /** The wire body is complete. */
  end(): void {
    if (!this.#dead) this.#endAt(0);
  }

  /** The consumer is slow: hold the output (zlib stops inflating once its buffer is full). */
  pause(): void {
    this.#paused = true;
    this.#stages[this.#stages.length - 1]?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stages[this.#stages.length - 1]?.resume();
  }

  /** Stops decoding now; nothing is delivered afterwards. */
  destroy(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#onInputDrain = null;
    for (const s of this.#stages) {
      if (s === null) continue;
      // Destroying may still report an error (e.g. a stream cut short): the decoder is already gone.
      s.on('error', noop);
      s.destroy();
    }
  }

  #create(i: number, zlibWrapped: boolean | null): Stage {
    const coding = this.#codings[i]!;
    const s: Stage =
      coding === 'gzip'
        ? zlib.createGunzip(STAGE_OPTIONS)
        : coding === 'br'
          ? zlib.createBrotliDecompress(STAGE_OPTIONS)
          : zlibWrapped === false
            ? zlib.createInflateRaw(STAGE_OPTIONS)
            : zlib.createInflate(STAGE_OPTIONS);
    this.#stages[i] = s;
    const last = i === this.#stages.length - 1;
    s.on('error', (err: Error) => this.#fail(err));
    s.on('end', () => {
      if (this.#dead) return;
      if (last) {
        this.#dead = true;
        this.#sink.end();
      } else this.#endAt(i + 1);
    });
    if (last) {
      if (this.#paused) s.pause();
      s.on('data', (chunk: Buffer) => {
        if (!this.#dead) this.#sink.data(chunk);
      });
    } else {
      s.on('data', (chunk: Buffer) => {
        if (!this.#dead) this.#feed(i + 1, chunk);
      });
    }
    if (i === 0) {
      s.on('drain', () => {
        this.#inputFull = false;
        this.#onInputDrain?.();
      });
    }
    return s;
  }

  #feed(i: number, chunk: Buffer): void {
    let s = this.#stages[i];
    if (s === undefined) return;
    if (s === null) {
      // An undecided deflate stage: sniff once, on the first two bytes it ever receives.
      const held = this.#held[i] ?? null;
      const head = held === null ? chunk : Buffer.concat([held, chunk]);
      if (head.length < 2) {
        this.#held[i] = head;
        return;
      }
      this.#held[i] = null;
      s = this.#create(i, isZlibHeader(head[0]!, head[1]));
      chunk = head;
    }
    if (s.write(chunk)) return;
    if (i === 0) {
      this.#inputFull = true;
      return;
    }
    // The next stage is full: hold the previous one until it drains (pipe's rule, one listener at a time).
    const prev = this.#stages[i - 1]!;
    if (prev.isPaused()) return;
    prev.pause();
    s.once('drain', () => {
      if (!this.#dead) prev.resume();
    });
  }

  #endAt(i: number): void {
    let s = this.#stages[i];
    if (s === undefined) return;
    if (s === null) {
      // A deflate stage that saw fewer than two bytes: decide on what there is (zlib reports the truncation).
      const held = this.#held[i] ?? null;
      this.#held[i] = null;
      s = this.#create(i, held === null ? null : isZlibHeader(held[0]!, undefined));
      if (held !== null) s.write(held);
    }
    s.end();
  }

  #fail(err: Error): void {
    if (this.#dead) return;
    this.destroy();
    this.#sink.error(
      new HttpError('ERR_HTTP_PARSE', `invalid content-encoding data: ${err.message}`, {
        reason: 'invalid content-encoding data',
        cause: err,
      }),
    );
  }
}

function noop(): void {}
