import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { type Agent, getGlobalAgent, type PoolKey, type Route } from './agent.js';
import { HttpError } from './errors.js';
import { abortError, Exchange, type ExchangeSpec, type Progress } from './internal/exchange.js';
import { basicAuth, fieldForMessage, redactedUrlCause, redactUrl } from './internal/redact.js';
import { normalizeBody, type RequestBody } from './internal/request-body.js';
import type { HttpResponse } from './response.js';
import { trimOws } from './response-parser.js';
import {
  backoff,
  errorCode,
  IDEMPOTENT,
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
} from './retry.js';

export type { Progress } from './internal/exchange.js';
export type { RequestBody } from './internal/request-body.js';

/** Request fields: a plain object, `[name, value]` pairs, or a WHATWG `Headers`. */
export type RequestHeaders =
  | Record<string, string | number | readonly string[] | undefined>
  | ReadonlyArray<readonly [string, string]>
  | Headers;

/** Timeouts in milliseconds; `0` disables one. */
export interface Timeouts {
  /** TCP connect plus TLS handshake. @default 10000 */
  connect?: number | undefined;
  /** From the request being sent to the end of the response head (while a stream body uploads: the longest pause in its progress). @default 30000 */
  headers?: number | undefined;
  /** Longest pause between two body chunks (not counted while the consumer applies backpressure). @default 30000 */
  body?: number | undefined;
  /** The whole request, redirects included, until the body's last byte. @default 0 (none) */
  total?: number | undefined;
}

/** TLS options for `https:` URLs. */
export interface RequestTlsOptions {
  /** Trusted CA certificates (PEM). @default Node's bundled roots */
  ca?: ConnectionOptions['ca'] | undefined;
  /** Verify the server certificate. @default true */
  rejectUnauthorized?: boolean | undefined;
  /** SNI and certificate name. @default the URL host (none for IP literals) */
  servername?: string | undefined;
  /** Client certificate (PEM). */
  cert?: ConnectionOptions['cert'] | undefined;
  /** Client key (PEM). */
  key?: ConnectionOptions['key'] | undefined;
}

/** Options of {@link request}. */
export interface RequestOptions {
  /** Method, e.g. `'POST'`. @default 'GET' */
  method?: string | undefined;
  /** Request fields. */
  headers?: RequestHeaders | undefined;
  /** Request body; sent with Content-Length when its size is known, else chunked. @default null */
  body?: RequestBody | undefined;
  /** Cancels the request (any phase, body reading included) with `ERR_ABORTED`. */
  signal?: AbortSignal | undefined;
  /** Timeouts (ms). */
  timeouts?: Timeouts | undefined;
  /** Largest response head (and trailer section) in bytes. @default 16384 */
  maxHeaderSize?: number | undefined;
  /** Largest response body in bytes; with `decompress`, of the decoded body (passing it fails at once, never truncates). @default Infinity */
  maxResponseSize?: number | undefined;
  /** Redirects to follow (301, 302, 303, 307, 308). @default 0 */
  maxRedirects?: number | undefined;
  /**
   * Decode `Content-Encoding: gzip | x-gzip | deflate | br` (stacked up to 5, last applied first) and send
   * `Accept-Encoding` when not set; any other coding fails with `ERR_UNSUPPORTED_CONTENT_ENCODING`. @default false
   */
  decompress?: boolean | undefined;
  /** Connection pool to use. @default the global agent */
  agent?: Agent | undefined;
  /** TLS options for https. */
  tls?: RequestTlsOptions | undefined;
  /** Accept obsolete header line folding in responses. @default false */
  allowObsFold?: boolean | undefined;
  /**
   * Send this request over a Unix domain socket (pooled per socket path in the agent); the URL still gives
   * `Host` and the TLS name. Wins over the agent's own `socketPath`, `connect` and `proxy`. @default none
   */
  socketPath?: string | undefined;
  /**
   * Retry failed attempts with backoff (opt-in): idempotent methods with a replayable body only, `Retry-After`
   * honoured, within `timeouts.total` and the signal. @default none (only the one silent retry of a request lost
   * on a reused connection before any response byte)
   */
  retry?: RetryOptions | undefined;
  /** Called as the request body is handed to the connection: `{ loaded, total? }` (total when the length is known). @default none */
  onUploadProgress?: ((progress: Progress) => void) | undefined;
  /** Called as response body bytes reach you: `{ loaded, total? }` (total from Content-Length, not while decoding). @default none */
  onDownloadProgress?: ((progress: Progress) => void) | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text; no other control character (as node:http and undici).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const NON_ASCII = /[^\0-\x7f]/;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CONTROLLED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

interface Target {
  pool: PoolKey;
  path: string;
  host: string;
  origin: string;
  /** The URL without its userinfo, so credentials never reach messages or logs. */
  href: string;
  /** `Basic …` from the URL's `user:password@`, as curl and node:http send it. */
  auth: string | null;
}

const targetCache = new Map<string, Target>();

function resolveTarget(input: string | URL, tls: RequestTlsOptions | undefined): Target {
  const key = typeof input === 'string' && tls === undefined ? input : null;
  if (key !== null) {
    const hit = targetCache.get(key);
    if (hit !== undefined) return hit;
  }
  let u: URL;
  try {
    u = typeof input === 'string' ? new URL(input) : input;
  } catch (err) {
    // Neither the message nor the cause may echo a password: Node's error carries the whole input.
    const text = String(input);
    throw new HttpError('ERR_INVALID_URL', `invalid url ${JSON.stringify(redactUrl(text))}`, {
      cause: redactedUrlCause(err, text),
    });
  }
  if (!(u instanceof URL)) {
    throw new HttpError('ERR_INVALID_URL', `invalid url ${JSON.stringify(redactUrl(String(input)))}`);
  }
  let auth: string | null = null;
  let href = u.href;
  if (u.username !== '' || u.password !== '') {
    auth = basicAuth(u.username, u.password);
    const bare = new URL(u.href);
    bare.username = '';
    bare.password = '';
    href = bare.href;
  }
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') {
    // `user:pw@host` without a scheme parses as scheme "user:" with no host: then the "scheme" is
    // the user name and is not shown either.
    const shown = redactUrl(href);
    const scheme = u.host === '' && shown !== href ? '' : ` ${JSON.stringify(u.protocol)}`;
    throw new HttpError('ERR_UNSUPPORTED_PROTOCOL', `unsupported protocol${scheme} in ${shown}`);
  }
  if (u.hostname === '') throw new HttpError('ERR_INVALID_URL', `url has no host: ${href}`);
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  let tlsOpts: ConnectionOptions | null = null;
  let tlsKey = '';
  if (secure) {
    const sni = tls?.servername ?? (isIP(hostname) === 0 ? hostname : undefined);
    tlsOpts = { ALPNProtocols: ['http/1.1'] };
    if (sni !== undefined) tlsOpts.servername = sni;
    if (tls?.ca !== undefined) tlsOpts.ca = tls.ca;
    if (tls?.cert !== undefined) tlsOpts.cert = tls.cert;
    if (tls?.key !== undefined) tlsOpts.key = tls.key;
    if (tls?.rejectUnauthorized !== undefined) tlsOpts.rejectUnauthorized = tls.rejectUnauthorized;
    tlsKey = `|${sni ?? ''}|${tls?.rejectUnauthorized ?? true}|${idOf(tls?.ca)}|${idOf(tls?.cert)}|${idOf(tls?.key)}`;
  }
  const origin = `${u.protocol}//${u.host}`;
  const t: Target = {
    pool: { key: `${u.protocol}//${hostname}:${port}${tlsKey}`, host: hostname, port, tls: tlsOpts },
    path: `${u.pathname}${u.search}`,
    host: u.host,
    origin,
    href,
    auth,
  };
  if (key !== null) {
    if (targetCache.size >= 512) targetCache.clear();
    targetCache.set(key, t);
  }
  return t;
}

const ids = new Map<unknown, number>();
// Ids only grow: after the map is cleared a new TLS object must never get an id that a live pool's key
// still holds (that pool's connections were verified with, or authenticate as, something else).
let nextId = 0;
function idOf(v: unknown): number {
  if (v === undefined) return 0;
  let id = ids.get(v);
  if (id === undefined) {
    if (ids.size >= 1000) ids.clear();
    ids.set(v, (id = ++nextId));
  }
  return id;
}

function normalizeHeaders(h: RequestHeaders | undefined): [string, string][] {
  const out: [string, string][] = [];
  if (h === undefined) return out;
  const add = (name: string, value: unknown) => {
    if (value === undefined) return;
    if (!TOKEN.test(name))
      throw new HttpError('ERR_INVALID_HEADER', `invalid header name ${JSON.stringify(name)}`);
    if (Array.isArray(value)) {
      for (const v of value) add(name, v);
      return;
    }
    const v = String(value);
    if (BAD_VALUE.test(v)) {
      throw new HttpError(
        'ERR_INVALID_HEADER',
        `invalid value for header ${name}: ${fieldForMessage(name, v)}`,
      );
    }
    // OWS only: String#trim would also strip U+00A0, which is data in a field value.
    out.push([name, trimOws(v)]);
  };
  if (typeof (h as Headers).forEach === 'function' && !Array.isArray(h)) {
    for (const [k, v] of (h as Headers).entries()) add(k, v);
  } else if (Array.isArray(h)) {
    for (const pair of h as ReadonlyArray<readonly [string, string]>) add(pair[0], pair[1]);
  } else {
    for (const k of Object.keys(h)) add(k, (h as Record<string, unknown>)[k]);
  }
  return out;
}

/**
 * Sends an HTTP/1.1 request and resolves with the response head; the body streams afterwards.
 *
 * @param url - an `http:` or `https:` URL.
 * @param options - method, headers, body, timeouts, limits, redirects, agent, TLS.
 * @returns the response; read or dispose its body to free the connection.
 * @throws {@link HttpError} with codes `ERR_INVALID_URL`, `ERR_UNSUPPORTED_PROTOCOL`, `ERR_INVALID_HEADER`,
 *   `ERR_CONNECT_TIMEOUT`, `ERR_HEADERS_TIMEOUT`, `ERR_TOTAL_TIMEOUT`, `ERR_ABORTED`, `ERR_HTTP_PARSE`,
 *   `ERR_HEADERS_OVERFLOW`, `ERR_PREMATURE_CLOSE`, `ERR_RESPONSE_TOO_LARGE`, `ERR_TOO_MANY_REDIRECTS`,
 *   `ERR_CONTENT_LENGTH_MISMATCH`, `ERR_UNSUPPORTED_CONTENT_ENCODING`; no message or cause shows URL credentials;
 *   Node socket errors (`ECONNREFUSED`, …) pass through.
 * @example
 * ```ts
 * const res = await request('http://127.0.0.1:8080/items', {
 *   method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}',
 * });
 * console.log(res.status, await res.body.json());
 * ```
 */
export async function request(url: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal);
  let method = options.method === undefined ? 'GET' : options.method.toUpperCase();
  if (!TOKEN.test(method)) throw new TypeError(`invalid method ${JSON.stringify(options.method)}`);
  let target = resolveTarget(url, options.tls);
  const agent = options.agent ?? getGlobalAgent();
  let headers = withUrlAuth(normalizeHeaders(options.headers), target);
  let body = normalizeBody(options.body);
  const timeouts = options.timeouts ?? {};
  const total = timeouts.total ?? 0;
  const totalDeadline = total > 0 ? Date.now() + total : 0;
  const maxRedirects = options.maxRedirects ?? 0;
  const decompress = options.decompress ?? false;
  const policy = options.retry === undefined ? null : retryPolicy(options.retry);
  const socketPath = options.socketPath;
  const routed = agent.routed || socketPath !== undefined;
  let redirects = 0;
  for (;;) {
    const route: Route | null = routed ? agent.route(target.pool, socketPath) : null;
    const spec: ExchangeSpec = {
      method,
      url: target.href,
      origin: target.origin,
      head: buildHead(
        method,
        target,
        headers,
        body.length,
        body.body !== null && body.length === null,
        decompress,
        route,
      ),
      headAscii: true,
      body: body.body,
      chunked: false,
      declaredLength: null,
      retryable: IDEMPOTENT.has(method) && body.replayable,
      maxHeaderSize: options.maxHeaderSize ?? 16384,
      maxResponseSize: options.maxResponseSize ?? Number.POSITIVE_INFINITY,
      allowObsFold: options.allowObsFold ?? false,
      decompress,
      connectTimeout: timeouts.connect ?? 10_000,
      headersTimeout: timeouts.headers ?? 30_000,
      bodyTimeout: timeouts.body ?? 30_000,
      totalDeadline,
      totalTimeout: total,
      signal,
      redirected: redirects > 0,
      uploadTotal: body.length,
      onUploadProgress: options.onUploadProgress,
      onDownloadProgress: options.onDownloadProgress,
    };
    spec.headAscii = !NON_ASCII.test(spec.head);
    if (body.body !== null && body.length === null) {
      spec.declaredLength = declaredLength(headers);
      spec.chunked = spec.declaredLength === null;
      spec.uploadTotal = spec.declaredLength;
    }
    // The signal may have fired while the previous redirect's body was drained: its 'abort' event is gone.
    if (signal?.aborted) throw abortError(signal);
    const pool = route === null ? target.pool : route.pool;
    const res =
      policy !== null && policy.retries > 0 && body.replayable && policy.methods.has(method)
        ? await sendWithRetries(agent, pool, spec, policy)
        : await send(agent, pool, spec);
    if (maxRedirects === 0 || !REDIRECTS.has(res.status)) return res;
    const location = res.headers.get('location');
    if (location === null) return res;
    const toGet =
      (res.status === 303 && method !== 'HEAD') ||
      ((res.status === 301 || res.status === 302) && method === 'POST');
    // The method and body are kept (307/308, and 301/302 for anything but POST): a spent stream cannot
    // be sent again, so hand the 3xx to the caller.
    if (!toGet && !body.replayable) return res;
    if (redirects >= maxRedirects) {
      await res.body.discard();
      throw new HttpError(
        'ERR_TOO_MANY_REDIRECTS',
        `more than ${maxRedirects} redirects, last to ${redactUrl(location)}`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, target.href);
    } catch (err) {
      await res.body.discard();
      throw new HttpError(
        'ERR_INVALID_URL',
        `invalid redirect location ${JSON.stringify(redactUrl(location))}`,
        { cause: redactedUrlCause(err, location) },
      );
    }
    await res.body.discard();
    const nextTarget = resolveTarget(next, options.tls);
    if (toGet) {
      method = 'GET';
      body = normalizeBody(null);
      headers = headers.filter(([n]) => !/^content-/i.test(n));
    }
    if (nextTarget.origin !== target.origin) {
      headers = headers.filter(([n]) => {
        const l = n.toLowerCase();
        return l !== 'authorization' && l !== 'cookie' && l !== 'proxy-authorization' && l !== 'host';
      });
    }
    headers = withUrlAuth(headers, nextTarget);
    target = nextTarget;
    redirects++;
  }
}

function send(agent: Agent, pool: PoolKey, spec: ExchangeSpec): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    agent.dispatch(pool, new Exchange(spec, resolve, reject));
  });
}

/** Attempts until one is not retryable, the retries are spent, or the next wait would pass the total deadline. */
async function sendWithRetries(
  agent: Agent,
  pool: PoolKey,
  spec: ExchangeSpec,
  p: RetryPolicy,
): Promise<HttpResponse> {
  for (let attempt = 1; ; attempt++) {
    let res: HttpResponse | null = null;
    let error: unknown = null;
    try {
      res = await send(agent, pool, spec);
    } catch (err) {
      error = err;
    }
    const last = attempt > p.retries;
    let delay: number;
    if (res !== null) {
      if (last || !p.statusCodes.has(res.status)) return res;
      const after = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      delay = after === null ? backoff(p, attempt) : Math.min(after, p.maxDelay);
      if (!fitsDeadline(spec, delay)) return res;
      p.onRetry?.({ attempt: attempt + 1, delay, statusCode: res.status });
      await res.body.discard();
    } else {
      const code = errorCode(error);
      if (
        last ||
        code === undefined ||
        code === 'ERR_ABORTED' ||
        code === 'ERR_TOTAL_TIMEOUT' ||
        !p.errorCodes.has(code) ||
        spec.signal?.aborted === true
      )
        throw error;
      delay = backoff(p, attempt);
      if (!fitsDeadline(spec, delay)) throw error;
      p.onRetry?.({ attempt: attempt + 1, delay, error: error as Error });
    }
    await sleep(delay, spec.signal);
  }
}

function fitsDeadline(spec: ExchangeSpec, delay: number): boolean {
  return spec.totalDeadline === 0 || Date.now() + delay < spec.totalDeadline;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Adds the URL's credentials as `Authorization`, unless the caller set one. */
function withUrlAuth(headers: [string, string][], target: Target): [string, string][] {
  if (target.auth === null || headers.some(([n]) => n.toLowerCase() === 'authorization')) return headers;
  return [...headers, ['authorization', target.auth]];
}

/** The caller's Content-Length for a stream body: plain digits, every repeat equal, or `ERR_INVALID_HEADER`. */
function declaredLength(headers: [string, string][]): number | null {
  let out: number | null = null;
  for (const [n, v] of headers) {
    if (n.toLowerCase() !== 'content-length') continue;
    const len = /^[0-9]{1,15}$/.test(v) ? Number(v) : -1;
    if (len < 0 || (out !== null && out !== len)) {
      throw new HttpError(
        'ERR_INVALID_HEADER',
        `invalid content-length for a stream body: ${JSON.stringify(v)}`,
      );
    }
    out = len;
  }
  return out;
}

function buildHead(
  method: string,
  t: Target,
  headers: [string, string][],
  length: number | null,
  stream: boolean,
  decompress: boolean,
  route: Route | null,
): string {
  let head = '';
  let host = false;
  let proxyAuth = false;
  let acceptEncoding = false;
  let userLength: string | null = null;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const l = name.toLowerCase();
    if (CONTROLLED.has(l)) {
      if (l === 'content-length') userLength = value;
      continue;
    }
    if (l === 'host') host = true;
    else if (l === 'accept-encoding') acceptEncoding = true;
    else if (l === 'proxy-authorization') proxyAuth = true;
    head += `${name}: ${value}\r\n`;
  }
  // A forward proxy takes the absolute URL (no userinfo, no fragment) and its own credentials.
  const path = route?.absolute === true ? `${t.origin}${t.path}` : t.path;
  if (route?.proxyAuth != null && route.absolute && !proxyAuth)
    head += `Proxy-Authorization: ${route.proxyAuth}\r\n`;
  head = host
    ? `${method} ${path} HTTP/1.1\r\n${head}`
    : `${method} ${path} HTTP/1.1\r\nHost: ${t.host}\r\n${head}`;
  if (decompress && !acceptEncoding) head += 'Accept-Encoding: gzip, deflate, br\r\n';
  if (stream)
    head += userLength !== null ? `Content-Length: ${userLength}\r\n` : 'Transfer-Encoding: chunked\r\n';
  else if (
    length !== null &&
    (length > 0 || (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && method !== 'DELETE'))
  ) {
    head += `Content-Length: ${length}\r\n`;
  }
  return `${head}\r\n`;
}

/**
 * Sends a GET request.
 * @param url - the URL.
 * @param options - as for {@link request} (method is forced to GET).
 * @returns the response.
 * @throws as {@link request}.
 * @example
 * ```ts
 * const text = await (await get('http://127.0.0.1:8080/')).body.text();
 * ```
 */
export function get(
  url: string | URL,
  options: Omit<RequestOptions, 'method' | 'body'> = {},
): Promise<HttpResponse> {
  return request(url, { ...options, method: 'GET' });
}

/**
 * Sends a POST request with a body.
 * @param url - the URL.
 * @param body - the request body.
 * @param options - as for {@link request}.
 * @returns the response.
 * @throws as {@link request}.
 * @example
 * ```ts
 * const res = await post('http://127.0.0.1:8080/echo', 'hello', { headers: { 'content-type': 'text/plain' } });
 * ```
 */
export function post(
  url: string | URL,
  body: RequestBody,
  options: Omit<RequestOptions, 'method' | 'body'> = {},
): Promise<HttpResponse> {
  return request(url, { ...options, method: 'POST', body });
}
