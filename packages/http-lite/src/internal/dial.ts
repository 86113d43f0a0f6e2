import { isIP, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { StreamsError, TimeoutError } from '@asyncnet/streams';
import {
  openTransport,
  openUnixTransport,
  SocketTransport,
  type StreamTransport,
} from '@asyncnet/streams/adapter';
import { HttpError } from '../errors.js';
import type { RequestTlsOptions } from '../request.js';
import { ResponseParser } from '../response-parser.js';
import { basicAuth, redactedUrlCause, redactUrl } from './redact.js';

/** Where a pool's connections go, as a custom `connect` function receives it. */
export interface ConnectTarget {
  /** `'http:'` or `'https:'`. */
  protocol: 'http:' | 'https:';
  /** Host name or IP literal (no brackets) of the origin. */
  hostname: string;
  /** Port of the origin. */
  port: number;
  /** For `https:`, the TLS options the handshake must use (servername, ca, ALPN, ...); `null` for `http:`. */
  tls: ConnectionOptions | null;
}

/**
 * Opens a connection for a pool; for `https:` the returned transport must already speak TLS.
 * The signal fires on abort, agent destroy and the connect timeout: stop and reject then.
 */
export type ConnectFunction = (target: ConnectTarget, signal: AbortSignal) => Promise<StreamTransport>;

/** @internal Connect parameters of one pool. */
export interface PoolKey {
  key: string;
  host: string;
  port: number;
  tls: ConnectionOptions | null;
  /** How to connect when not plain TCP/TLS to host:port. */
  dial?: Dialer | undefined;
  /** What `dial` connects to, for messages (`unix:/path`, `proxy http://host:port`). */
  via?: string | undefined;
}

/** @internal Opens a transport for a pool key; `timeout` 0 means none. */
export type Dialer = (key: PoolKey, timeout: number, signal: AbortSignal) => Promise<StreamTransport>;

/** @internal A parsed proxy URL: credentials only as the ready header value. */
export interface ProxyConfig {
  host: string;
  port: number;
  /** `http://host:port` or `https://host:port`, without credentials. */
  href: string;
  /** `Basic …` for Proxy-Authorization, or null. */
  auth: string | null;
  /** An `https:` proxy: TLS to the proxy itself with these options (its certificate checked against its host). */
  tls: ConnectionOptions | null;
}

/**
 * @internal Parses a proxy URL: `http:`, or `https:` (TLS to the proxy, checked against its host or
 * `tls.servername`, trusting `tls.ca`); the tunnel to an `https:` origin carries its own TLS inside.
 */
export function parseProxy(input: string | URL, tls?: RequestTlsOptions): ProxyConfig {
  let u: URL;
  try {
    u = typeof input === 'string' ? new URL(input.includes('://') ? input : `http://${input}`) : input;
  } catch (err) {
    const text = String(input);
    throw new HttpError('ERR_INVALID_URL', `invalid proxy url ${JSON.stringify(redactUrl(text))}`, {
      cause: redactedUrlCause(err, text),
    });
  }
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') {
    throw new HttpError(
      'ERR_UNSUPPORTED_PROTOCOL',
      `unsupported proxy protocol ${JSON.stringify(u.protocol)} in ${redactUrl(u.href)} (only http: and https: proxies)`,
    );
  }
  if (u.hostname === '')
    throw new HttpError('ERR_INVALID_URL', `proxy url has no host: ${redactUrl(u.href)}`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  const auth = u.username !== '' || u.password !== '' ? basicAuth(u.username, u.password) : null;
  let tlsOpts: ConnectionOptions | null = null;
  if (secure) {
    // `host` is what Node checks the certificate against when there is no servername (IP literals).
    tlsOpts = { host, ALPNProtocols: ['http/1.1'] };
    const sni = tls?.servername ?? (isIP(host) === 0 ? host : undefined);
    if (sni !== undefined) tlsOpts.servername = sni;
    if (tls?.ca !== undefined) tlsOpts.ca = tls.ca;
    if (tls?.cert !== undefined) tlsOpts.cert = tls.cert;
    if (tls?.key !== undefined) tlsOpts.key = tls.key;
    if (tls?.rejectUnauthorized !== undefined) tlsOpts.rejectUnauthorized = tls.rejectUnauthorized;
  }
  return { host, port, href: `${u.protocol}//${u.host}`, auth, tls: tlsOpts };
}

/** @internal Connects to a Unix socket (TLS over it for https). */
export function unixDialer(path: string): Dialer {
  return (k, timeout, signal) =>
    openUnixTransport(path, {
      timeout: timeout || undefined,
      // `host` is what the certificate is checked against when there is no servername (IP literals).
      tls: k.tls === null ? undefined : { host: k.host, ...k.tls },
      signal,
    });
}

/** @internal Runs a user's connect function under the connect timeout and signal. */
export function customDialer(connect: ConnectFunction): Dialer {
  return (k, timeout, signal) =>
    withDeadline(timeout, signal, `${k.host}:${k.port}`, (inner) =>
      connect(
        { protocol: k.tls === null ? 'http:' : 'https:', hostname: k.host, port: k.port, tls: k.tls },
        inner,
      ),
    );
}

/** @internal TCP (or TLS, for an https: proxy) to the proxy: http:// requests go to it in absolute-form. */
export function forwardDialer(proxy: ProxyConfig): Dialer {
  if (proxy.tls !== null) {
    return (_k, timeout, signal) =>
      withDeadline(timeout, signal, `proxy ${proxy.href}`, async (inner) => {
        return new SocketTransport(await tlsToProxy(proxy, inner), { host: proxy.host });
      });
  }
  return (_k, timeout, signal) =>
    openTransport(proxy.host, proxy.port, { timeout: timeout || undefined, noDelay: true, signal });
}

/** @internal `CONNECT host:port` through the proxy, then TLS to the origin (checked against its name). */
export function tunnelDialer(proxy: ProxyConfig): Dialer {
  if (proxy.tls !== null) return tlsTunnelDialer(proxy);
  return (k, timeout, signal) =>
    withDeadline(timeout, signal, `${k.host}:${k.port} through proxy ${proxy.href}`, async (inner) => {
      const t = await openTransport(proxy.host, proxy.port, { noDelay: true, signal: inner });
      try {
        await connectTunnel(transportIo(t), proxy, k, inner);
        if (k.tls !== null)
          await t.startTls({ host: k.host, ...k.tls, signal: inner, handshakeTimeout: 0x7fffffff });
        return t;
      } catch (err) {
        t.abort();
        throw err;
      }
    });
}

/**
 * An https: proxy's tunnel: TLS to the proxy, `CONNECT` inside it, then the origin's TLS inside that (the
 * core's transport does not nest TLS, so both handshakes run on Node sockets and the transport gets the inner one).
 */
function tlsTunnelDialer(proxy: ProxyConfig): Dialer {
  return (k, timeout, signal) =>
    withDeadline(timeout, signal, `${k.host}:${k.port} through proxy ${proxy.href}`, async (inner) => {
      const outer = await tlsToProxy(proxy, inner);
      try {
        await connectTunnel(socketIo(outer), proxy, k, inner);
        if (k.tls === null) return new SocketTransport(outer, { host: k.host });
        const origin = await handshake(
          tlsConnect({ host: k.host, ...k.tls, socket: outer }),
          inner,
          (err) =>
            new StreamsError('ERR_TLS_UPGRADE', `tls handshake failed: ${err.message}`, { cause: err }),
        );
        return new SocketTransport(origin, { host: k.host });
      } catch (err) {
        outer.destroy();
        throw err;
      }
    });
}

/**
 * TLS to an https: proxy. A failed handshake (the proxy's certificate refused, …) is `ERR_PROXY_CONNECT`
 * with Node's error as `cause`; a failed TCP connect is Node's error, as for an http: proxy.
 */
function tlsToProxy(proxy: ProxyConfig, signal: AbortSignal): Promise<TLSSocket> {
  // Net options beside the TLS ones, as the core's openTransport passes them.
  const net = { port: proxy.port, noDelay: true, allowHalfOpen: true };
  const socket = tlsConnect({ ...proxy.tls, ...net });
  let tcp = false;
  socket.once('connect', () => {
    tcp = true;
  });
  return handshake(socket, signal, (err) =>
    tcp
      ? new HttpError('ERR_PROXY_CONNECT', `proxy ${proxy.href}: tls handshake failed: ${err.message}`, {
          cause: err,
        })
      : err,
  );
}

/** Resolves once `socket` is secure; destroys it and rejects on an error (mapped by `wrap`) or `signal`. */
function handshake(socket: TLSSocket, signal: AbortSignal, wrap: (err: Error) => Error): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const cleanup = () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('secureConnect', onSecure);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(wrap(err));
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(signal.reason);
    };
    const onSecure = () => {
      cleanup();
      resolve(socket);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    socket.once('error', onError);
    socket.once('secureConnect', onSecure);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** What `connectTunnel` needs of the connection to the proxy. */
interface TunnelIo {
  write(head: string): void;
  listen(l: { data(chunk: Uint8Array): void; eof(): void; closed(error: Error | null): void }): void;
  /** The reply has been read: stop listening (the connection's next owner listens next). */
  release(): void;
}

function transportIo(t: StreamTransport): TunnelIo {
  return {
    write: (head) => t.write(head),
    listen: (l) =>
      t.setListener({
        data: (chunk) => l.data(chunk),
        eof: () => {
          l.eof();
          return false;
        },
        closed: (error) => l.closed(error),
      }),
    // The pool's connection sets its own listener on the transport.
    release: () => {},
  };
}

function socketIo(s: Socket): TunnelIo {
  let off = () => {};
  return {
    write: (head) => void s.write(head),
    listen: (l) => {
      const data = (chunk: Buffer) => l.data(chunk);
      const end = () => l.eof();
      const error = (err: Error) => l.closed(err);
      const close = () => l.closed(null);
      s.on('data', data).on('end', end).on('error', error).on('close', close);
      off = () => s.off('data', data).off('end', end).off('error', error).off('close', close);
    },
    release: () => {
      off();
      // 'data' listeners left the socket flowing: hold its bytes until the next owner reads.
      s.pause();
    },
  };
}

function connectTunnel(io: TunnelIo, proxy: ProxyConfig, k: PoolKey, signal: AbortSignal): Promise<void> {
  const authority = `${isIP(k.host) === 6 ? `[${k.host}]` : k.host}:${k.port}`;
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (proxy.auth !== null) head += `Proxy-Authorization: ${proxy.auth}\r\n`;
  io.write(`${head}\r\n`);
  const parser = new ResponseParser();
  // A 2xx reply to CONNECT has no body (RFC 9110 9.3.6): parse it like a HEAD response.
  parser.prepare(true, 16384, false);
  return new Promise<void>((resolve, reject) => {
    let status = 0;
    let settled = false;
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      io.release();
      // Until the pool's connection takes over, bytes or a close are the connection's business, not ours.
      if (err === null) resolve();
      else reject(err);
    };
    const onAbort = () => done(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const fail = (message: string, cause?: unknown) =>
      done(
        new HttpError('ERR_PROXY_CONNECT', `proxy ${proxy.href}: ${message} (CONNECT ${authority})`, {
          ...(cause === undefined ? {} : { cause }),
          ...(status === 0 ? {} : { statusCode: status }),
        }),
      );
    io.listen({
      data(chunk) {
        if (settled) return;
        let events: ReturnType<ResponseParser['push']>;
        try {
          events = parser.push(chunk);
        } catch (err) {
          fail('invalid reply to CONNECT', err);
          return;
        }
        for (const ev of events) {
          if (ev.type === 'head') {
            status = ev.status;
            // 407 is the proxy's auth challenge; some proxies (tinyproxy) answer a refused CONNECT with 401.
            if (status === 407 || status === 401) {
              done(
                new HttpError(
                  'ERR_PROXY_AUTH_REQUIRED',
                  `proxy ${proxy.href} answered ${status} to CONNECT ${authority}${proxy.auth === null ? ' (no credentials given)' : ' (credentials refused)'}`,
                  { statusCode: status },
                ),
              );
              return;
            }
            if (status < 200 || status > 299) {
              fail(`answered ${status} to CONNECT`);
              return;
            }
          } else if (ev.type === 'end') {
            // The origin speaks only after our TLS hello: bytes already here are not from it.
            if (parser.excess > 0) fail(`sent ${parser.excess} bytes after its ${status} reply`);
            else done(null);
            return;
          }
        }
      },
      eof() {
        fail('closed the connection during CONNECT');
      },
      closed(error) {
        fail(
          error === null
            ? 'closed the connection during CONNECT'
            : `connection lost during CONNECT: ${error.message}`,
          error ?? undefined,
        );
      },
    });
  });
}

/**
 * Runs `fn` with a signal that fires on `signal` or after `timeout` ms (0: never); a timeout rejects
 * with a streams `TimeoutError` (the pool reports it as `ERR_CONNECT_TIMEOUT`). A transport that
 * arrives after the deadline is aborted, so a connect function that ignores its signal leaks nothing.
 */
function withDeadline(
  timeout: number,
  signal: AbortSignal,
  what: string,
  fn: (signal: AbortSignal) => Promise<StreamTransport>,
): Promise<StreamTransport> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal.reason);
  if (signal.aborted) ac.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expired = new TimeoutError(`connect to ${what} timed out after ${timeout} ms`);
  return new Promise<StreamTransport>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const stop = () => {
      finish();
      reject(ac.signal.reason);
    };
    ac.signal.addEventListener('abort', stop, { once: true });
    if (timeout > 0) timer = setTimeout(() => ac.abort(expired), timeout);
    let p: Promise<StreamTransport>;
    try {
      p = fn(ac.signal);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (t) => {
        if (ac.signal.aborted) t.abort();
        else {
          ac.signal.removeEventListener('abort', stop);
          finish();
          resolve(t);
        }
      },
      (err: unknown) => {
        if (ac.signal.aborted) return; // already rejected with the abort/timeout reason
        ac.signal.removeEventListener('abort', stop);
        finish();
        reject(err);
      },
    );
  });
}
