import { Buffer } from 'node:buffer';
import { asBuffer } from '@asyncnet/streams/adapter';
import { HttpError, parseError } from './errors.js';
import { HttpHeaders, LAZY_LOWER } from './headers.js';

/** Options of {@link ResponseParser}. */
export interface ResponseParserOptions {
  /** Method of the request this response answers; `HEAD` responses never have a body. @default 'GET' */
  method?: string | undefined;
  /** Largest response head (status line + fields + CRLFs) and largest trailer section, in bytes. @default 16384 */
  maxHeaderSize?: number | undefined;
  /** Accept obsolete line folding (RFC 9112 5.2), replacing each fold with one space. @default false */
  allowObsFold?: boolean | undefined;
}

/** How the body of a response is delimited (RFC 9112 6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** The status line and fields of a response. */
export interface ResponseHeadEvent {
  type: 'head';
  status: number;
  statusText: string;
  httpVersion: '1.0' | '1.1';
  headers: HttpHeaders;
  /** `[name, value]` pairs in wire order and original case. */
  rawHeaders: [string, string][];
  /** How the body is delimited. */
  framing: BodyFraming;
  /** Declared `Content-Length`, or `null`. */
  contentLength: number | null;
  /** Whether the connection may carry another request after this response (may turn false at `end`). */
  keepAlive: boolean;
  /** The server's `Keep-Alive: timeout=` hint in milliseconds, or `null`. */
  keepAliveTimeout: number | null;
}

/** A piece of the body (a view into the pushed bytes; it is not copied). */
export interface ResponseBodyEvent {
  type: 'body';
  chunk: Uint8Array;
}

/** Trailer fields after a chunked body (only emitted when there is at least one). */
export interface ResponseTrailersEvent {
  type: 'trailers';
  trailers: HttpHeaders;
  rawTrailers: [string, string][];
}

/** The response is complete. */
export interface ResponseEndEvent {
  type: 'end';
  /** Whether the connection can be reused. */
  keepAlive: boolean;
}

/** Everything {@link ResponseParser.push} can emit. */
export type ResponseEvent = ResponseHeadEvent | ResponseBodyEvent | ResponseTrailersEvent | ResponseEndEvent;

enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkCrlf,
  Trailers,
  Close,
  Done,
  Error,
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const HTTP_SLASH = Buffer.from('HTTP/', 'latin1');
const BARE_LF = /(?:^|[^\r])\n/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^[0-9]+$/;
const MAX_CHUNK_LINE = 4096;
const MAX_SAFE_HEX_DIGITS = 14; // 0x1fffffffffffff

/**
 * Strips optional whitespace (SP / HTAB, RFC 9110 5.6.3) from both ends. `String#trim` would also strip
 * U+00A0 and friends, so `Content-Length: 5\xa0` would pass where llhttp refuses it (a smuggling differential).
 */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function ctlReason(value: string, where: string): HttpError {
  const m = CTL.exec(value)!;
  const c = m[0];
  if (c === '\0') return parseError(`nul in ${where}`);
  if (c === '\r') return parseError(`bare cr in ${where}`);
  if (c === '\n') return parseError(`bare lf in ${where}`);
  return parseError(`control character in ${where}`, `0x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Whether `s` (a token, or a field value: no CTL) equals the lower-case `lc`, ignoring ASCII case, without a new string. */
function tokenIs(s: string, lc: string): boolean {
  const n = lc.length;
  if (s.length !== n) return false;
  // |0x20 folds A-Z onto a-z; of the other characters allowed here only '-' itself lands on '-' (CR would, but is refused).
  for (let i = 0; i < n; i++) if ((s.charCodeAt(i) | 0x20) !== lc.charCodeAt(i)) return false;
  return true;
}

/**
 * Parses the field lines of `s` from `from` (the start of a line) to its end into `[name, value]` pairs,
 * cutting names and values straight out of `s` (no array of lines, no untrimmed copies).
 * @internal
 */
function parseFields(s: string, from: number, allowObsFold: boolean): [string, string][] {
  const raw: [string, string][] = [];
  const n = s.length;
  for (let a = from; ; ) {
    const crlf = s.indexOf('\r\n', a);
    const b = crlf === -1 ? n : crlf;
    const c0 = s.charCodeAt(a);
    if (a < b && (c0 === 32 || c0 === 9)) {
      const line = s.slice(a, b);
      if (!allowObsFold || raw.length === 0) throw parseError('obs-fold', JSON.stringify(line));
      const v = trimOws(line);
      if (CTL.test(v)) throw ctlReason(v, 'field value');
      const last = raw[raw.length - 1]!;
      last[1] = last[1] === '' ? v : v === '' ? last[1] : `${last[1]} ${v}`;
    } else {
      const colon = s.indexOf(':', a);
      if (colon === -1 || colon >= b) {
        const line = s.slice(a, b);
        if (CTL.test(line)) throw ctlReason(line, 'field line');
        throw parseError('missing colon in header', JSON.stringify(line.slice(0, 64)));
      }
      const name = s.slice(a, colon);
      if (!TOKEN.test(name)) {
        const e = name.charCodeAt(name.length - 1);
        if (name.length > 0 && (e === 32 || e === 9))
          throw parseError('whitespace before colon', JSON.stringify(name));
        if (CTL.test(name)) throw ctlReason(name, 'header name');
        throw parseError('invalid header name', JSON.stringify(name.slice(0, 64)));
      }
      // OWS trimmed by index (SP/HTAB only, as trimOws): HTAB is no CTL, so the check sees the same characters.
      let vs = colon + 1;
      let ve = b;
      while (vs < ve && (s.charCodeAt(vs) === 32 || s.charCodeAt(vs) === 9)) vs++;
      while (ve > vs && (s.charCodeAt(ve - 1) === 32 || s.charCodeAt(ve - 1) === 9)) ve--;
      const value = s.slice(vs, ve);
      if (CTL.test(value)) throw ctlReason(value, 'field value');
      raw.push([name, value]);
    }
    if (crlf === -1) return raw;
    a = crlf + 2;
  }
}

/** The `timeout=` of a `Keep-Alive` value (`/(?:^|[,; \t])timeout[ \t]*=[ \t]*(\d{1,9})/i`), in ms, or null. */
function keepAliveTimeoutOf(v: string): number | null {
  const n = v.length;
  for (let i = 0; i + 7 < n; i++) {
    if (i > 0) {
      const p = v.charCodeAt(i - 1);
      if (p !== 44 && p !== 59 && p !== 32 && p !== 9) continue;
    }
    let k = 0;
    while (k < 7 && (v.charCodeAt(i + k) | 0x20) === TIMEOUT.charCodeAt(k)) k++;
    if (k < 7) continue;
    let j = i + 7;
    while (j < n && (v.charCodeAt(j) === 32 || v.charCodeAt(j) === 9)) j++;
    if (v.charCodeAt(j) !== 61) continue;
    j++;
    while (j < n && (v.charCodeAt(j) === 32 || v.charCodeAt(j) === 9)) j++;
    let secs = 0;
    let d = j;
    while (d < n && d - j < 9 && isDigit(v.charCodeAt(d))) secs = secs * 10 + (v.charCodeAt(d++) - 48);
    if (d > j) return secs * 1000;
  }
  return null;
}
const TIMEOUT = 'timeout';

/**
 * A sans-IO HTTP/1.1 response parser (RFC 9112): bytes in, events out, no sockets.
 * Strict by default: every framing ambiguity that enables response smuggling or hides a
 * truncated body throws {@link HttpError} `ERR_HTTP_PARSE` with a `reason` naming the rule.
 * Unsolicited 1xx responses (100, 102, 103) are skipped.
 *
 * @example
 * ```ts
 * const parser = new ResponseParser({ method: 'GET' });
 * const events = parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'));
 * // [{ type: 'head', status: 200, ... }, { type: 'body', chunk }, { type: 'end', keepAlive: true }]
 * ```
 */
export class ResponseParser {
  #state = State.Head;
  #noBody = false;
  #maxHeaderSize = 16384;
  #allowObsFold = false;
  #headBuf: Buffer | null = null;
  #headLen = 0;
  #line = '';
  #remaining = 0;
  #bodyBytes = 0;
  #keepAlive = true;
  #crlf = 0;
  #error: HttpError | null = null;
  #out: ResponseEvent[] = [];
  #excess = 0;
  /** The section #section found last: bytes, start, end (CRLFCRLF excluded). */
  #secBuf: Buffer | null = null;
  #secStart = 0;
  #secEnd = 0;

  /**
   * @param options - request method, header size limit and leniencies.
   */
  constructor(options: ResponseParserOptions = {}) {
    this.reset(options);
  }

  /**
   * Prepares the parser for the next response on the same connection.
   * @param options - options for that response (the method matters: `HEAD` means no body).
   * @returns nothing.
   */
  reset(options: ResponseParserOptions = {}): void {
    this.prepare(
      options.method !== undefined && options.method.toUpperCase() === 'HEAD',
      options.maxHeaderSize ?? 16384,
      options.allowObsFold ?? false,
    );
  }

  /** @internal Allocation-free {@link ResponseParser.reset} for the client's hot path. */
  prepare(head: boolean, maxHeaderSize: number, allowObsFold: boolean): void {
    this.#state = State.Head;
    this.#noBody = head;
    this.#maxHeaderSize = maxHeaderSize;
    this.#allowObsFold = allowObsFold;
    this.#headLen = 0;
    this.#line = '';
    this.#remaining = 0;
    this.#bodyBytes = 0;
    this.#keepAlive = true;
    this.#crlf = 0;
    this.#error = null;
    this.#excess = 0;
  }

  /** Whether a complete response has been parsed since the last reset. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** Whether any byte of the current response head has been received. */
  get started(): boolean {
    return this.#state !== State.Head || this.#headLen > 0;
  }

  /**
   * Bytes pushed after the end of the response (in the same `push()` as its last byte or a later one).
   * They are never parsed and never an error; a connection with excess bytes must not be reused.
   */
  get excess(): number {
    return this.#excess;
  }

  /** Body bytes (after de-chunking) seen so far for the current response. */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  /**
   * Feeds bytes received from the connection.
   * @param chunk - the next bytes; body events are views into it.
   * @returns the events those bytes completed, in order. Bytes after the end of the response (here or in a
   *   later call) are not parsed: they only add to {@link ResponseParser.excess}.
   * @throws {@link HttpError} `ERR_HTTP_PARSE`, `ERR_HEADERS_OVERFLOW`; after a throw every call throws again.
   */
  push(chunk: Uint8Array): ResponseEvent[] {
    if (this.#error) throw this.#error;
    const out: ResponseEvent[] = [];
    this.#out = out;
    try {
      this.#execute(asBuffer(chunk));
    } catch (err) {
      this.#state = State.Error;
      this.#error =
        err instanceof HttpError ? err : parseError('internal parser error', String((err as Error)?.message));
      throw this.#error;
    }
    return out;
  }

  /**
   * Signals that the connection delivered its last byte with a clean FIN: the only way a close-delimited body
   * ends (a reset or any other loss must be reported as a premature close, not through this).
   * @returns `[{ type: 'end' }]` for a close-delimited body, `[]` if the response was complete.
   * @throws {@link HttpError} `ERR_PREMATURE_CLOSE` when the response was cut short.
   */
  finish(): ResponseEvent[] {
    if (this.#error) throw this.#error;
    switch (this.#state) {
      case State.Done:
        return [];
      case State.Close:
        this.#state = State.Done;
        return [{ type: 'end', keepAlive: false }];
      case State.Head: {
        const err = new HttpError(
          'ERR_PREMATURE_CLOSE',
          this.#headLen === 0
            ? 'connection closed before the response head'
            : `connection closed inside the response head after ${this.#headLen} bytes`,
          { bytesReceived: 0 },
        );
        this.#state = State.Error;
        this.#error = err;
        throw err;
      }
      default: {
        const expected = this.#state === State.Length ? ` of ${this.#bodyBytes + this.#remaining}` : '';
        const err = new HttpError(
          'ERR_PREMATURE_CLOSE',
          `connection closed inside the response body after ${this.#bodyBytes}${expected} bytes`,
          { bytesReceived: this.#bodyBytes },
        );
        this.#state = State.Error;
        this.#error = err;
        throw err;
      }
    }
  }

  #execute(c: Buffer): void {
    let pos = 0;
    const len = c.length;
    while (pos < len) {
      switch (this.#state) {
        case State.Head:
          pos = this.#readHead(c, pos);
          break;
        case State.Length: {
          const n = Math.min(this.#remaining, len - pos);
          this.#out.push({ type: 'body', chunk: pos === 0 && n === len ? c : c.subarray(pos, pos + n) });
          pos += n;
          this.#bodyBytes += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#end();
          break;
        }
        case State.ChunkSize:
          pos = this.#readChunkSize(c, pos);
          break;
        case State.ChunkData: {
          const n = Math.min(this.#remaining, len - pos);
          this.#out.push({ type: 'body', chunk: c.subarray(pos, pos + n) });
          pos += n;
          this.#bodyBytes += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            this.#state = State.ChunkCrlf;
            this.#crlf = 0;
          }
          break;
        }
        case State.ChunkCrlf: {
          const b = c[pos++];
          if (this.#crlf === 0 ? b !== 13 : b !== 10) throw parseError('missing crlf after chunk data');
          if (++this.#crlf === 2) this.#state = State.ChunkSize;
          break;
        }
        case State.Trailers:
          pos = this.#readTrailers(c, pos);
          break;
        case State.Close:
          this.#out.push({ type: 'body', chunk: pos === 0 ? c : c.subarray(pos) });
          this.#bodyBytes += len - pos;
          pos = len;
          break;
        case State.Done:
          // Bytes after the end: counted, never parsed. The events already emitted (keepAlive included)
          // depend only on the response's own bytes, so the verdict is the same however they were split.
          this.#excess += len - pos;
          return;
        default:
          throw this.#error ?? parseError('parser in error state');
      }
    }
  }

  #end(): void {
    this.#state = State.Done;
    this.#out.push({ type: 'end', keepAlive: this.#keepAlive });
  }

  /** Appends to the head accumulator, at most `cap` bytes in total. */
  #append(c: Buffer, from: number, to: number, cap: number): number {
    const n = Math.min(to - from, cap - this.#headLen);
    if (n <= 0) return 0;
    let buf = this.#headBuf;
    if (buf === null || buf.length < this.#headLen + n) {
      const next = Buffer.allocUnsafe(Math.min(cap, Math.max(256, (this.#headLen + n) * 2)));
      if (buf !== null) buf.copy(next, 0, 0, this.#headLen);
      this.#headBuf = buf = next;
    }
    c.copy(buf, this.#headLen, from, from + n);
    this.#headLen += n;
    return n;
  }

  /**
   * Finds the end of a head/trailer section (CRLFCRLF), accumulating across pushes.
   * Returns the next pos, or -1 when more bytes are needed; the block is then #secBuf from #secStart to
   * #secEnd (fields, not a tuple: one array less per response).
   */
  #section(c: Buffer, pos: number, what: 'head' | 'trailers'): number {
    const max = this.#maxHeaderSize;
    if (this.#headLen === 0) {
      const idx = c.indexOf(CRLFCRLF, pos);
      if (idx !== -1) {
        if (idx - pos > max) {
          // Same verdict as when the bytes arrive in pieces: prefix checks on what fits, then overflow.
          if (what === 'head') this.#earlyChecks(c.subarray(pos), 0, what, Math.min(idx - pos, max + 4));
          throw overflow(what, max);
        }
        this.#secBuf = c;
        this.#secStart = pos;
        this.#secEnd = idx;
        return idx + 4;
      }
    }
    const old = this.#headLen;
    this.#append(c, pos, c.length, max + 4);
    const buf = this.#headBuf!;
    const view = buf.subarray(0, this.#headLen);
    const idx = view.indexOf(CRLFCRLF, Math.max(0, old - 3));
    if (idx !== -1) {
      this.#headLen = 0;
      if (idx > max) {
        this.#earlyChecks(view, 0, what, Math.min(idx, max + 4));
        throw overflow(what, max);
      }
      this.#secBuf = buf;
      this.#secStart = 0;
      this.#secEnd = idx;
      return pos + (idx + 4 - old);
    }
    this.#earlyChecks(view, old, what);
    if (this.#headLen >= max + 4) throw overflow(what, max);
    return -1;
  }

  /** Rejects an incomplete section as soon as it can never become valid (never wait for more bytes). */
  // These checks are prefix-closed (a failing prefix fails the whole section with the same reason),
  // and complete sections run them first too, so the verdict never depends on split points.
  #earlyChecks(view: Buffer, from: number, what: 'head' | 'trailers', end = view.length): void {
    if (what === 'head') {
      const n = Math.min(end, 5);
      for (let k = 0; k < n; k++) {
        if (view[k] !== HTTP_SLASH[k]) {
          throw parseError(
            'invalid status line',
            JSON.stringify(view.toString('latin1', 0, Math.min(end, 16))),
          );
        }
      }
    }
    let i = view.indexOf(10, Math.max(0, from));
    while (i !== -1 && i < end) {
      if (i === 0 || view[i - 1] !== 13) throw parseError(`bare lf in ${what}`);
      i = view.indexOf(10, i + 1);
    }
  }

  #readHead(c: Buffer, pos: number): number {
    const next = this.#section(c, pos, 'head');
    if (next === -1) return c.length;
    const buf = this.#secBuf!;
    const start = this.#secStart;
    const end = this.#secEnd;
    this.#secBuf = null;
    const s = buf.toString('latin1', start, end);
    // The same prefix-closed checks as #earlyChecks, on the string (no native call per line).
    if (!s.startsWith('HTTP/')) {
      this.#earlyChecks(start === 0 ? buf : buf.subarray(start), 0, 'head', end - start);
    }
    if (BARE_LF.test(s)) throw parseError('bare lf in head');
    this.#parseHead(s);
    return next;
  }

  #parseHead(s: string): void {
    const sle = s.indexOf('\r\n');
    const sl = sle === -1 ? s : s.slice(0, sle);
    if (
      sl.length < 12 ||
      !sl.startsWith('HTTP/') ||
      sl.charCodeAt(6) !== 46 ||
      sl.charCodeAt(8) !== 32 ||
      !isDigit(sl.charCodeAt(5)) ||
      !isDigit(sl.charCodeAt(7))
    ) {
      if (CTL.test(sl)) throw ctlReason(sl, 'status line');
      throw parseError('invalid status line', JSON.stringify(sl.slice(0, 64)));
    }
    // A higher minor version is processed as the highest one we implement (RFC 9112 2.3).
    const major = sl.charCodeAt(5);
    const minor = sl.charCodeAt(7);
    if (major !== 49) throw parseError('unsupported http version', JSON.stringify(sl.slice(5, 8)));
    const version = minor === 48 ? '1.0' : '1.1';
    const c0 = sl.charCodeAt(9);
    const c1 = sl.charCodeAt(10);
    const c2 = sl.charCodeAt(11);
    if (
      !isDigit(c0) ||
      !isDigit(c1) ||
      !isDigit(c2) ||
      (sl.length > 12 && sl.charCodeAt(12) !== 32) ||
      c0 === 48
    ) {
      throw parseError('invalid status code', JSON.stringify(sl.slice(9, 16)));
    }
    const status = (c0 - 48) * 100 + (c1 - 48) * 10 + (c2 - 48);
    const statusText = sl.length > 13 ? sl.slice(13) : '';
    if (CTL.test(statusText)) throw ctlReason(statusText, 'reason phrase');
    const raw: [string, string][] = sle === -1 ? [] : parseFields(s, sle + 2, this.#allowObsFold);

    if (status < 200) {
      if (status === 101) throw parseError('unexpected 101 response', 'no upgrade was requested');
      return; // unsolicited 1xx: skip, the final response follows
    }

    // Lower-case names are made only if the caller looks a field up; framing fields are matched in place.
    const headers = new HttpHeaders(raw, LAZY_LOWER);
    let keepAlive = version === '1.1';
    let keepAliveTimeout: number | null = null;
    let contentLength: number | null = null;
    let te: string | null = null;
    let close = false;
    for (let i = 0; i < raw.length; i++) {
      const field = raw[i]!;
      const name = field[0];
      const len = name.length;
      // Only these four matter here: content-length (14), transfer-encoding (17), connection and keep-alive (10).
      if (len !== 14 && len !== 17 && len !== 10) continue;
      const value = field[1];
      if (tokenIs(name, 'content-length')) contentLength = checkContentLength(value, contentLength);
      else if (tokenIs(name, 'transfer-encoding')) te = te === null ? value : `${te}, ${value}`;
      else if (tokenIs(name, 'connection')) {
        if (tokenIs(value, 'keep-alive')) {
          if (version === '1.0') keepAlive = true;
          continue;
        }
        if (tokenIs(value, 'close')) {
          close = true;
          continue;
        }
        for (const t of value.split(',')) {
          const tok = trimOws(t).toLowerCase();
          if (tok === 'close') close = true;
          else if (tok === 'keep-alive' && version === '1.0') keepAlive = true;
        }
      } else if (tokenIs(name, 'keep-alive')) {
        const t = keepAliveTimeoutOf(value);
        if (t !== null) keepAliveTimeout = t;
      }
    }
    if (close) keepAlive = false; // wins over any keep-alive token

    let framing: BodyFraming;
    if (this.#noBody || status === 204 || status === 304) {
      framing = 'none';
    } else if (te !== null) {
      if (contentLength !== null) throw parseError('content-length with transfer-encoding');
      if (version === '1.0') throw parseError('transfer-encoding in http/1.0');
      const codings = te
        .split(',')
        .map((t) => trimOws(t).toLowerCase())
        .filter((t) => t !== '');
      const chunkedAt = codings.indexOf('chunked');
      if (
        chunkedAt === -1 ||
        chunkedAt !== codings.length - 1 ||
        codings.lastIndexOf('chunked') !== chunkedAt
      ) {
        throw parseError('invalid transfer-encoding', JSON.stringify(te));
      }
      if (codings.length > 1) throw parseError('unsupported transfer-coding', JSON.stringify(codings[0]));
      framing = 'chunked';
    } else if (contentLength !== null) {
      framing = 'length';
    } else {
      framing = 'close';
      keepAlive = false;
    }
    this.#keepAlive = keepAlive;
    this.#out.push({
      type: 'head',
      status,
      statusText,
      httpVersion: version,
      headers,
      rawHeaders: raw,
      framing,
      contentLength,
      keepAlive,
      keepAliveTimeout,
    });
    if (framing === 'none') this.#end();
    else if (framing === 'length') {
      this.#remaining = contentLength!;
      this.#state = State.Length;
      if (contentLength === 0) this.#end();
    } else if (framing === 'chunked') this.#state = State.ChunkSize;
    else this.#state = State.Close;
  }

  #readChunkSize(c: Buffer, pos: number): number {
    const lf = c.indexOf(10, pos);
    if (lf === -1) {
      if (this.#line.length + (c.length - pos) > MAX_CHUNK_LINE) throw parseError('chunk extension too long');
      this.#line += c.toString('latin1', pos);
      return c.length;
    }
    if (this.#line.length + (lf - pos) > MAX_CHUNK_LINE) throw parseError('chunk extension too long');
    let line = this.#line + c.toString('latin1', pos, lf);
    this.#line = '';
    if (line.charCodeAt(line.length - 1) !== 13) throw parseError('bare lf in chunk size line');
    line = line.slice(0, -1);
    if (line.includes('\r')) throw parseError('bare cr in chunk size line');
    let k = 0;
    while (k < line.length && isHex(line.charCodeAt(k))) k++;
    if (k === 0) throw parseError('invalid chunk size', JSON.stringify(line.slice(0, 32)));
    let z = 0;
    while (z < k - 1 && line.charCodeAt(z) === 48) z++;
    if (k - z > MAX_SAFE_HEX_DIGITS)
      throw parseError('chunk size overflow', JSON.stringify(line.slice(0, k)));
    const size = Number.parseInt(line.slice(z, k), 16);
    if (!Number.isSafeInteger(size))
      throw parseError('chunk size overflow', JSON.stringify(line.slice(0, k)));
    if (k < line.length) {
      const ext = line.slice(k);
      if (!/^[ \t]*;/.test(ext)) throw parseError('invalid chunk size', JSON.stringify(line.slice(0, 32)));
      if (CTL.test(ext)) throw ctlReason(ext, 'chunk extension');
      if (!isChunkExt(ext)) throw parseError('invalid chunk extension', JSON.stringify(ext.slice(0, 32)));
    }
    if (size === 0) {
      this.#state = State.Trailers;
    } else {
      this.#remaining = size;
      this.#state = State.ChunkData;
    }
    return lf + 1;
  }

  #readTrailers(c: Buffer, pos: number): number {
    // Fast path: no trailer fields, just the final CRLF.
    if (this.#headLen === 0 && c.length - pos >= 2 && c[pos] === 13 && c[pos + 1] === 10) {
      this.#end();
      return pos + 2;
    }
    if (this.#headLen === 0) {
      // Prime with the CRLF that ended the last-chunk line so one CRLFCRLF search finds the end.
      this.#append(CRLFCRLF, 0, 2, this.#maxHeaderSize + 4);
    }
    const next = this.#section(c, pos, 'trailers');
    if (next === -1) return c.length;
    const buf = this.#secBuf!;
    const start = this.#secStart;
    const end = this.#secEnd;
    this.#secBuf = null;
    this.#earlyChecks(buf, start, 'trailers', end);
    // The primed CRLF is at start..start+2 when the accumulator was used.
    const text = buf.toString('latin1', start, end);
    const body = text.startsWith('\r\n') ? text.slice(2) : text;
    if (body !== '') {
      const raw = parseFields(body, 0, this.#allowObsFold);
      const lower = raw.map((p) => p[0].toLowerCase());
      for (const n of lower) {
        if (n === 'content-length' || n === 'transfer-encoding') {
          throw parseError('framing field in trailers', JSON.stringify(n));
        }
      }
      this.#out.push({ type: 'trailers', trailers: new HttpHeaders(raw, lower), rawTrailers: raw });
    }
    this.#end();
    return next;
  }
}

function overflow(what: string, max: number): HttpError {
  return new HttpError('ERR_HEADERS_OVERFLOW', `response ${what} larger than maxHeaderSize ${max}`);
}

function isTchar(c: number): boolean {
  // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 33 ||
    (c >= 35 && c <= 39) ||
    c === 42 ||
    c === 43 ||
    c === 45 ||
    c === 46 ||
    c === 94 ||
    c === 95 ||
    c === 96 ||
    c === 124 ||
    c === 126
  );
}

/**
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 7.1.1), with
 * chunk-ext-name = token and chunk-ext-val = token / quoted-string. Control characters other than
 * HTAB were refused before. One linear pass over a line of at most {@link MAX_CHUNK_LINE} bytes.
 */
function isChunkExt(ext: string): boolean {
  const n = ext.length;
  let i = 0;
  const ows = () => {
    while (i < n && (ext.charCodeAt(i) === 32 || ext.charCodeAt(i) === 9)) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && isTchar(ext.charCodeAt(i))) i++;
    return i > start;
  };
  while (i < n) {
    ows();
    if (ext.charCodeAt(i) !== 59) return false; // ";"
    i++;
    ows();
    if (!token()) return false;
    // BWS after the name only before "=" (or before the next ";").
    const afterName = i;
    ows();
    if (ext.charCodeAt(i) !== 61) i = afterName;
    else {
      i++;
      ows();
      if (ext.charCodeAt(i) === 34) {
        // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
        i++;
        for (;;) {
          if (i >= n) return false; // unbalanced quote
          const c = ext.charCodeAt(i++);
          if (c === 34) break;
          if (c === 92) {
            if (i >= n) return false;
            i++; // quoted-pair: HTAB / SP / VCHAR / obs-text (controls were refused)
          }
        }
      } else if (!token()) return false;
    }
  }
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function checkContentLength(value: string, prev: number | null): number {
  // Fast path: a plain run of up to 15 digits.
  const n = value.length;
  if (n > 0 && n <= 15) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (i === n) {
      if (prev !== null && prev !== v)
        throw parseError('differing content-length values', JSON.stringify(value));
      return v;
    }
  }
  let result = prev;
  for (const part of value.split(',')) {
    const v = trimOws(part);
    if (!DIGITS.test(v)) throw parseError('invalid content-length', JSON.stringify(value));
    const n = v.length > 16 ? Number.POSITIVE_INFINITY : Number(v);
    if (!Number.isSafeInteger(n)) throw parseError('content-length overflow', JSON.stringify(v));
    if (result !== null && result !== n)
      throw parseError('differing content-length values', JSON.stringify(value));
    result = n;
  }
  return result!;
}
