import type { Agent } from './agent.js';
import { HttpError } from './errors.js';
import { REDIRECTS } from './internal/redirect.js';
import { type RequestBody, type RequestOptions, request } from './request.js';
import type { HttpResponse } from './response.js';

/** `fetch()`'s init: the WHATWG `RequestInit` plus the http-lite agent to send through. */
export interface FetchInit extends RequestInit {
  /** Connection pool (proxy, Unix socket, limits). @default the global agent */
  agent?: Agent | undefined;
  /** Required (`'half'`) for a stream body, as in the spec. */
  duplex?: 'half' | undefined;
}

/** What `RequestInit.body` accepts (the DOM's `BodyInit`, which Node's globals do not name). */
type BodyInit = NonNullable<RequestInit['body']>;

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/**
 * A WHATWG `fetch` on http-lite's pools: resolves with the global `Response`, its body streamed from the
 * connection. `redirect` (`'follow'` up to 20, `'manual'` returns the 3xx, `'error'` rejects on one), `signal`,
 * `duplex: 'half'` for stream bodies, and decoding of gzip/deflate/br as browsers do. The README lists where it
 * differs from the spec (no CORS, no cache, no cookies, ...).
 *
 * @param input - a URL or a `Request`.
 * @param init - the request init; `agent` chooses the pool.
 * @returns the response, once its head has arrived.
 * @throws `TypeError` ("fetch failed", the cause says why) for network and protocol errors, as the spec's
 *   network error; the signal's reason when aborted; `TypeError` for an invalid request (GET with a body, a stream
 *   body without `duplex: 'half'`).
 * @example
 * ```ts
 * const res = await fetch('http://127.0.0.1:8080/items', { method: 'POST', body: JSON.stringify({ a: 1 }) });
 * console.log(res.status, await res.json());
 * ```
 */
export async function fetch(input: string | URL | Request, init: FetchInit = {}): Promise<Response> {
  const isRequest = typeof input === 'object' && input !== null && !(input instanceof URL) && 'url' in input;
  const req = isRequest ? (input as Request) : null;
  const url = req === null ? (input as string | URL) : req.url;
  const signal = init.signal ?? req?.signal ?? undefined;
  if (signal?.aborted) throw signal.reason;
  const rawMethod = init.method ?? req?.method ?? 'GET';
  // The spec upper-cases only these six; http-lite sends every method upper-case (see the README).
  const method = NORMALIZED.has(rawMethod.toUpperCase()) ? rawMethod.toUpperCase() : rawMethod;
  const headers = new Headers(init.headers ?? req?.headers);
  const redirect = init.redirect ?? req?.redirect ?? 'follow';
  if (redirect !== 'follow' && redirect !== 'manual' && redirect !== 'error')
    throw new TypeError(`invalid redirect mode ${JSON.stringify(redirect)}`);
  let body: RequestBody = null;
  const source = init.body !== undefined ? init.body : req?.body != null ? await req.arrayBuffer() : null;
  if (source !== null && source !== undefined) {
    if (method === 'GET' || method === 'HEAD')
      throw new TypeError('request with GET/HEAD method cannot have body');
    const extracted = await extract(source as BodyInit | AsyncIterable<Uint8Array>, init.duplex);
    body = extracted.body;
    if (extracted.type !== null && !headers.has('content-type')) headers.set('content-type', extracted.type);
  }
  if (!headers.has('accept')) headers.set('accept', '*/*');
  const options: RequestOptions = {
    method,
    headers,
    body,
    signal: signal ?? undefined,
    agent: init.agent,
    decompress: true,
    maxRedirects: redirect === 'follow' ? 20 : 0,
  };
  let res: HttpResponse;
  try {
    res = await request(url, options);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (err instanceof TypeError) throw err; // an invalid request (e.g. a method that is not a token)
    throw new TypeError('fetch failed', { cause: err });
  }
  if (redirect === 'error' && REDIRECTS.has(res.status)) {
    await res.body.discard();
    throw new TypeError('fetch failed', {
      cause: new HttpError('ERR_TOO_MANY_REDIRECTS', `redirect: 'error' and the response is a ${res.status}`),
    });
  }
  if (res.status < 200 || res.status > 599) {
    await res.body.discard();
    throw new TypeError('fetch failed', {
      cause: new HttpError('ERR_HTTP_PARSE', `status ${res.status} cannot be a fetch Response`),
    });
  }
  const out = new Headers();
  for (const [name, value] of res.rawHeaders) out.append(name, value);
  let stream: ReadableStream<Uint8Array> | null = null;
  if (method === 'HEAD' || NULL_BODY.has(res.status)) await res.body.discard();
  else stream = toWebStream(res, signal);
  const response = new Response(stream, { status: res.status, statusText: res.statusText, headers: out });
  // `url` and `redirected` are read-only getters on Response.prototype: own properties shadow them.
  Object.defineProperty(response, 'url', { value: res.url, enumerable: true });
  Object.defineProperty(response, 'redirected', { value: res.redirected, enumerable: true });
  return response;
}

/** The spec's "extract a body": bytes and a default Content-Type, or a stream with `duplex: 'half'`. */
async function extract(
  source: BodyInit | AsyncIterable<Uint8Array>,
  duplex: 'half' | undefined,
): Promise<{ body: RequestBody; type: string | null }> {
  if (typeof source === 'string') return { body: source, type: 'text/plain;charset=UTF-8' };
  if (source instanceof ArrayBuffer) return { body: new Uint8Array(source), type: null };
  if (ArrayBuffer.isView(source))
    return { body: new Uint8Array(source.buffer, source.byteOffset, source.byteLength), type: null };
  const isStream =
    typeof (source as ReadableStream).getReader === 'function' ||
    typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function';
  if (isStream) {
    if (duplex !== 'half')
      throw new TypeError("RequestInit: duplex option is required when sending a stream body ('half')");
    return { body: source as RequestBody, type: null };
  }
  // Blob, FormData, URLSearchParams: serialized exactly as the platform does (multipart boundary included).
  const r = new Response(source as BodyInit);
  return { body: new Uint8Array(await r.arrayBuffer()), type: r.headers.get('content-type') };
}

function toWebStream(res: HttpResponse, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  const it = res.body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const r = await it.next();
          if (r.done === true) controller.close();
          else controller.enqueue(r.value);
        } catch (err) {
          controller.error(signal?.aborted ? signal.reason : new TypeError('terminated', { cause: err }));
        }
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
