import type { Route } from '../agent.js';
import { HttpError } from '../errors.js';
import type { RequestHeaders } from '../request.js';
import { trimOws } from '../response-parser.js';
import { fieldForMessage } from './redact.js';
import type { Target } from './target.js';

// Request fields: validated once, then serialized with the request line into one head string.

export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text; no other control character (as node:http and undici).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
export const NON_ASCII = /[^\0-\x7f]/;
const CONTROLLED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

export function normalizeHeaders(h: RequestHeaders | undefined): [string, string][] {
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

/** The caller's Content-Length for a stream body: plain digits, every repeat equal, or `ERR_INVALID_HEADER`. */
export function declaredLength(headers: [string, string][]): number | null {
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

export function buildHead(
  method: string,
  t: Target,
  headers: [string, string][],
  length: number | null,
  stream: boolean,
  route: Route | null,
): string {
  let head = '';
  let host = false;
  let proxyAuth = false;
  let userLength: string | null = null;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const l = name.toLowerCase();
    if (CONTROLLED.has(l)) {
      if (l === 'content-length') userLength = value;
      continue;
    }
    if (l === 'host') host = true;
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
