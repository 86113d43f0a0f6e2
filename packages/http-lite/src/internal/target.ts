import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { HttpError } from '../errors.js';
import type { RequestTlsOptions } from '../request.js';
import type { PoolKey } from './dial.js';
import { basicAuth, redactedUrlCause, redactUrl } from './redact.js';

// A request's URL resolved once into what the pool and the head need (cached for string URLs).

export interface Target {
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

export function resolveTarget(input: string | URL, tls: RequestTlsOptions | undefined): Target {
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
  const withAuth = u.username !== '' || u.password !== '';
  const auth = withAuth ? basicAuth(u.username, u.password) : null;
  const href = withAuth ? redactUrl(u.href) : u.href;
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

/** Adds the URL's credentials as `Authorization`, unless the caller set one. */
export function withUrlAuth(headers: [string, string][], target: Target): [string, string][] {
  if (target.auth === null || headers.some(([n]) => n.toLowerCase() === 'authorization')) return headers;
  return [...headers, ['authorization', target.auth]];
}
