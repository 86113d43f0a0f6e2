import type { Dispatch, DispatchRequest, Layer } from './dispatch.js';
import { HttpError } from './errors.js';
import { cookieLayer } from './internal/cookies.js';
import { coreDispatch } from './internal/core-dispatch.js';
import { decompressLayer } from './internal/decompress-layer.js';
import {
  type ConnectFunction,
  customDialer,
  type Dialer,
  forwardDialer,
  type PoolKey,
  type ProxyConfig,
  parseProxy,
  tunnelDialer,
  unixDialer,
} from './internal/dial.js';
import type { Exchange } from './internal/exchange.js';
import { type NoProxy, readEnvProxy } from './internal/no-proxy.js';
import { Pool } from './internal/pool.js';
import { redirectLayer } from './internal/redirect.js';
import { retryLayer } from './internal/retry-layer.js';
import type { RequestTlsOptions } from './request.js';
import type { HttpResponse } from './response.js';

export type { ConnectFunction, ConnectTarget } from './internal/dial.js';

/** Options of {@link Agent}. */
export interface AgentOptions {
  /** Most connections per origin; further requests queue. @default Infinity */
  connections?: number | undefined;
  /** How long an idle connection stays in the pool, in ms (capped by the server's `Keep-Alive: timeout=` hint minus {@link AgentOptions.keepAliveMargin}). @default 4000 */
  keepAliveTimeout?: number | undefined;
  /** Safety margin subtracted from the server's keep-alive hint, in ms. @default 1000 */
  keepAliveMargin?: number | undefined;
  /**
   * Send every request over this Unix domain socket (the URL still gives the `Host` and, for `https:`, the
   * TLS name), e.g. `/var/run/docker.sock`. Excludes `connect` and `proxy`. @default none (TCP)
   */
  socketPath?: string | undefined;
  /**
   * Opens each new connection yourself (an SSH channel, an in-memory pair, a `DuplexTransport` over any
   * Duplex). For `https:` the transport you return must already speak TLS (`target.tls` holds the options
   * to use). Excludes `socketPath` and `proxy`. @default none (TCP or TLS to the URL's host and port)
   */
  connect?: ConnectFunction | undefined;
  /**
   * An `http://[user:pass@]host:port` or `https://…` forward proxy: `http:` requests go to it in absolute-form,
   * `https:` ones through a `CONNECT host:port` tunnel, then TLS to the origin (its certificate checked against the
   * origin's name). With `https://` the connection to the proxy is TLS too, its certificate checked against the
   * proxy's host (see {@link AgentOptions.proxyTls}); the origin's TLS then runs inside it. Credentials are sent
   * as `Proxy-Authorization: Basic`. `'env'` reads `http_proxy`, `https_proxy` and `no_proxy` (or upper-case)
   * once, now, with curl's `no_proxy` rules. Excludes `socketPath` and `connect`.
   * @default none (direct)
   */
  proxy?: string | URL | undefined;
  /**
   * TLS options for an `https://` proxy itself (`ca` to trust, `servername` to check its certificate against
   * instead of its host, client `cert`/`key`, `rejectUnauthorized`). The origin's are the request's `tls`.
   * @default Node's bundled roots, the proxy URL's host
   */
  proxyTls?: RequestTlsOptions | undefined;
  /**
   * Your own {@link Layer}s, first one outermost, composed around the built-in ones (redirects, cookies,
   * retries, decompression, in that order around the connection pools): each runs once per request of this
   * agent (fetch's included) and sees the final response. @default none
   */
  layers?: readonly Layer[] | undefined;
}

/** The built-in layers, outermost first: each hop of a redirect gets cookies, retries and decoding of its own. */
const BUILT_IN: readonly Layer[] = [redirectLayer, cookieLayer, retryLayer, decompressLayer];

/** @internal How a request reaches its target through an agent. */
export interface Route {
  pool: PoolKey;
  /** Send the request line in absolute-form (`GET http://host/path`): a forward proxy. */
  absolute: boolean;
  /** `Proxy-Authorization` for absolute-form requests. */
  proxyAuth: string | null;
}

interface ProxyRouting {
  http: ProxyConfig | null;
  https: ProxyConfig | null;
  httpDial: Dialer | null;
  httpsDial: Dialer | null;
  noProxy: NoProxy | null;
}

/**
 * Keeps per-origin pools of keep-alive connections. Sequential requests to one origin reuse one
 * connection; idle connections that the server closed or that receive stray bytes are never handed out.
 *
 * @example
 * ```ts
 * const agent = new Agent({ connections: 8, keepAliveTimeout: 10_000 });
 * const res = await get('http://127.0.0.1:8080/', { agent });
 * await res.body.dump();
 * await agent.close();
 * ```
 */
export class Agent {
  /** Most connections per origin. */
  readonly connections: number;
  /** Idle time before a pooled connection is closed, in ms. */
  readonly keepAliveTimeout: number;
  /** Margin subtracted from the server's keep-alive hint, in ms. */
  readonly keepAliveMargin: number;
  /** @internal Set when requests need {@link Agent.route} (socketPath, connect or proxy). */
  readonly routed: boolean;
  #socketDial: Dialer | null = null;
  #socketPath: string | null = null;
  #connectDial: Dialer | null = null;
  #proxy: ProxyRouting | null = null;
  #routes = new Map<string, Route>();
  #pools = new Map<string, Pool>();
  #closeWaiters: (() => void)[] = [];
  readonly #dispatch: Dispatch;
  /** @internal `close()` or `destroy()` was called. */
  closing = false;
  /** @internal `destroy()` was called. */
  destroyed = false;

  /**
   * @param options - connection limit, keep-alive timing, Unix socket, custom connect, proxy, layers.
   * @throws `RangeError` when `connections` is below 1; `TypeError` when more than one of `socketPath`,
   *   `connect`, `proxy` is set or a layer is not a function; {@link HttpError} `ERR_INVALID_URL` /
   *   `ERR_UNSUPPORTED_PROTOCOL` for a bad proxy URL.
   */
  constructor(options: AgentOptions = {}) {
    this.connections = options.connections ?? Number.POSITIVE_INFINITY;
    this.keepAliveTimeout = options.keepAliveTimeout ?? 4000;
    this.keepAliveMargin = options.keepAliveMargin ?? 1000;
    if (!(this.connections >= 1))
      throw new HttpError('ERR_INVALID_ARGUMENT', `connections must be >= 1, got ${this.connections}`);
    const { socketPath, connect, proxy } = options;
    const set =
      (socketPath !== undefined ? 1 : 0) + (connect !== undefined ? 1 : 0) + (proxy !== undefined ? 1 : 0);
    if (set > 1)
      throw new HttpError('ERR_INVALID_ARGUMENT', 'Agent takes at most one of socketPath, connect and proxy');
    if (socketPath !== undefined) {
      this.#socketPath = socketPath;
      this.#socketDial = unixDialer(socketPath);
    } else if (connect !== undefined) {
      if (typeof connect !== 'function')
        throw new HttpError('ERR_INVALID_ARGUMENT', 'connect must be a function');
      this.#connectDial = customDialer(connect);
    } else if (proxy !== undefined) {
      this.#proxy = proxyRouting(proxy, options.proxyTls);
    }
    this.routed = set > 0;
    const layers = [...(options.layers ?? []), ...BUILT_IN];
    let dispatch = coreDispatch(this);
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i];
      if (typeof layer !== 'function')
        throw new HttpError('ERR_INVALID_ARGUMENT', `layers[${i}] must be a function, got ${typeof layer}`);
      dispatch = layer(dispatch);
      if (typeof dispatch !== 'function')
        throw new HttpError('ERR_INVALID_ARGUMENT', `layers[${i}] must return a dispatch function`);
    }
    this.#dispatch = dispatch;
  }

  /** @internal Sends `req` through this agent's layers (what `request()` calls). */
  send(req: DispatchRequest): Promise<HttpResponse> {
    return this.#dispatch(req);
  }

  /**
   * @internal Where a request for `pool` goes: over `socketPath` (a request's own wins), the agent's
   * Unix socket or connect function, through its proxy, or direct. Cached per pool key.
   */
  route(pool: PoolKey, socketPath: string | undefined): Route {
    const ck = socketPath === undefined ? pool.key : `${pool.key}\0${socketPath}`;
    let r = this.#routes.get(ck);
    if (r !== undefined) return r;
    if (socketPath !== undefined) r = viaDial(pool, `unix:${socketPath}`, unixDialer(socketPath));
    else if (this.#socketDial !== null) r = viaDial(pool, `unix:${this.#socketPath}`, this.#socketDial);
    else if (this.#connectDial !== null) r = viaDial(pool, 'connect', this.#connectDial);
    else r = this.#viaProxy(pool);
    if (this.#routes.size >= 512) this.#routes.clear();
    this.#routes.set(ck, r);
    return r;
  }

  #viaProxy(pool: PoolKey): Route {
    const p = this.#proxy;
    const secure = pool.tls !== null;
    const px = p === null ? null : secure ? p.https : p.http;
    if (p === null || px === null || p.noProxy?.matches(pool.host, pool.port) === true)
      return { pool, absolute: false, proxyAuth: null };
    const via = `proxy ${px.href}`;
    // https: one tunnel per origin; http: every origin shares the proxy's connections (absolute-form).
    if (secure) return viaDial(pool, via, p.httpsDial!);
    return {
      pool: { key: via, host: px.host, port: px.port, tls: null, dial: p.httpDial!, via },
      absolute: true,
      proxyAuth: px.auth,
    };
  }

  /** @internal Sends an exchange on a pooled connection (the innermost dispatch's last step). */
  enqueue(target: PoolKey, ex: Exchange): void {
    if (this.closing) {
      ex.fail(new HttpError('ERR_AGENT_CLOSED', 'agent is closed'));
      return;
    }
    let pool = this.#pools.get(target.key);
    if (pool === undefined) {
      pool = new Pool(this, target);
      this.#pools.set(target.key, pool);
    }
    pool.dispatch(ex, false);
  }

  /** @internal */
  dropPool(key: string, pool: Pool): void {
    if (this.#pools.get(key) === pool) this.#pools.delete(key);
    if (this.#pools.size === 0 && this.#closeWaiters.length > 0) {
      const w = this.#closeWaiters;
      this.#closeWaiters = [];
      for (const r of w) r();
    }
  }

  /**
   * Open connections per origin, idle ones included (for monitoring and tests).
   * @returns a map from pool key (`http://host:port`) to `{ open, idle, queued }`.
   */
  stats(): Map<string, { open: number; idle: number; queued: number }> {
    const out = new Map<string, { open: number; idle: number; queued: number }>();
    for (const [k, p] of this.#pools)
      out.set(k, { open: p.open, idle: p.idle.length, queued: p.queue.length });
    return out;
  }

  /**
   * Stops accepting requests, closes idle connections and closes the others once their response ends.
   * @returns a promise that resolves when every connection is closed.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const p of this.#pools.values()) p.closeIdle();
    if (this.#pools.size > 0) await new Promise<void>((r) => this.#closeWaiters.push(r));
  }

  /**
   * Aborts every connection and queued request now.
   * @param err - the error queued/in-flight requests fail with. @default ERR_ABORTED
   * @returns nothing.
   */
  destroy(err: HttpError = new HttpError('ERR_ABORTED', 'agent destroyed')): void {
    this.closing = true;
    this.destroyed = true;
    for (const p of [...this.#pools.values()]) p.destroyAll(err);
  }
}

function viaDial(pool: PoolKey, via: string, dial: Dialer): Route {
  return { pool: { ...pool, key: `${pool.key}|${via}`, dial, via }, absolute: false, proxyAuth: null };
}

function proxyRouting(proxy: string | URL, tls: RequestTlsOptions | undefined): ProxyRouting {
  if (proxy === 'env') {
    const env = readEnvProxy();
    const http = env.http === undefined ? null : parseProxy(env.http, tls);
    const https = env.https === undefined ? null : parseProxy(env.https, tls);
    return {
      http,
      https,
      httpDial: http === null ? null : forwardDialer(http),
      httpsDial: https === null ? null : tunnelDialer(https),
      noProxy: env.noProxy,
    };
  }
  const px = parseProxy(proxy, tls);
  return { http: px, https: px, httpDial: forwardDialer(px), httpsDial: tunnelDialer(px), noProxy: null };
}

let globalAgent = new Agent();

/**
 * The agent used when a request names none.
 * @returns the global agent.
 * @example
 * ```ts
 * console.log(getGlobalAgent().stats());
 * ```
 */
export function getGlobalAgent(): Agent {
  return globalAgent;
}

/**
 * Replaces the global agent (the old one is not closed).
 * @param agent - the new default agent.
 * @returns nothing.
 * @throws `TypeError` when `agent` is not an {@link Agent}.
 * @example
 * ```ts
 * setGlobalAgent(new Agent({ connections: 16 }));
 * ```
 */
export function setGlobalAgent(agent: Agent): void {
  if (!(agent instanceof Agent))
    throw new HttpError('ERR_INVALID_ARGUMENT', 'setGlobalAgent expects an Agent');
  globalAgent = agent;
}
